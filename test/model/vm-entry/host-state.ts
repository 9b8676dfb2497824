/**
 * Helpers for the host-state VM-entry tests: a VMCS whose exit controls and host-state area pass
 * every check of SDM Vol. 3C (December 2023) §27.2.1.2, §27.2.2, §27.2.3 and §27.2.4 on the
 * skylake and maximal profiles, and the outcomes the SDM gives when one host check fails.
 *
 * A failing host check gives VMfailValid(8) with the check's rule (§27.2 "Checks on VMX Controls
 * and Host-State Area"); VMfailValid(7) stays allowed while control groups are not all modelled.
 * A passing check is asserted on the check itself (its own result is `pass`) and on the entry (no
 * allowed outcome is attributed to it), so that the assertion holds however the other groups of
 * the phase are judged.
 */
import { expect } from 'vitest';
import { step } from '../../../model/index.ts';
import type { ModelState } from '../../../model/index.ts';
import type { CheckResult } from '../../../model/vm-entry/check.ts';
import { evaluate } from '../../../model/vm-entry/check.ts';
import { MODEL_ENTRY_RULES } from '../../../model/vm-entry/rules.ts';
import { environmentOf, viewOf } from '../../../model/vm-entry/view.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { EXIT_CONTROL } from '../../../spec/control-bits.ts';
import { ENTRY_CHECKS_BY_GROUP } from '../../../spec/entry-checks/index.ts';
import type { EntryCheckGroup } from '../../../spec/entry-checks/index.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import type { FieldName } from '../../../spec/fields.ts';
import type { Profile } from '../../../spec/profile.ts';
import { initialProcessorState } from '../../../spec/initial-state.ts';
import { expectStep, failValid } from '../helpers.ts';
import { vmcsWith } from './helpers.ts';
import { CANONICAL_HIGH, VALID_HOST_STATE } from './valid-host-state.ts';

export { CANONICAL_HIGH, VALID_HOST_STATE } from './valid-host-state.ts';

export const launch = { kind: 'vmlaunch', cpu: 0 } as const;
export const bit = (n: number | bigint): bigint => 1n << BigInt(n);

/** Skylake's TRUE_EXIT_CTLS must-be-1 bits, with "host address-space size" (a 64-bit host). */
export const EXIT_64 = 0x36dfbn | bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE);

/** A canonical address with 57 bits but not with 48: canonical on some processors only. */
export const CANONICAL_57_ONLY = 0x0000_8000_0000_0000n;
/** Not canonical with 57 bits either: canonical on no processor. */
export const NON_CANONICAL = 0x0100_0000_0000_0000n;

/** Exit controls and host state that pass every modelled check on skylake. */
export const VALID = {
  PRIMARY_VM_EXIT_CONTROLS: EXIT_64,
  PIN_BASED_CONTROLS: 0x16n,
  VM_EXIT_MSR_STORE_COUNT: 0n,
  VM_EXIT_MSR_LOAD_COUNT: 0n,
  /** Skylake's TRUE_ENTRY_CTLS must-be-1 bits; "IA-32e mode guest" (bit 9) is 0. */
  VM_ENTRY_CONTROLS: 0x11fbn,
  ...VALID_HOST_STATE,
} as const satisfies Partial<Record<FieldName, bigint>>;

type Fields = Partial<Record<FieldName, bigint>>;

/** A current VMCS with {@link VALID} overridden by `fields`. */
export function hostVmcs(fields: Fields, profile?: Profile): ModelState {
  return vmcsWith({ ...VALID, ...fields }, profile);
}

/** The result of check `ruleId` on the current VMCS of processor 0 in `state`. */
export function resultOf(state: ModelState, ruleId: string): CheckResult {
  const rule = Object.values(MODEL_ENTRY_RULES)
    .flatMap((rules) => rules ?? [])
    .find((each) => each.id === ruleId);
  if (rule === undefined) throw new Error(`no model rule ${ruleId}`);
  const current = currentVmcs(state, 0);
  if (current === undefined) throw new Error('no current VMCS');
  return evaluate(rule, viewOf(current.content), environmentOf(state, 0));
}

/** VM entry in `state` fails with VMfailValid(8), reported by check `ruleId`. */
export function expectHostFailure(state: ModelState, ruleId: string): void {
  expect(resultOf(state, ruleId).kind).toBe('fail');
  expectStep(state, launch, failValid(VM_ERROR.ENTRY_INVALID_HOST_STATE), ruleId);
}

/** Check `ruleId` passes (or does not apply, `kind`) in `state`, and no allowed outcome is its. */
export function expectHostPass(state: ModelState, ruleId: string, kind: 'pass' | 'not-applicable' = 'pass'): void {
  expect(resultOf(state, ruleId).kind).toBe(kind);
  const verdict = step(state, launch);
  if (verdict.kind === 'defined') expect(verdict.branches.map((b) => b.rule.id)).not.toContain(ruleId);
  else expect(verdict.rule.id).not.toBe(ruleId);
}

/**
 * Check `ruleId` may fail with `fields` (the outcome depends on a processor fact the profile does
 * not record): its result is `may-fail`, and beside a certain control failure ("save
 * VMX-preemption timer value" without the timer, VMfailValid(7)) the entry allows VMfailValid(8),
 * reported by this check, which fails for certain nowhere.
 */
export function expectHostMayFail(fields: Fields, ruleId: string, profile?: Profile): void {
  expect(resultOf(hostVmcs(fields, profile), ruleId).kind).toBe('may-fail');
  const exit = (fields.PRIMARY_VM_EXIT_CONTROLS ?? VALID.PRIMARY_VM_EXIT_CONTROLS) | bit(EXIT_CONTROL.SAVE_VMX_PREEMPTION_TIMER_VALUE);
  const withControlFailure = hostVmcs({ ...fields, PRIMARY_VM_EXIT_CONTROLS: exit }, profile);
  expect(resultOf(withControlFailure, ruleId).kind).toBe('may-fail');
  expectStep(withControlFailure, launch, failValid(VM_ERROR.ENTRY_INVALID_HOST_STATE), ruleId);
  expectStep(withControlFailure, launch, failValid(VM_ERROR.ENTRY_INVALID_CONTROLS), 'exit-controls.save-preemption-timer-needs-timer');
}

/** The model implements every catalogue entry of `group`, each once, in the catalogue's (SDM) order. */
export function expectCatalogueOrder(group: EntryCheckGroup): void {
  expect((MODEL_ENTRY_RULES[group] ?? []).map((rule) => rule.id)).toEqual(ENTRY_CHECKS_BY_GROUP[group].map((entry) => entry.id));
}
