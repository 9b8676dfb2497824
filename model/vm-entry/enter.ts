/**
 * VM entry after the basic checks (SDM Vol. 3C, December 2023, Chapter 27 "VM Entries"), in the
 * order of its phases (§27.2-§27.4, and §31.3 VMLAUNCH/VMRESUME, Operation):
 * 1. the checks on the controls and the host-state area: VMfailValid(7) or (8)
 *    (controls-and-host.ts);
 * 2. the checks on the guest-state area: a VM-entry failure with exit reason 33 and the
 *    qualification of a failing check (guest-state.ts, failure.ts);
 * 3. loading MSRs from the VM-entry MSR-load area: a VM-entry failure with exit reason 34 and the
 *    index of the failing entry (see {@link MsrLoadJudge});
 * 4. success: guest state is loaded and the guest runs (load-guest.ts).
 *
 * What the model cannot judge it says so: a check reading a field that was never written since
 * the region was initialized cannot be decided (§25.11.3 "Initializing a VMCS": such contents are
 * not architecturally defined), so such an entry is `undefined`; a group of checks the model does
 * not implement yet makes an entry that nothing else fails `not-modelled`.
 */
import { sdm } from '../../spec/citation.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { vmFailValid } from '../conventions.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ActiveVmcs, ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Branch, Verdict } from '../verdict.ts';
import { defined, notModelled, undefinedBy } from '../verdict.ts';
import { currentVmcs, withActiveContent } from '../vmcs.ts';
import type { Judged, PhaseAssessment } from './assess.ts';
import type { CheckEnvironment, VmcsView } from './check.ts';
import { judgeControlsAndHost } from './controls-and-host.ts';
import { entryFailure, isBranch } from './failure.ts';
import { judgeGuestState } from './guest-state.ts';
import { afterSuccessfulEntry, loadGuestState } from './load-guest.ts';
import { catalogueEntry, decisionPoint } from './rules.ts';
import { environmentOf, viewOf } from './view.ts';

const CONTROLS_AND_HOST = sdm('27.2', 'Checks on VMX Controls and Host-State Area');
const MSR_LOADING = sdm('27.4', 'Loading MSRs');

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
    'no modelled check fails for certain; checks of groups the model does not implement yet (controls, host state or guest state) decide the outcome',
  ),
  anyOrder: rule(
    'vm-entry.any-order',
    'VM entry',
    CONTROLS_AND_HOST,
    'the checks may be performed in any order: a check the model could not decide, or does not model yet, may be the one the processor reports',
  ),
  msrLoadNotModelled: rule(
    'vm-entry.msr-load-not-modelled',
    'VM entry',
    MSR_LOADING,
    'the VM-entry MSR-load count is not 0: MSRs are loaded from the VM-entry MSR-load area (a failing entry gives exit reason 34), which the model does not follow yet',
  ),
} as const;

const R = VM_ENTRY_PROPER_RULES;

/**
 * What the MSR-loading phase (§27.4) decides, as the model's MSR-load checks will report it: every
 * entry loads, or entry `index` (1-based) fails, or the model cannot tell. The judge for a VMCS
 * whose MSR-load count is 0 always passes; until model/vm-entry/msr-load.ts provides one for other
 * counts, {@link enterVm} answers `not-modelled` for them.
 */
export type MsrLoadJudgement = { kind: 'pass' } | { kind: 'fail'; index: number; rule: Rule } | { kind: 'not-judged'; verdict: Verdict };

/** The interface of the MSR-loading phase: `judgeMsrLoad(state, view, env)`. */
export type MsrLoadJudge = (state: ModelState, view: VmcsView, env: CheckEnvironment) => MsrLoadJudgement;

/** The MSR-loading phase as the model has it today: a count of 0 loads nothing; any other count is not modelled. */
export const judgeMsrLoad: MsrLoadJudge = (_state, view) => {
  const count = view.get('VM_ENTRY_MSR_LOAD_COUNT');
  if (count === undefined) return { kind: 'not-judged', verdict: undefinedBy(R.fieldUnknown) };
  if (count === 0n) return { kind: 'pass' };
  return { kind: 'not-judged', verdict: notModelled(R.msrLoadNotModelled) };
};

