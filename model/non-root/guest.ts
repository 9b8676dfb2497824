/**
 * What every guest operation shares (spec/guest-operations.ts): the privilege level the
 * instruction pages test, the controls of the VMCS that governs VMX non-root operation, an
 * instruction's VM exit with its instruction length, and an instruction that completes.
 *
 * - **Privilege.** The instruction pages (SDM Vol. 2, December 2023) fault at "CPL > 0"; in
 *   virtual-8086 mode the CPL is 3 and in real-address mode it is 0 (Vol. 3A §2.5 "Control
 *   Registers" and §20.2 "Virtual-8086 Mode"). Such privilege faults, and every #UD, come before
 *   a VM exit (Vol. 3C §26.1.1 "Relative Priority of Faults and VM Exits").
 * - **Exits.** An instruction's VM exit records the instruction length for every instruction of
 *   case format 4 (§28.2.5 "Information for VM Exits Due to Instruction Execution") and the exit
 *   qualification its exit reason defines; "for all other VM exits" the qualification is cleared
 *   (§28.2.1 "Basic VM-Exit Information").
 * - **Completion.** An instruction that completes in a guest advances RIP by its length
 *   (spec/instruction-encodings.ts); one that completes outside VMX non-root operation leaves
 *   RIP alone (nothing observes it there). Arithmetic flags are unchanged by every instruction of
 *   case format 4 that completes.
 */
import type { ExitInformation } from '../../spec/exit-information.ts';
import { toHex } from '../../spec/hex.ts';
import { instructionLength } from '../../spec/instruction-encodings.ts';
import type { Operation } from '../../spec/operations.ts';
import { fault } from '../conventions.ts';
import { in64BitMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { controlField, NON_ROOT_RULES, secondaryControlsInEffect } from '../non-root.ts';
import type { Rule } from '../rule.ts';
import type { CpuState, ModelState } from '../state.ts';
import { cpuOf, ModelInputError, withCpu } from '../state.ts';
import type { Branch, Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { vmExitWith } from '../vm-exit.ts';
import { FIELD } from '../../spec/fields.ts';

/** The privilege level an instruction page tests: 0 in real-address mode, 3 in virtual-8086 mode. */
export function privilegeLevel(cpu: CpuState): number {
  if (inRealAddressMode(cpu)) return 0;
  if (inVirtual8086Mode(cpu)) return 3;
  return cpu.cpl;
}

/** True when the instruction runs at CPL 0 (real-address mode included, virtual-8086 mode excluded). */
export function atCplZero(cpu: CpuState): boolean {
  return privilegeLevel(cpu) === 0;
}

/** #GP(0), as the only outcome. */
export function gp(state: ModelState, c: number, why: Rule): Verdict {
  return defined(fault(state, c, why, 'GP'));
}

/** #UD, as the only outcome. */
export function ud(state: ModelState, c: number, why: Rule): Verdict {
  return defined(fault(state, c, why, 'UD'));
}

/** The step depends on a control field the model does not know. */
export function controlsUnknown(): Verdict {
  return notModelled(NON_ROOT_RULES.controlsUnknown);
}

/** The primary processor-based controls of the governing VMCS, or `undefined`. */
export function primaryControls(state: ModelState, c: number): bigint | undefined {
  return controlField(state, c, FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS);
}

/** The secondary processor-based controls in effect, or `undefined`. */
export function secondaryControls(state: ModelState, c: number): bigint | undefined {
  return secondaryControlsInEffect(state, c);
}

/** Bit `position` of a control value. */
export function controlBit(controls: bigint, position: number): boolean {
  return ((controls >> BigInt(position)) & 1n) === 1n;
}

/** The length of `op` in the processor's current mode. */
export function lengthOf(cpu: CpuState, op: Operation): number | undefined {
  return instructionLength(op, in64BitMode(cpu));
}

/**
 * A VM exit caused by instruction `op`: basic exit reason `reason`, exit qualification
 * `qualification` (0 where the SDM clears it, `undefined` where it leaves it undefined), the
 * instruction length, and `more` exit information.
 */
export function exitBranch(
  state: ModelState,
  c: number,
  op: Operation,
  why: Rule,
  reason: number,
  qualification: bigint | undefined,
  more: Partial<Omit<ExitInformation, 'reason' | 'qualification' | 'instructionLength'>> = {},
): Branch {
  const info: ExitInformation = { reason, qualification, instructionLength: lengthOf(cpuOf(state, c), op), ...more };
  return vmExitWith(state, c, why, info);
}

/** {@link exitBranch} as the only outcome. */
export function instructionExit(
  state: ModelState,
  c: number,
  op: Operation,
  why: Rule,
  reason: number,
  qualification: bigint | undefined,
  more: Partial<Omit<ExitInformation, 'reason' | 'qualification' | 'instructionLength'>> = {},
): Verdict {
  return defined(exitBranch(state, c, op, why, reason, qualification, more));
}

/**
 * Instruction `op` completed: `changes` applied to the processor, RIP advanced by the length in
 * VMX non-root operation, the flags unchanged, and `value` (a register read) reported when the
 * model knows it.
 */
export function completes(state: ModelState, c: number, op: Operation, why: Rule, changes: Partial<CpuState> = {}, value?: bigint): Branch {
  const cpu = cpuOf(state, c);
  const length = lengthOf(cpu, op);
  const width = in64BitMode(cpu) ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
  const rip = cpu.vmx === 'non-root' && cpu.rip !== undefined && length !== undefined ? { rip: (cpu.rip + BigInt(length)) & width } : {};
  const after = withCpu(state, c, { ...changes, ...rip });
  const flags = cpuOf(after, c).flags;
  const expected = value === undefined ? { kind: 'ok' as const, flags } : { kind: 'ok' as const, flags, value: toHex(value) };
  return { expected, rule: why, next: () => after };
}

/** {@link completes} as the only outcome. */
export function completed(state: ModelState, c: number, op: Operation, why: Rule, changes: Partial<CpuState> = {}, value?: bigint): Verdict {
  return defined(completes(state, c, op, why, changes, value));
}

/** Checks a register number of an operation: an integer 0..15. */
export function checkGpr(gpr: number | undefined, kind: string): number {
  const value = gpr ?? 0;
  if (!Number.isInteger(value) || value < 0 || value > 15) {
    throw new ModelInputError(`${kind}: gpr must be an integer from 0 (RAX) to 15 (R15), got ${JSON.stringify(gpr)}`);
  }
  return value;
}

/** A general-purpose register number as the exit qualification reports it: bits 2:0 outside 64-bit mode. */
export function reportedGpr(cpu: CpuState, gpr: number): number {
  return in64BitMode(cpu) ? gpr : gpr & 7;
}
