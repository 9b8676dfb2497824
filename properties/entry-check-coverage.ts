/**
 * Which VM-entry checks of the catalogue (spec/entry-checks/) a run reached, for the run report.
 *
 * A check is *hit failing* when a compared step's matched rule (or the rule that ended the case)
 * is that check's id, or for a basic check the VMLAUNCH/VMRESUME rule that reports it.
 *
 * A check is *hit passing* when a VMLAUNCH or VMRESUME got past it:
 * - a basic check, when the instruction failed a later basic check or got past them all (the
 *   basic checks come in a fixed order, SDM Vol. 3C, December 2023, §27.1 "Basic VM-Entry
 *   Checks"; the launch-state checks count only for their instruction);
 * - any other check, when the entry got past its phase (controls and host state, then guest
 *   state, then MSR loading: §27.2-§27.4) and the model's own rule for it, evaluated over the
 *   current VMCS as the model saw it just before the step (with the controls in effect, as VM
 *   entry shows them), passes. Checks of the phase that failed, or of later phases, are not
 *   counted: the processor need not have evaluated them.
 *
 * This is statistics code: it asks the model's evaluator, it does not change the model.
 */
import type { ModelState } from '../model/index.ts';
import { evaluate } from '../model/vm-entry/check.ts';
import { controlsInEffect } from '../model/vm-entry/derived.ts';
import { MODEL_ENTRY_RULES } from '../model/vm-entry/rules.ts';
import { environmentOf, viewOf } from '../model/vm-entry/view.ts';
import { currentVmcs } from '../model/vmcs.ts';
import { ENTRY_CHECKS, ENTRY_CHECKS_BY_GROUP, entryCheckById, type EntryCheckGroup } from '../spec/entry-checks/index.ts';
import type { StepRecord } from './differential.ts';

/** Catalogue checks reached, with hit counts, and the ones not reached. */
export interface EntryCheckCoverage {
  /** Checks in the catalogue. */
  total: number;
  /** Hits per check id whose failure a step reported. */
  hitFailing: Record<string, number>;
  /** Hits per check id that passed at a VM entry (modelled checks only). */
  hitPassing: Record<string, number>;
  /** Checks never hit failing, in catalogue order. */
  notHitFailing: string[];
  /** Checks never hit passing, in catalogue order. */
  notHitPassing: string[];
}

/** An empty coverage record. */
export function emptyEntryCheckCoverage(): EntryCheckCoverage {
  return { total: ENTRY_CHECKS.length, hitFailing: {}, hitPassing: {}, notHitFailing: [], notHitPassing: [] };
}

/**
 * The basic checks, named in the model by the VMLAUNCH/VMRESUME instruction rules
 * (model/instructions/vmlaunch-vmresume.ts): the catalogue check each rule's failure is.
 */
const BASIC_CHECK_OF_RULE: Readonly<Record<string, string>> = {
  'vmentry.ud-outside-vmx': 'basic.in-vmx-operation',
  'vmentry.ud-real-mode': 'basic.protected-mode',
  'vmentry.ud-virtual-8086': 'basic.not-virtual-8086',
  'vmentry.ud-compatibility-mode': 'basic.not-compatibility-mode',
  'vmentry.vm-exit': 'basic.not-in-vmx-non-root',
  'vmentry.gp-cpl': 'basic.cpl-zero',
  'vmentry.no-current-vmcs': 'basic.current-vmcs-valid',
  'vmentry.shadow-vmcs': 'basic.current-vmcs-not-shadow',
  'vmentry.mov-ss-blocking': 'basic.no-mov-ss-blocking',
  'vmlaunch.launch-state-not-clear': 'basic.vmlaunch-launch-state-clear',
  'vmresume.launch-state-not-launched': 'basic.vmresume-launch-state-launched',
  'vmresume.after-vmxoff': 'basic.vmresume-not-after-vmxoff',
};

/** Rules of the basic checks whose outcome the model cannot know (the launch state was never set). */
const BASIC_UNKNOWN: ReadonlySet<string> = new Set(['vmlaunch.launch-state-unknown', 'vmresume.launch-state-unknown']);

/**
 * Whether a VMLAUNCH/VMRESUME step got past the basic checks: the rule the engine's outcome
 * matched (or, when the engine did not answer, every rule the model allowed) is not a basic check.
 */
export function pastBasicChecks(step: StepRecord): boolean {
  const ids = step.matched !== undefined
    ? [step.matched.rule.id]
    : step.verdict.kind === 'defined' ? step.verdict.branches.map((b) => b.rule.id) : [step.verdict.rule.id];
  return ids.length > 0 && ids.every((id) => BASIC_CHECK_OF_RULE[id] === undefined && !BASIC_UNKNOWN.has(id));
}

/** The phase of VM entry each group belongs to: basic checks, controls and host state, guest state, MSR loading. */
const PHASE: Readonly<Record<EntryCheckGroup, number>> = {
  basic: 0,
  'execution-controls': 1,
  'exit-controls': 1,
  'entry-controls': 1,
  'event-injection': 1,
  'host-control-registers': 1,
  'host-segment-registers': 1,
  'address-space-size': 1,
  'guest-control-registers': 2,
  'guest-segment-registers': 2,
  'guest-descriptor-tables': 2,
  'guest-rip-rflags': 2,
  'guest-non-register-state': 2,
  'guest-pdptes': 2,
  'msr-load': 3,
};