/** VM entry by `instruction` on processor `cpu`, whose basic checks passed (model/instructions/vmlaunch-vmresume.ts). */
export function enterVm(state: ModelState, cpu: number, instruction: 'VMLAUNCH' | 'VMRESUME' = 'VMLAUNCH'): Verdict {
  const current = currentVmcs(state, cpu);
  if (current === undefined) throw new Error('model bug: VM entry past the basic checks without a current VMCS');
  const view = viewOf(current.content);
  const env = environmentOf(state, cpu);

  const controls = judgeControlsAndHost(view, env).assessment;
  if (controls.kind === 'fail') {
    const reporting = [...controls.failing, ...controls.mayFail];
    return defined(...controls.consequences.map((error) => vmFailValid(state, cpu, ruleReporting(error, reporting), error)));
  }
  if (controls.kind === 'undecided') return notJudged(controls);
  const afterControls = guestPhase(state, cpu, current, instruction, view, env);
  if (controls.kind === 'pass') return afterControls;
  // A check the SDM lets fail or not: VMfailValid(n), or the entry goes on.
  return orElse(
    controls.consequences.map((error) => vmFailValid(state, cpu, ruleReporting(error, controls.mayFail), error)),
    afterControls,
  );
}

/** The phases after the controls and host state: guest state, MSR loading, success. */
function guestPhase(
  state: ModelState,
  cpu: number,
  current: ActiveVmcs,
  instruction: 'VMLAUNCH' | 'VMRESUME',
  view: VmcsView,
  env: CheckEnvironment,
): Verdict {
  const basic = EXIT_REASON.ENTRY_FAILURE_INVALID_GUEST_STATE;
  const guest = judgeGuestState(view, env).assessment;
  if (guest.kind === 'fail') {
    const reporting = [...guest.failing, ...guest.mayFail];
    return failures(guest.consequences.map((q) => entryFailure(state, cpu, ruleReporting(q, reporting), basic, BigInt(q))));
  }
  if (guest.kind === 'undecided') return notJudged(guest);

  const msrs = judgeMsrLoad(state, view, env);
  const afterGuest: Verdict =
    msrs.kind === 'not-judged'
      ? msrs.verdict
      : msrs.kind === 'fail'
        ? failures([entryFailure(state, cpu, msrs.rule, EXIT_REASON.ENTRY_FAILURE_MSR_LOADING, BigInt(msrs.index))])
        : success(state, cpu, current, instruction);
  if (guest.kind === 'pass') return afterGuest;
  const alternatives = failures(guest.consequences.map((q) => entryFailure(state, cpu, ruleReporting(q, guest.mayFail), basic, BigInt(q))));
  return alternatives.kind === 'defined' ? orElse(alternatives.branches, afterGuest) : alternatives;
}

/**
 * `failing` as allowed outcomes beside those of `rest`. When `rest` cannot be judged (undefined
 * or not modelled), neither can the step: nothing would be compared.
 */
function orElse(failing: readonly Branch[], rest: Verdict): Verdict {
  return rest.kind === 'defined' ? defined(...failing, ...rest.branches) : rest;
}

/** The verdict of a phase no check fails for certain, but not every check could be judged. */
function notJudged(assessment: Extract<PhaseAssessment, { kind: 'undecided' }>): Verdict {
  return assessment.missing.length > 0 ? undefinedBy(R.fieldUnknown) : notModelled(R.checksNotModelled);
}

/** The allowed VM-entry failures; host-state loading is the same for each, so one verdict speaks for all. */
function failures(each: ReadonlyArray<Branch | Verdict>): Verdict {
  const verdict = each.find((one) => !isBranch(one));
  if (verdict !== undefined && !isBranch(verdict)) return verdict;
  return defined(...each.filter(isBranch));
}

/** The successful entry: the VMCS launched by VMLAUNCH, guest state loaded, the guest runs. */
function success(state: ModelState, cpu: number, current: ActiveVmcs, instruction: 'VMLAUNCH' | 'VMRESUME'): Verdict {
  const content = afterSuccessfulEntry(current.content, instruction);
  const written = withActiveContent(state, cpu, cpuOf(state, cpu).currentVmcs, content);
  const loaded = loadGuestState(written, cpu, viewOf(content));
  if (loaded.kind === 'unknown') return undefinedBy(R.fieldUnknown);
  const next = loaded.state;
  return defined({ expected: { kind: 'vmentry', flags: loaded.flags }, rule: loaded.rule, next: () => next });
}

/**
 * The first check of `reporting` (certain failures, then checks the SDM lets fail) that reports
 * `consequence`, or the any-order rule when none does.
 */
function ruleReporting(consequence: number, reporting: readonly Judged[]): Rule {
  const found = reporting.find((each) => each.consequences.includes(consequence));
  return found === undefined ? R.anyOrder : decisionPoint(catalogueEntry(found.rule));
}
