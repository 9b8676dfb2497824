/**
 * Small helpers for the model's unit tests: build states by running operations through `step`,
 * and check a step's outcome against what the SDM says, recording which rules the tests reach
 * (rule-coverage.test.ts compares them with RULES).
 */
import { expect } from 'vitest';
import { createModelState, matches, step } from '../../model/index.ts';
import type { Branch, ModelState, Verdict } from '../../model/index.ts';
import { withCpu } from '../../model/state.ts';
import type { CpuState } from '../../model/state.ts';
import { toHex } from '../../spec/hex.ts';
import { ARITHMETIC_FLAGS } from '../../spec/observations.ts';
import type { Observation } from '../../spec/observations.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { loadProfile } from '../../spec/profiles.ts';

/** Rule ids reached by the tests that ran in this module instance. */
export const RULES_HIT = new Set<string>();

export const CF = ARITHMETIC_FLAGS.CF;
export const ZF = ARITHMETIC_FLAGS.ZF;
export const ALL_FLAGS = 0x8d5;

/** Region addresses used throughout the tests (4-KByte aligned). */
export const VMXON_0 = 0x1000n;
export const VMXON_1 = 0x2000n;
export const VMCS_A = 0x10000n;
export const VMCS_B = 0x11000n;
export const VMCS_S = 0x12000n;

export const skylake = (): Profile => loadProfile('skylake');
export const core2 = (): Profile => loadProfile('core2');
export const maximal = (): Profile => loadProfile('maximal');

/** Observations an engine would report. */
export const ud = (flags = 0): Observation => ({ kind: 'fault', vector: 'UD', flags });
export const gp = (flags = 0): Observation => ({ kind: 'fault', vector: 'GP', flags });
export const succeed = (value?: bigint): Observation =>
  value === undefined ? { kind: 'vmsucceed', flags: 0 } : { kind: 'vmsucceed', flags: 0, value: toHex(value) };
export const failInvalid = (): Observation => ({ kind: 'vmfail-invalid', flags: CF });
export const failValid = (error: number): Observation => ({ kind: 'vmfail-valid', error, flags: ZF });
export const exit = (reason: number): Observation => ({ kind: 'vmexit', reason, flags: 0 });
export const ok = (flags = 0): Observation => ({ kind: 'ok', flags });

/** A fresh machine. */
export function fresh(profile: Profile = skylake(), cpus = 2): ModelState {
  return createModelState(profile, cpus);
}

/**
 * Steps `op` in `state`, expects `observed` to be among the outcomes the SDM allows, produced by
 * rule `ruleId`, and returns the state after it.
 */
export function expectStep(state: ModelState, op: Operation, observed: Observation, ruleId: string): ModelState {
  const verdict = step(state, op);
  expect(verdict.kind, `verdict for ${JSON.stringify(op)}`).toBe('defined');
  const branches = (verdict as Extract<Verdict, { kind: 'defined' }>).branches;
  const branch = branches.find((b) => matches(b.expected, observed));
  expect(branch, `no branch allows ${JSON.stringify(observed)}; allowed: ${JSON.stringify(branches.map((b) => b.expected))}`).toBeDefined();
  const found = branch as Branch;
  expect(found.rule.id).toBe(ruleId);
  RULES_HIT.add(found.rule.id);
  return found.next(observed);
}

/** Like {@link expectStep}, and the SDM allows nothing else. */
export function expectOnly(state: ModelState, op: Operation, observed: Observation, ruleId: string): ModelState {
  const verdict = step(state, op);
  expect(verdict.kind).toBe('defined');
  expect((verdict as Extract<Verdict, { kind: 'defined' }>).branches).toHaveLength(1);
  return expectStep(state, op, observed, ruleId);
}

