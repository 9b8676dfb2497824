/**
 * Helpers for the VM-entry tests: a VMCS made current, with chosen fields written by VMWRITE;
 * control fields that pass every control check on the skylake and maximal profiles; and the
 * result of one check, for cases where the outcome of the whole entry depends on groups the
 * test is not about.
 */
import { expect } from 'vitest';
import { FIELD } from '../../../spec/fields.ts';
import { VALID_HOST_STATE } from './valid-host-state.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { step } from '../../../model/index.ts';
import type { ModelState } from '../../../model/index.ts';
import type { Operation } from '../../../spec/operations.ts';
import type { Profile } from '../../../spec/profile.ts';
import { judgeControlsAndHost } from '../../../model/vm-entry/controls-and-host.ts';
import type { CheckResult } from '../../../model/vm-entry/check.ts';
import { environmentOf, viewOf } from '../../../model/vm-entry/view.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { RULES_HIT, withCurrent, write } from '../helpers.ts';

/** `state` after VMWRITEs of `fields` (each must succeed). */
export function writeFields(state: ModelState, fields: Partial<Record<FieldName, bigint>>): ModelState {
  let next = state;
  for (const [name, value] of Object.entries(fields)) next = write(next, FIELD[name as FieldName], value as bigint);
  return next;
}

/** A current VMCS on processor 0 with `fields` written. */
export function vmcsWith(fields: Partial<Record<FieldName, bigint>>, profile?: Profile): ModelState {
  return writeFields(withCurrent(profile), fields);
}

/**
 * Control fields every control check passes on skylake (and on maximal, which allows more): the
 * must-be-1 bits of skylake's TRUE capability MSRs and nothing else (so no secondary controls),
 * "host address-space size" for a 64-bit host, no CR3-target values, empty MSR areas, no event
 * injected.
 */
export const CONTROLS_OK = {
  PIN_BASED_CONTROLS: 0x16n,
  PRIMARY_PROCESSOR_BASED_CONTROLS: 0x0400_6172n,
  CR3_TARGET_COUNT: 0n,
  PRIMARY_VM_EXIT_CONTROLS: 0x36dfbn | (1n << 9n),
  VM_EXIT_MSR_STORE_COUNT: 0n,
  VM_EXIT_MSR_LOAD_COUNT: 0n,
  VM_ENTRY_CONTROLS: 0x11fbn,
  VM_ENTRY_MSR_LOAD_COUNT: 0n,
  VM_ENTRY_INTERRUPTION_INFORMATION: 0n,
  ...VALID_HOST_STATE,
} as const satisfies Partial<Record<FieldName, bigint>>;

/** The result of check `ruleId` at a VM entry in `state` (processor 0, its current VMCS). */
export function checkResult(state: ModelState, ruleId: string): CheckResult {
  const current = currentVmcs(state, 0);
  if (current === undefined) throw new Error('test bug: no current VMCS');
  const { judged } = judgeControlsAndHost(viewOf(current.content), environmentOf(state, 0));
  const found = judged.find((each) => each.rule.id === ruleId);
  if (found === undefined) throw new Error(`test bug: no modelled check ${ruleId}`);
  return found.result;
}

/**
 * Expects check `ruleId` to give `kind` at a VM entry in `state`. A failure (or may-fail) found
 * this way counts as reaching the check's decision point.
 */
export function expectCheck(state: ModelState, ruleId: string, kind: CheckResult['kind']): void {
  expect(checkResult(state, ruleId).kind, ruleId).toBe(kind);
  if (kind === 'fail' || kind === 'may-fail') RULES_HIT.add(ruleId);
}

/** Expects check `ruleId` not to fail in `state`: it passes or does not apply. */
export function expectNoFailure(state: ModelState, ruleId: string): void {
  expect(['pass', 'not-applicable'], ruleId).toContain(checkResult(state, ruleId).kind);
}

/**
 * Expects VM entry by `op` in `state` to pass the checks on the controls and the host state
 * (§27.2): no allowed outcome is VMfailValid. What follows (the guest-state phase) decides the
 * rest; whether it is judged, undefined or not modelled does not matter here.
 */
export function expectPastControlsAndHost(state: ModelState, op: Operation): void {
  const verdict = step(state, op);
  const failing = verdict.kind === 'defined' ? verdict.branches.filter((b) => b.expected.kind === 'vmfail-valid').map((b) => b.rule.id) : [];
  expect(failing, `VMfailValid allowed by ${failing.join(', ')}`).toEqual([]);
}

/**
 * Expects VM entry by `op` in `state` to be allowed to fail with VMfailValid(`error`) by rule
 * `ruleId` or to go on (a check the SDM lets fail or not): when the step is judged, a branch
 * with that error and that rule is among the allowed outcomes, and not the only kind.
 */
export function expectMayFailOrGoOn(state: ModelState, op: Operation, error: number, ruleId: string): void {
  const verdict = step(state, op);
  if (verdict.kind !== 'defined') return;
  const fails = verdict.branches.filter((b) => b.expected.kind === 'vmfail-valid' && b.expected.error === error);
  expect(fails.map((b) => b.rule.id)).toContain(ruleId);
  expect(verdict.branches.length).toBeGreaterThan(fails.length);
}
