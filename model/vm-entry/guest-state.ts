/**
 * The third phase of VM entry: the checks on the guest-state area (SDM Vol. 3C, December 2023,
 * §27.3.1 "Checks on the Guest State Area"). A failure is a VM-entry failure: exit reason 33
 * ("VM-entry failure due to invalid guest state") with bit 31 set, and an exit qualification that
 * says which kind of check failed (0 by default, 2 for PDPTE loading, 3 for NMI injection under
 * blocking, 4 for the VMCS link pointer; §27.8 "VM-Entry Failures During or After Loading Guest
 * State"). The SDM lets the processor perform these checks in any order, so with several
 * failures the qualification of any of them is allowed (assess.ts).
 */
import type { EntryCheck, EntryCheckGroup } from '../../spec/entry-checks/index.ts';
import { assessPhase } from './assess.ts';
import type { Judged, PhaseAssessment } from './assess.ts';
import type { CheckEnvironment, VmcsView } from './check.ts';
import { evaluate } from './check.ts';
import { catalogueEntry, MODEL_ENTRY_RULES, unimplemented } from './rules.ts';

/** The groups of this phase, in SDM order (MSR loading comes after, on its own). */
export const GUEST_STATE_GROUPS: readonly EntryCheckGroup[] = [
  'guest-control-registers',
  'guest-segment-registers',
  'guest-descriptor-tables',
  'guest-rip-rflags',
  'guest-non-register-state',
  'guest-pdptes',
];

/** The exit qualification a failure of `entry` reports. */
export function qualificationOf(entry: EntryCheck): number {
  if (entry.consequence.kind !== 'entry-failure-guest-state') {
    throw new Error(`model bug: ${entry.id} is in a guest-state group but says ${entry.consequence.kind}`);
  }
  return entry.consequence.qualification;
}

/** Every guest-state check judged over `view`, and the assessment of the phase. */
export function judgeGuestState(view: VmcsView, env: CheckEnvironment): { judged: Judged[]; assessment: PhaseAssessment } {
  const judged: Judged[] = [];
  const incomplete = new Set<number>();
  for (const group of GUEST_STATE_GROUPS) {
    for (const rule of MODEL_ENTRY_RULES[group] ?? []) {
      judged.push({ rule, result: evaluate(rule, view, env), consequences: [qualificationOf(catalogueEntry(rule))] });
    }
    for (const entry of unimplemented(group)) incomplete.add(qualificationOf(entry));
  }
  return { judged, assessment: assessPhase(judged, [...incomplete]) };
}
