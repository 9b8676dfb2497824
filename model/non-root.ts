/**
 * What the VMX instructions consult in VMX non-root operation: VM-execution controls and related
 * fields of the current VMCS (the one that controls the guest).
 *
 * "Activate secondary controls" (primary processor-based control 31) = 0 makes VMX non-root
 * operation behave as if every secondary control were 0 (SDM Vol. 3C, December 2023, §25.6.2
 * "Processor-Based VM-Execution Controls").
 *
 * VMX non-root operation is reached through a VM entry, which checks these fields (model/vm-entry/),
 * or in unit tests through a state built directly. When a field an instruction needs is unknown in
 * such a state, the step is not modelled.
 *
 * A guest instruction that completes (VMsucceed, VMfail, or a VM function that does its work)
 * moves the guest's RIP past itself: `rip` advances by the instruction's length, so that a later
 * VM exit saves the RIP of the instruction that exited (§28.3.3 "Saving RIP, RSP, RFLAGS, and
 * SSP"). A fault or a VM exit leaves RIP at the instruction.
 */
import { sdm } from '../spec/citation.ts';
import { PRIMARY_CONTROL } from '../spec/control-bits.ts';
import { FIELD } from '../spec/fields.ts';
import { instructionLength } from '../spec/instruction-encodings.ts';
import type { Operation } from '../spec/operations.ts';
import { in64BitMode } from './modes.ts';
import { rule } from './rule.ts';
import type { ActiveVmcs, ModelState } from './state.ts';
import { cpuOf, withCpu } from './state.ts';
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

/**
 * `state` after guest instruction `op` of processor `cpu` completed: in VMX non-root operation,
 * RIP advanced by the instruction's length (the model knows RIP only once a VM entry loaded it).
 * The sum wraps at 2^64 in 64-bit mode and at 2^32 outside it, where the instruction pointer is EIP
 * (16-bit code segments are not modelled). Outside VMX non-root operation nothing observes RIP,
 * and it is left alone.
 */
export function pastInstruction(state: ModelState, cpu: number, op: Operation): ModelState {
  const processor = cpuOf(state, cpu);
  if (processor.vmx !== 'non-root' || processor.rip === undefined) return state;
  const in64 = in64BitMode(processor);
  const length = instructionLength(op, in64);
  if (length === undefined) return state;
  const wrap = in64 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
  return withCpu(state, cpu, { rip: (processor.rip + BigInt(length)) & wrap });
}
