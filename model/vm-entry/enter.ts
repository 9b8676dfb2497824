/**
 * VM entry after the basic checks (SDM Vol. 3C, December 2023, Chapter 27 "VM Entries"): the
 * checks on the controls and the host-state area, then (not modelled yet) the guest-state checks
 * and loading, and MSR loading.
 *
 * What the model cannot judge it says so: a check reading a field that was never written since
 * the region was initialized cannot be decided (§25.11.3 "Initializing a VMCS": such contents are
 * not architecturally defined), so such an entry is `undefined`; a group of checks the model does
 * not implement yet makes an entry that nothing else fails `not-modelled`.
 */
import { sdm } from '../../spec/citation.ts';
import { vmFailValid } from '../conventions.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled, undefinedBy } from '../verdict.ts';
import { currentVmcs } from '../vmcs.ts';
import type { Judged } from './assess.ts';
import { judgeControlsAndHost } from './controls-and-host.ts';
import { catalogueEntry, decisionPoint } from './rules.ts';
import { environmentOf, viewOf } from './view.ts';

const CONTROLS_AND_HOST = sdm('27.2', 'Checks on VMX Controls and Host-State Area');

/** The decision points of VM entry besides the catalogued checks. */
export const VM_ENTRY_PROPER_RULES = {
  fieldUnknown: rule(
    'vm-entry.field-unknown',
    'VM entry',
    sdm('25.11.3', 'Initializing a VMCS'),
    'a check reads a VMCS field not written since the region was initialized: its value, and so the outcome of the entry, is not architecturally known',
  ),
  checksNotModelled: rule(
    'vmentry.checks-not-modelled',
    'VM entry',
    CONTROLS_AND_HOST,
    'no modelled check fails; what the model does not follow yet (the remaining control and host-state checks, the guest-state checks and loading, MSR loading) decides the outcome',
  ),
  anyOrder: rule(
    'vm-entry.any-order',
    'VM entry',
    CONTROLS_AND_HOST,
    'the checks may be performed in any order: a check the model could not decide, or does not model yet, may be the one the processor reports',
  ),
} as const;

const R = VM_ENTRY_PROPER_RULES;

/** VM entry on processor `cpu`, whose basic checks passed (model/instructions/vmlaunch-vmresume.ts). */
export function enterVm(state: ModelState, cpu: number): Verdict {
  const current = currentVmcs(state, cpu);
  if (current === undefined) throw new Error('model bug: VM entry past the basic checks without a current VMCS');
  const { assessment } = judgeControlsAndHost(viewOf(current.content), environmentOf(state));
  switch (assessment.kind) {
    case 'fail':
      return defined(...assessment.consequences.map((error) => vmFailValid(state, cpu, ruleReporting(error, assessment.failing), error)));
    case 'undecided':
      return assessment.missing.length > 0 ? undefinedBy(R.fieldUnknown) : notModelled(R.checksNotModelled);
    case 'may-fail': // one allowed outcome is going on to the phases the model does not follow yet
    case 'pass':
      return notModelled(R.checksNotModelled);
  }
}

/** The first failing check that reports `consequence`, or the any-order rule when none does for certain. */
function ruleReporting(consequence: number, failing: readonly Judged[]): Rule {
  const found = failing.find((each) => each.consequences.includes(consequence));
  return found === undefined ? R.anyOrder : decisionPoint(catalogueEntry(found.rule));
}
