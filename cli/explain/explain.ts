/**
 * `explain`'s judgement of one VMCS: every VM-entry check of the model evaluated over what a dump
 * states (not only the first that fails, as a processor would report), each failure with its
 * catalogue entry and the values involved, the checks the dump does not give enough to decide,
 * and the checks the model does not implement yet. Then what a processor would report, as the
 * set the SDM allows: control and host-state failures (VMfailValid(7) or (8)) come before
 * guest-state failures (exit reason 33 with a qualification), which come before MSR loading.
 */
import { ENTRY_CHECK_GROUPS, entryCheckById } from '../../spec/entry-checks/index.ts';
import type { EntryCheck, EntryCheckGroup } from '../../spec/entry-checks/index.ts';
import type { FieldName } from '../../spec/fields.ts';
import type { Profile } from '../../spec/profile.ts';
import type { CheckEnvironment, CheckResult, VmcsView } from '../../model/vm-entry/check.ts';
import { evaluate } from '../../model/vm-entry/check.ts';
import { CONTROL_AND_HOST_GROUPS, errorsOf } from '../../model/vm-entry/controls-and-host.ts';
import { MODEL_ENTRY_RULES, unimplemented } from '../../model/vm-entry/rules.ts';
import type { VmcsDump } from './vmcs-dump.ts';

/** One check's verdict over the dump. */
export interface ExplainedCheck {
  check: EntryCheck;
  result: CheckResult;
}

/** What a processor would report for the VMCS, as far as the judged checks tell. */
export type Reported =
  /** Every judged check passes; the unjudged ones (undecided, not modelled) decide. */
  | { kind: 'no-failure-found' }
  | { kind: 'vmfail-valid'; errors: readonly number[] }
  | { kind: 'entry-failure'; exitReason: number; qualifications: readonly number[] };

/** The whole judgement. */
export interface Explanation {
  profile: string;
  failing: ExplainedCheck[];
  undecided: ExplainedCheck[];
  passed: number;
  notApplicable: number;
  /** Catalogue checks the model does not implement yet, by group. */
  notModelled: { group: EntryCheckGroup; checks: readonly EntryCheck[] }[];
  reported: Reported;
}

/** The model's checks judged over `dump` for a processor described by `profile`. */
export function explain(dump: VmcsDump, profile: Profile): Explanation {
  const view: VmcsView = { get: (field: FieldName) => dump.fields.get(field) };
  const env: CheckEnvironment = { profile, readMemory32: () => undefined };
  const failing: ExplainedCheck[] = [];
  const undecided: ExplainedCheck[] = [];
  let passed = 0;
  let notApplicable = 0;
  const notModelled: Explanation['notModelled'] = [];
  for (const group of ENTRY_CHECK_GROUPS) {
    if (group === 'basic') continue;
    for (const rule of MODEL_ENTRY_RULES[group] ?? []) {
      const check = entryCheckById(rule.id);
      if (check === undefined) throw new Error(`model rule ${rule.id} has no catalogue entry`);
      const result = evaluate(rule, view, env);
      if (result.kind === 'fail') failing.push({ check, result });
      else if (result.kind === 'undecided' || result.kind === 'may-fail') undecided.push({ check, result });
      else if (result.kind === 'pass') passed += 1;
      else notApplicable += 1;
    }
    const missing = unimplemented(group);
    if (missing.length > 0) notModelled.push({ group, checks: missing });
  }
  return { profile: profile.name, failing, undecided, passed, notApplicable, notModelled, reported: reportedFor(failing) };
}

function reportedFor(failing: readonly ExplainedCheck[]): Reported {
  const controlsAndHost = failing.filter((each) => CONTROL_AND_HOST_GROUPS.includes(each.check.group));
  if (controlsAndHost.length > 0) {
    const errors = new Set(controlsAndHost.flatMap((each) => errorsOf(each.check)));
    return { kind: 'vmfail-valid', errors: [...errors].sort((a, b) => a - b) };
  }
  const guest = failing.filter((each) => each.check.consequence.kind === 'entry-failure-guest-state');
  if (guest.length > 0) {
    const qualifications = new Set(
      guest.map((each) => (each.check.consequence.kind === 'entry-failure-guest-state' ? each.check.consequence.qualification : 0)),
    );
    return { kind: 'entry-failure', exitReason: 0x8000_0021, qualifications: [...qualifications].sort((a, b) => a - b) };
  }
  return { kind: 'no-failure-found' };
}