/** Rules of VM entry besides the catalogue's that end it before all its phases were passed, with the last phase passed. */
const STOPPED_AT: Readonly<Record<string, number>> = {
  /** The MSR-load count is above the maximum: the guest state was checked. */
  'vm-entry.msr-load-count-above-maximum': 2,
  /** A field was unknown, or a failure could not be tied to a check: nothing is known to have passed. */
  'vm-entry.field-unknown': 0,
  'vm-entry.any-order': 0,
};

/** The last phase a step past the basic checks passed, by the rule it ended at (3: every phase). */
function phasePassed(id: string): number {
  const entry = entryCheckById(id);
  if (entry !== undefined) return PHASE[entry.group] - 1;
  return STOPPED_AT[id] ?? 3;
}

/** The rules a step ended at: the one its outcome matched, or every one the model allowed. */
function rulesOf(step: StepRecord): string[] {
  if (step.matched !== undefined) return [step.matched.rule.id];
  return step.verdict.kind === 'defined' ? step.verdict.branches.map((b) => b.rule.id) : [step.verdict.rule.id];
}

const BASIC_CHECKS = ENTRY_CHECKS_BY_GROUP.basic.map((check) => check.id);
const ONLY_FOR: Readonly<Record<string, 'vmlaunch' | 'vmresume'>> = {
  'basic.vmlaunch-launch-state-clear': 'vmlaunch',
  'basic.vmresume-launch-state-launched': 'vmresume',
  'basic.vmresume-not-after-vmxoff': 'vmresume',
};

/** The basic checks a VMLAUNCH/VMRESUME got past: those before the one it failed (or stopped at), or all. */
function basicChecksPassed(step: StepRecord, kind: 'vmlaunch' | 'vmresume'): string[] {
  const ids = rulesOf(step);
  const stops = ids.map((id) => (BASIC_UNKNOWN.has(id) ? (kind === 'vmlaunch' ? 'basic.vmlaunch-launch-state-clear' : 'basic.vmresume-launch-state-launched') : BASIC_CHECK_OF_RULE[id]));
  const firstStop = Math.min(...stops.map((check) => (check === undefined ? BASIC_CHECKS.length : BASIC_CHECKS.indexOf(check))));
  return BASIC_CHECKS.slice(0, firstStop).filter((check) => (ONLY_FOR[check] ?? kind) === kind);
}

const MODELLED = Object.values(MODEL_ENTRY_RULES).flatMap((rules) => [...(rules ?? [])]);
const PHASE_OF_RULE = new Map(MODELLED.map((rule) => [rule, PHASE[entryCheckById(rule.id)?.group ?? 'basic']]));

/** Adds what the steps of one case reached to `coverage`; `initial` is the state the case starts from. */
export function recordEntryChecks(coverage: EntryCheckCoverage, steps: readonly StepRecord[], initial: ModelState): void {
  const hit = (record: Record<string, number>, id: string): void => {
    record[id] = (record[id] ?? 0) + 1;
  };
  for (const [i, step] of steps.entries()) {
    const id = step.matched?.rule.id ?? (step.verdict.kind === 'defined' ? undefined : step.verdict.rule.id);
    const failed = id === undefined ? undefined : (entryCheckById(id)?.id ?? BASIC_CHECK_OF_RULE[id]);
    if (failed !== undefined) hit(coverage.hitFailing, failed);
    const op = step.operation;
    if (op.kind !== 'vmlaunch' && op.kind !== 'vmresume') continue;
    for (const check of basicChecksPassed(step, op.kind)) hit(coverage.hitPassing, check);
    if (!pastBasicChecks(step)) continue;
    const passed = Math.min(...rulesOf(step).map(phasePassed));
    if (passed < 1) continue;
    const state = stateBefore(steps, i, initial);
    const current = currentVmcs(state, op.cpu);
    if (current === undefined) continue;
    const view = controlsInEffect(viewOf(current.content));
    const env = environmentOf(state, op.cpu);
    for (const rule of MODELLED) {
      if ((PHASE_OF_RULE.get(rule) ?? 0) <= passed && evaluate(rule, view, env).kind === 'pass') hit(coverage.hitPassing, rule.id);
    }
  }
}

/** Fills in the checks not hit; call once at the end of a run. */
export function finishEntryChecks(coverage: EntryCheckCoverage): void {
  coverage.notHitFailing = ENTRY_CHECKS.map((c) => c.id).filter((id) => coverage.hitFailing[id] === undefined);
  coverage.notHitPassing = ENTRY_CHECKS.map((c) => c.id).filter((id) => coverage.hitPassing[id] === undefined);
}

function stateBefore(steps: readonly StepRecord[], i: number, initial: ModelState): ModelState {
  const previous = steps[i - 1];
  if (previous?.matched === undefined || previous.observation === undefined) return initial;
  return previous.matched.next(previous.observation);
}