/** Expects the SDM not to allow `observed` for `op` in `state`. */
export function expectRejected(state: ModelState, op: Operation, observed: Observation): void {
  const verdict = step(state, op);
  expect(verdict.kind).toBe('defined');
  const branches = (verdict as Extract<Verdict, { kind: 'defined' }>).branches;
  expect(branches.some((b) => matches(b.expected, observed))).toBe(false);
}

/** Expects the SDM to leave `op` undefined in `state`, by rule `ruleId`. */
export function expectUndefined(state: ModelState, op: Operation, ruleId: string): void {
  const verdict = step(state, op);
  expect(verdict).toMatchObject({ kind: 'undefined', rule: { id: ruleId } });
  RULES_HIT.add(ruleId);
}

/** Expects `op` in `state` to be beyond the model, by rule `ruleId`. */
export function expectNotModelled(state: ModelState, op: Operation, ruleId: string): void {
  const verdict = step(state, op);
  expect(verdict).toMatchObject({ kind: 'not-modelled', rule: { id: ruleId } });
  RULES_HIT.add(ruleId);
}

/** Writes `word` at `address` (a plain store outside any region in use). */
export function store(state: ModelState, address: bigint, word: number, cpu = 0): ModelState {
  const verdict = step(state, { kind: 'write-memory', cpu, address: toHex(address), value: toHex(BigInt(word)) });
  if (verdict.kind !== 'defined' || verdict.branches.length !== 1) throw new Error(`store at ${toHex(address)} was not a plain store`);
  const branch = verdict.branches[0] as Branch;
  RULES_HIT.add(branch.rule.id);
  return branch.next({ kind: 'ok', flags: branch.expected.flags });
}

/** Writes the profile's revision identifier (and the shadow-VMCS indicator) at `address`. */
export function layRegion(state: ModelState, address: bigint, shadow = false): ModelState {
  return store(state, address, (state.profile.revisionId | (shadow ? 0x8000_0000 : 0)) >>> 0);
}

/** Lays out a VMXON region at `address` and executes VMXON on `cpu`, which must succeed. */
export function enterVmx(state: ModelState, cpu = 0, address: bigint = cpu === 0 ? VMXON_0 : VMXON_1): ModelState {
  const laid = layRegion(state, address);
  return expectOnly(laid, { kind: 'vmxon', cpu, pointer: toHex(address) }, succeed(), 'vmxon.success');
}

/** Lays out a VMCS region at `address`, VMCLEARs and VMPTRLDs it on `cpu`. */
export function loadVmcs(state: ModelState, address: bigint, cpu = 0, shadow = false): ModelState {
  const laid = layRegion(state, address, shadow);
  const cleared = expectOnly(laid, { kind: 'vmclear', cpu, pointer: toHex(address) }, succeed(), 'vmclear.success');
  return expectOnly(cleared, { kind: 'vmptrld', cpu, pointer: toHex(address) }, succeed(), 'vmptrld.success');
}

/** A machine with processor 0 in VMX root operation (profile skylake unless given). */
export function inRoot(profile: Profile = skylake(), cpus = 2): ModelState {
  return enterVmx(fresh(profile, cpus), 0);
}

/** A machine with processor 0 in VMX root operation and VMCS_A current. */
export function withCurrent(profile: Profile = skylake(), cpus = 2): ModelState {
  return loadVmcs(inRoot(profile, cpus), VMCS_A);
}

/** VMWRITE of `value` to `encoding` on `cpu`, which must succeed. */
export function write(state: ModelState, encoding: number, value: bigint, cpu = 0): ModelState {
  return expectOnly(state, { kind: 'vmwrite', cpu, encoding: toHex(BigInt(encoding)), value: toHex(value) }, succeed(), 'vmwrite.success');
}

/** `state` with processor `cpu` changed directly (for states no operation reaches yet). */
export function patchCpu(state: ModelState, cpu: number, changes: Partial<CpuState>): ModelState {
  return withCpu(state, cpu, changes);
}

export const hex = (value: bigint | number): string => toHex(BigInt(value));
