/**
 * Which VM-entry checks of the catalogue (spec/entry-checks/) a run reached, for the run report.
 *
 * A check is *hit failing* when a compared step's matched rule (or the rule that ended the case)
 * is that check's id, or for a basic check the VMLAUNCH/VMRESUME rule that reports it. It is *hit passing* when, at a VMLAUNCH or VMRESUME that got past the basic
 * checks, the model's own rule for it, evaluated over the current VMCS as the model saw it just
 * before the step (with the controls in effect, as VM entry shows them), passes. Only checks the model implements can be hit passing: for the others
 * nothing here can tell. This is statistics code: it asks the model's evaluator, it does not
 * change the model.
 */
import type { ModelState } from '../model/index.ts';
import { evaluate } from '../model/vm-entry/check.ts';
import { controlsInEffect } from '../model/vm-entry/derived.ts';
import { MODEL_ENTRY_RULES } from '../model/vm-entry/rules.ts';
import { environmentOf, viewOf } from '../model/vm-entry/view.ts';
import { currentVmcs } from '../model/vmcs.ts';
import { ENTRY_CHECKS, entryCheckById } from '../spec/entry-checks/index.ts';
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

const MODELLED = Object.values(MODEL_ENTRY_RULES).flatMap((rules) => [...(rules ?? [])]);

/** Adds what the steps of one case reached to `coverage`; `initial` is the state the case starts from. */
export function recordEntryChecks(coverage: EntryCheckCoverage, steps: readonly StepRecord[], initial: ModelState): void {
  for (const [i, step] of steps.entries()) {
    const id = step.matched?.rule.id ?? (step.verdict.kind === 'defined' ? undefined : step.verdict.rule.id);
    const failed = id === undefined ? undefined : (entryCheckById(id)?.id ?? BASIC_CHECK_OF_RULE[id]);
    if (failed !== undefined) coverage.hitFailing[failed] = (coverage.hitFailing[failed] ?? 0) + 1;
    const op = step.operation;
    if ((op.kind !== 'vmlaunch' && op.kind !== 'vmresume') || !pastBasicChecks(step)) continue;
    const state = stateBefore(steps, i, initial);
    const current = currentVmcs(state, op.cpu);
    if (current === undefined) continue;
    const view = controlsInEffect(viewOf(current.content));
    const env = environmentOf(state, op.cpu);
    for (const rule of MODELLED) {
      if (evaluate(rule, view, env).kind === 'pass') coverage.hitPassing[rule.id] = (coverage.hitPassing[rule.id] ?? 0) + 1;
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
