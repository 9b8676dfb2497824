/**
 * Guests for the guest-operation tests: processor 0 in VMX non-root operation, controlled by
 * VMCS_A, with the fields the guest operations read written by VMWRITE in VMX root operation
 * (the pin-based, primary and secondary controls where the profile has them, the exception bitmap and #PF mask/match, the
 * CR0/CR4 guest/host masks and read shadows, all 0 unless given), RIP at {@link RIP}, then the
 * processor switched to non-root operation directly (as VM entry would leave it, SDM Vol. 3C,
 * December 2023, §25.1 "Overview"). The processor starts in 64-bit mode at CPL 0 with paging
 * (spec/initial-state.ts).
 */
import { expect } from 'vitest';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Profile } from '../../../spec/profile.ts';
import type { Operation } from '../../../spec/operations.ts';
import { step } from '../../../model/index.ts';
import type { Expected, ModelState } from '../../../model/index.ts';
import type { CpuState } from '../../../model/state.ts';
import { cpuOf } from '../../../model/state.ts';
import { patchCpu, RULES_HIT, skylake, withCurrent, write } from '../helpers.ts';

/** The guest's RIP before each step. */
export const RIP = 0x1000n;
export const bit = (position: number): bigint => 1n << BigInt(position);
export const ACTIVATE_SECONDARY = bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS);

const DEFAULTS: ReadonlyArray<readonly [number, bigint]> = [
  [FIELD.PIN_BASED_CONTROLS, 0n],
  [FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, 0n],
  [FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, 0n],
  [FIELD.EXCEPTION_BITMAP, 0n],
  [FIELD.PAGE_FAULT_ERROR_CODE_MASK, 0n],
  [FIELD.PAGE_FAULT_ERROR_CODE_MATCH, 0n],
  [FIELD.CR0_GUEST_HOST_MASK, 0n],
  [FIELD.CR0_READ_SHADOW, 0n],
  [FIELD.CR4_GUEST_HOST_MASK, 0n],
  [FIELD.CR4_READ_SHADOW, 0n],
];

/** A guest with `fields` written over the defaults and `cpu` changes applied. */
export function guestWith(fields: ReadonlyArray<readonly [number, bigint]> = [], cpu: Partial<CpuState> = {}, profile: Profile = skylake()): ModelState {
  let state = withCurrent(profile);
  for (const [encoding, value] of DEFAULTS) if (profile.fieldExists(encoding)) state = write(state, encoding, value);
  for (const [encoding, value] of fields) state = write(state, encoding, value);
  return patchCpu(state, 0, { vmx: 'non-root', rip: RIP, ...cpu });
}

/** A guest whose primary controls are `primary` (and secondary `secondary`, activated when given). */
export function guestControls(primary: bigint, secondary?: bigint, cpu: Partial<CpuState> = {}): ModelState {
  const fields: Array<readonly [number, bigint]> = [[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, secondary === undefined ? primary : primary | ACTIVATE_SECONDARY]];
  if (secondary !== undefined) fields.push([FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, secondary]);
  return guestWith(fields, cpu);
}

/** 32-bit protected mode with paging off (LMA = LME = 0, CS.L = 0, CR0 = PE | ET | NE). */
export const PROTECTED_32: Partial<CpuState> = { eferLma: 0, eferLme: 0, csL: 0, cr0: 0x31n };

/** The processor's RIP after a step's state. */
export const ripOf = (state: ModelState): bigint | undefined => cpuOf(state, 0).rip;

/** The outcomes the SDM allows for `op` (a defined verdict expected), with their rules recorded. */
export function outcomes(state: ModelState, op: Operation): Array<{ expected: Expected; rule: string }> {
  const verdict = step(state, op);
  expect(verdict.kind).toBe('defined');
  if (verdict.kind !== 'defined') return [];
  for (const branch of verdict.branches) RULES_HIT.add(branch.rule.id);
  return verdict.branches.map((branch) => ({ expected: branch.expected, rule: branch.rule.id }));
}

/** The `value` of the single `ok` outcome of `op`. */
export function readValue(state: ModelState, op: Operation): string | undefined {
  const [only, ...rest] = outcomes(state, op);
  expect(rest).toHaveLength(0);
  expect(only?.expected.kind).toBe('ok');
  return only?.expected.kind === 'ok' ? only.expected.value : undefined;
}
