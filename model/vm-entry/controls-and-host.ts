/**
 * The second phase of VM entry: the checks on the VMX controls and the host-state area (SDM Vol.
 * 3C, December 2023, §27.2 "Checks on VMX Controls and Host-State Area"). A failing control check
 * gives VMfailValid(7), a failing host-state check VMfailValid(8); the SDM lets the processor
 * perform these checks in any order, so with failures of both kinds either error is allowed
 * (assess.ts).
 *
 * The checks "Related to Address-Space Size" (§27.2.4) read both control fields and host fields,
 * and the SDM does not say which of the two errors their failure gives; the model allows both.
 * (Bochs reports 8; the catalogue records 8 with this note.)
 */
import { VM_ERROR } from '../../spec/errors.ts';
import type { EntryCheck, EntryCheckGroup } from '../../spec/entry-checks/index.ts';
import { assessPhase } from './assess.ts';
import type { Judged, PhaseAssessment } from './assess.ts';
import type { CheckEnvironment, VmcsView } from './check.ts';
import { evaluate } from './check.ts';
import { controlsInEffect } from './derived.ts';
import { catalogueEntry, MODEL_ENTRY_RULES, unimplemented } from './rules.ts';

/** The groups of this phase, in SDM order. */
export const CONTROL_AND_HOST_GROUPS: readonly EntryCheckGroup[] = [
  'execution-controls',
  'exit-controls',
  'entry-controls',
  'event-injection',
  'host-control-registers',
  'host-segment-registers',
  'address-space-size',
];

/** The VMfailValid errors a failure of `entry` may report. */
export function errorsOf(entry: EntryCheck): readonly number[] {
  if (entry.group === 'address-space-size') return [VM_ERROR.ENTRY_INVALID_CONTROLS, VM_ERROR.ENTRY_INVALID_HOST_STATE];
  if (entry.consequence.kind !== 'vmfail-valid') throw new Error(`model bug: ${entry.id} is in a VMfailValid group but says ${entry.consequence.kind}`);
  return [entry.consequence.error];
}

/**
 * Every check of this phase judged over `vmcs`, and the assessment of the phase. The checks see
 * the secondary, tertiary and VM-function controls in effect (derived.ts).
 */
export function judgeControlsAndHost(vmcs: VmcsView, env: CheckEnvironment): { judged: Judged[]; assessment: PhaseAssessment } {
  const view = controlsInEffect(vmcs);
  const judged: Judged[] = [];
  const incomplete = new Set<number>();
  for (const group of CONTROL_AND_HOST_GROUPS) {
    for (const rule of MODEL_ENTRY_RULES[group] ?? []) {
      judged.push({ rule, result: evaluate(rule, view, env), consequences: errorsOf(catalogueEntry(rule)) });
    }
    for (const entry of unimplemented(group)) for (const error of errorsOf(entry)) incomplete.add(error);
  }
  return { judged, assessment: assessPhase(judged, [...incomplete]) };
}
