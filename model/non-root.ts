/**
 * What the VMX instructions consult in VMX non-root operation: VM-execution controls and related
 * fields of the current VMCS (the one that controls the guest).
 *
 * "Activate secondary controls" (primary processor-based control 31) = 0 makes VMX non-root
 * operation behave as if every secondary control were 0 (SDM Vol. 3C, December 2023, §25.6.2
 * "Processor-Based VM-Execution Controls").
 *
 * VMX non-root operation is reached only through a VM entry, which checks these fields; VM entry
 * is not modelled yet, so a non-root state comes from a unit test that builds it. When a field an
 * instruction needs is unknown in such a state, the step is not modelled.
 */
import { sdm } from '../spec/citation.ts';
import { PRIMARY_CONTROL } from '../spec/control-bits.ts';
import { FIELD } from '../spec/fields.ts';
import { rule } from './rule.ts';
import type { ActiveVmcs, ModelState } from './state.ts';
import { knownFieldValue } from './vmcs-fields.ts';
import { currentVmcs } from './vmcs.ts';

export const NON_ROOT_RULES = {
  controlsUnknown: rule(
    'non-root.controls-unknown',
    'VMX non-root operation',
    sdm('25.6.2', 'Processor-Based VM-Execution Controls'),
    'a VM-execution control or address the instruction depends on is unknown to the model (VM entry, which would have checked it, is not modelled)',
  ),
} as const;

/** The VMCS controlling a processor in VMX non-root operation; a model bug if there is none. */
export function controllingVmcs(state: ModelState, cpu: number): ActiveVmcs {
  const current = currentVmcs(state, cpu);
  if (current === undefined) throw new Error(`model invariant broken: processor ${cpu} is in VMX non-root operation without a current VMCS`);
  return current;
}

/** Field `encoding` of the controlling VMCS, or `undefined` when the model does not know it. */
export function controlField(state: ModelState, cpu: number, encoding: number): bigint | undefined {
  return knownFieldValue(controllingVmcs(state, cpu).content, encoding);
}

/** The secondary processor-based controls in effect (0 when they are not activated), or `undefined`. */
export function secondaryControlsInEffect(state: ModelState, cpu: number): bigint | undefined {
  const primary = controlField(state, cpu, FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS);
  if (primary === undefined) return undefined;
  if (((primary >> BigInt(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)) & 1n) === 0n) return 0n;
  return controlField(state, cpu, FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS);
}

/** Bit `position` of `value`. */
export function bitOf(value: bigint, position: number): boolean {
  return ((value >> BigInt(position)) & 1n) === 1n;
}
