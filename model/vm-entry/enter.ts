/**
 * VM entry after the basic checks (SDM Vol. 3C, December 2023, Chapter 27 "VM Entries"), in the
 * order of its phases (§27.2-§27.4, and §31.3 VMLAUNCH/VMRESUME, Operation):
 * 1. the checks on the controls and the host-state area: VMfailValid(7) or (8)
 *    (controls-and-host.ts);
 * 2. the checks on the guest-state area: a VM-entry failure with exit reason 33 and the
 *    qualification of a failing check (guest-state.ts, failure.ts);
 * 3. loading MSRs from the VM-entry MSR-load area: a VM-entry failure with exit reason 34 and the
 *    index of the failing entry (see {@link MsrLoadJudge});
 * 4. success: guest state is loaded (load-guest.ts), then the events at the boundary of the entry
 *    act before the guest's first instruction: a VM exit, or the guest runs or waits in an inactive
 *    activity state (entry-events.ts).
 *
 * What the model cannot judge it says so: a check reading a field that was never written since
 * the region was initialized cannot be decided (§25.11.3 "Initializing a VMCS": such contents are
 * not architecturally defined), so such an entry is `undefined`; a group of checks the model does
 * not implement yet makes an entry that nothing else fails `not-modelled`.
 */
import { sdm } from '../../spec/citation.ts';
import { entryCheckById } from '../../spec/entry-checks/index.ts';
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
import { MSR_LOAD_ENTRY_RULES } from './checks/msr-load.ts';
import type { EntryJudgement } from './msr-load.ts';
import { judgeMsrLoad } from './msr-load.ts';
import { DELIVERY_STOP_RULES } from '../event-delivery/rules.ts';
import { afterSuccessfulEntry, loadGuestState } from './load-guest.ts';
import { eventsAtEntry } from './entry-events.ts';
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
  anyOrder: rule(
    'vm-entry.any-order',
    'VM entry',
    CONTROLS_AND_HOST,
    'the checks may be performed in any order: a check the model could not decide, or does not model yet, may be the one the processor reports',
  ),
  msrLoadCountAboveMaximum: rule(
    'vm-entry.msr-load-count-above-maximum',
    'VM entry',
    sdm('A.6', 'Miscellaneous Data', '3D'),
    'the VM-entry MSR-load count exceeds the recommended maximum, 512 × (IA32_VMX_MISC[27:25] + 1): undefined processor behavior may result',
  ),
} as const;

const R = VM_ENTRY_PROPER_RULES;

/**
 * The verdict while a catalogue group has checks the model does not implement and nothing else
 * fails: those checks decide. Every group is implemented today (test/model/vm-entry/rules.test.ts
 * insists), so no step reaches it and it is not among `RULES`; it keeps verdicts sound while a
 * later edition's checks are added to the catalogue before the model has them.
 */
export const INCOMPLETE_CATALOGUE_RULE = rule(
  'vmentry.checks-not-modelled',
  'VM entry',
  CONTROLS_AND_HOST,
  'no modelled check fails for certain; checks of groups the model does not implement yet decide the outcome',
);

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

  const afterGuest = msrPhase(state, cpu, current, instruction, view, env);
  if (guest.kind === 'pass') return afterGuest;
  const alternatives = failures(guest.consequences.map((q) => entryFailure(state, cpu, ruleReporting(q, guest.mayFail), basic, BigInt(q))));
  return alternatives.kind === 'defined' ? orElse(alternatives.branches, afterGuest) : alternatives;
}

/** MSR loading (msr-load.ts: entries in order, the first failing one's index), then success. */
function msrPhase(
  state: ModelState,
  cpu: number,
  current: ActiveVmcs,
  instruction: 'VMLAUNCH' | 'VMRESUME',
  view: VmcsView,
  env: CheckEnvironment,
): Verdict {
  const msrs = judgeMsrLoad(view, env, MSR_LOAD_ENTRY_RULES);
  switch (msrs.kind) {
    case 'undecided':
      return undefinedBy(R.fieldUnknown);
    case 'undefined':
      return undefinedBy(R.msrLoadCountAboveMaximum);
    case 'pass':
      return success(state, cpu, current, instruction);
    case 'fail':
    case 'may-fail': {
      const failing = failures(msrs.qualifications.map((index) => entryFailure(state, cpu, msrRuleReporting(index, msrs.judgements), EXIT_REASON.ENTRY_FAILURE_MSR_LOADING, BigInt(index))));
      if (msrs.kind === 'fail' || failing.kind !== 'defined') return failing;
      return orElse(failing.branches, success(state, cpu, current, instruction));
    }
  }
}

/**
 * The rule of the check that fails the MSR-load entry at 1-based `index`: the first that fails it
 * for certain, else the first the SDM lets fail it (as {@link ruleReporting} orders them).
 */
function msrRuleReporting(index: number, judgements: readonly EntryJudgement[]): Rule {
  const atIndex = judgements.filter((each) => each.entry.index === index);
  const found = atIndex.find((each) => each.result === 'fail') ?? atIndex[0];
  const entry = found === undefined ? undefined : entryCheckById(found.rule.id);
  return entry === undefined ? R.anyOrder : decisionPoint(entry);
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
  return assessment.missing.length > 0 ? undefinedBy(R.fieldUnknown) : notModelled(INCOMPLETE_CATALOGUE_RULE);
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
  // Delivery of the injected event stopped where the model does not follow it: the nested event may exit, so the entry's observation is open too.
  if (DELIVERY_STOP_RULES.has(loaded.rule)) return notModelled(loaded.rule);
  const next = loaded.state;
  const injected = loaded.injected === undefined ? {} : { injected: loaded.injected };
  const runs: Branch = { expected: { kind: 'vmentry', flags: loaded.flags, ...injected }, rule: loaded.rule, next: () => next };
  // A processor the model stops following at once (virtual-interrupt delivery) meets no boundary events here.
  if (cpuOf(next, cpu).untracked !== undefined) return defined(runs);
  return eventsAtEntry(next, cpu, runs);
}

/**
 * The first check of `reporting` (certain failures, then checks the SDM lets fail) that reports
 * `consequence`, or the any-order rule when none does.
 */
function ruleReporting(consequence: number, reporting: readonly Judged[]): Rule {
  const found = reporting.find((each) => each.consequences.includes(consequence));
  return found === undefined ? R.anyOrder : decisionPoint(catalogueEntry(found.rule));
}
