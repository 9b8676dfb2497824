/**
 * From the results of the checks of one phase of VM entry to the outcomes the SDM allows.
 *
 * The SDM lets a processor perform the checks on the VMX controls and the host-state area "in any
 * order" (SDM Vol. 3C, December 2023, §27.2 "Checks on VMX Controls and Host-State Area"), and
 * likewise the checks on the guest-state area (§27.3.1 "Checks on the Guest State Area"). So when
 * several checks of a phase fail, the processor may report the consequence of any one of them:
 * the allowed set holds the consequence of every failing check. A check the model could not
 * decide (an unknown field) may fail or not: its consequence joins the set when some other check
 * fails for certain, and when none does, the phase cannot be judged at all. A check that may fail
 * (its outcome depends on a processor fact the profile does not record, check.ts `MayFail`) is
 * like an undecided one when another check fails for certain; when none does, the phase may pass
 * or report the consequence of any check that may fail.
 *
 * The phases themselves come in a fixed order (§27.1-§27.4): basic checks, then controls and host
 * state, then guest state, then MSR loading.
 */
import type { FieldName } from '../../spec/fields.ts';
import type { CheckResult, EntryRule } from './check.ts';

/** One check's result, with the consequence a failure of it has (an error number or qualification). */
export interface Judged {
  rule: EntryRule;
  result: CheckResult;
  /**
   * What a failure of the check may report: VMfailValid error numbers (controls, host state) or
   * exit qualifications (guest state). Usually one; more where the SDM leaves the choice open.
   */
  consequences: readonly number[];
}

/** What one phase of VM entry allows. */
export type PhaseAssessment =
  /** Every check passed or did not apply. */
  | { kind: 'pass' }
  /** Some check fails for certain; `consequences` (sorted) are those a processor may report. */
  | { kind: 'fail'; consequences: readonly number[]; failing: readonly Judged[]; undecided: readonly Judged[] }
  /** No check fails for certain but some could not be decided. */
  | { kind: 'undecided'; undecided: readonly Judged[]; missing: readonly string[] }
  /**
   * No check fails for certain, every check was decided, and some may fail on some processors:
   * the phase passes, or reports one of `consequences` (sorted).
   */
  | { kind: 'may-fail'; consequences: readonly number[]; mayFail: readonly Judged[] };

/**
 * The outcome of a phase whose checks were judged as `judged`. `incomplete` lists consequences
 * of checks the model does not evaluate yet (a group not written yet): they count as undecided.
 */
export function assessPhase(judged: readonly Judged[], incomplete: readonly number[] = []): PhaseAssessment {
  const failing = judged.filter((each) => each.result.kind === 'fail');
  const undecided = judged.filter((each) => each.result.kind === 'undecided');
  const mayFail = judged.filter((each) => each.result.kind === 'may-fail');
  if (failing.length > 0) {
    undecided.push(...mayFail);
    const consequences = new Set<number>([...failing, ...undecided].flatMap((each) => each.consequences));
    for (const each of incomplete) consequences.add(each);
    return { kind: 'fail', consequences: [...consequences].sort((a, b) => a - b), failing, undecided };
  }
  if (undecided.length > 0 || incomplete.length > 0) {
    const missing = new Set<string>();
    for (const each of undecided) if (each.result.kind === 'undecided') for (const m of each.result.missing) missing.add(m);
    return { kind: 'undecided', undecided, missing: [...missing] };
  }
  if (mayFail.length > 0) {
    const consequences = new Set<number>(mayFail.flatMap((each) => each.consequences));
    return { kind: 'may-fail', consequences: [...consequences].sort((a, b) => a - b), mayFail };
  }
  return { kind: 'pass' };
}

/** The fields among `missing` (the rest are other facts, such as memory). */
export function missingFields(missing: readonly string[], isField: (name: string) => name is FieldName): FieldName[] {
  return missing.filter(isField);
}
