/**
 * The exit information of a VM exit caused by a VMX instruction in VMX non-root operation (basic
 * reasons 18-27, 50 INVEPT, 53 INVVPID, 59 VMFUNC), SDM Vol. 3C, December 2023, §28.2.1 "Basic
 * VM-Exit Information" and §28.2.5 "Information for VM Exits Due to Instruction Execution":
 * - exit qualification: for VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMXON, INVEPT and
 *   INVVPID the displacement of the memory operand (0 here: operands are `[RBX]` with no
 *   displacement, or a register); cleared for VMCALL, VMLAUNCH, VMRESUME, VMXOFF and VMFUNC;
 * - VM-exit instruction length: every one of these exits (VMFUNC's when the function is not
 *   enabled or EPTP switching fails), from the encodings of spec/instruction-encodings.ts;
 * - VM-exit instruction information: the formats "as Used for VMCLEAR, VMPTRLD, VMPTRST, VMXON,
 *   XRSTORS, and XSAVES", "as Used for VMREAD and VMWRITE" and "as Used for INVEPT, INVPCID, and
 *   INVVPID" of §28.2.5 (spec/instruction-information.ts); undefined for the other five (left
 *   alone).
 *
 * Trick: every length and instruction-information value depends only on (instruction, 64-bit mode
 * or not, register or memory form), so all of them are computed once at module load into small
 * Int32Arrays; an exit reads two of them and allocates nothing.
 */
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { instructionLength } from '../../spec/instruction-encodings.ts';
import type { Operation } from '../../spec/operations.ts';
import {
  EXIT_INFO_INSTRUCTION_INFORMATION,
  EXIT_INFO_INSTRUCTION_LENGTH,
  EXIT_INFO_QUALIFICATION,
  type ExitInfo,
} from '../vm-exit/exit-info.ts';
import { informationOf } from './vmx-instruction-information.ts';

/** The VMX instructions that exit, as indices of the tables below. */
export const VMX_EXIT_VMCALL = 0;
export const VMX_EXIT_VMCLEAR = 1;
export const VMX_EXIT_VMLAUNCH = 2;
export const VMX_EXIT_VMPTRLD = 3;
export const VMX_EXIT_VMPTRST = 4;
export const VMX_EXIT_VMREAD = 5;
export const VMX_EXIT_VMRESUME = 6;
export const VMX_EXIT_VMWRITE = 7;
export const VMX_EXIT_VMXOFF = 8;
export const VMX_EXIT_VMXON = 9;
export const VMX_EXIT_INVEPT = 10;
export const VMX_EXIT_INVVPID = 11;
export const VMX_EXIT_VMFUNC = 12;

/** Each exiting instruction: its operation kind (for its encoding) and basic exit reason, in VMX_EXIT_* order. */
const INSTRUCTIONS: readonly { op: Operation; reason: number }[] = [
  { op: { kind: 'vmcall', cpu: 0 }, reason: EXIT_REASON.VMCALL },
  { op: { kind: 'vmclear', cpu: 0, pointer: '0x0' }, reason: EXIT_REASON.VMCLEAR },
  { op: { kind: 'vmlaunch', cpu: 0 }, reason: EXIT_REASON.VMLAUNCH },
  { op: { kind: 'vmptrld', cpu: 0, pointer: '0x0' }, reason: EXIT_REASON.VMPTRLD },
  { op: { kind: 'vmptrst', cpu: 0 }, reason: EXIT_REASON.VMPTRST },
  { op: { kind: 'vmread', cpu: 0, encoding: '0x0' }, reason: EXIT_REASON.VMREAD },
  { op: { kind: 'vmresume', cpu: 0 }, reason: EXIT_REASON.VMRESUME },
  { op: { kind: 'vmwrite', cpu: 0, encoding: '0x0', value: '0x0' }, reason: EXIT_REASON.VMWRITE },
  { op: { kind: 'vmxoff', cpu: 0 }, reason: EXIT_REASON.VMXOFF },
  { op: { kind: 'vmxon', cpu: 0, pointer: '0x0' }, reason: EXIT_REASON.VMXON },
  { op: { kind: 'invept', cpu: 0, type: '0x0', descriptor: ['0x0', '0x0'] }, reason: EXIT_REASON.INVEPT },
  { op: { kind: 'invvpid', cpu: 0, type: '0x0', descriptor: ['0x0', '0x0'] }, reason: EXIT_REASON.INVVPID },
  { op: { kind: 'vmfunc', cpu: 0, eax: '0x0', ecx: '0x0' }, reason: EXIT_REASON.VMFUNC },
];

/** Basic exit reason by VMX_EXIT_* index. */
export const VMX_EXIT_REASON = Int32Array.from(INSTRUCTIONS, (i) => i.reason);

/** Instruction length by `kind * 2 + wide` (wide = 1 in 64-bit mode). */
const LENGTH = new Int32Array(INSTRUCTIONS.length * 2);
/** Instruction information by `(kind * 2 + wide) * 2 + register`; -1 where the SDM leaves the field undefined. */
const INFORMATION = new Int32Array(INSTRUCTIONS.length * 4);

INSTRUCTIONS.forEach(({ op }, kind) => {
  for (const wide of [0, 1]) {
    const length = instructionLength(op, wide === 1);
    if (length === undefined) throw new Error(`impl bug: no encoding length for ${op.kind}`);
    LENGTH[kind * 2 + wide] = length;
    for (const register of [0, 1]) {
      INFORMATION[(kind * 2 + wide) * 2 + register] = informationOf(op.kind, wide === 1, register === 1) ?? -1;
    }
  }
});

/** The instruction length of VMX_EXIT_* `kind` in 64-bit mode (`wide` 1) or not (0). */
export function vmxInstructionLength(kind: number, wide: number): number {
  return LENGTH[kind * 2 + wide] as number;
}

/**
 * Fills `info` for a VM exit of VMX_EXIT_* `kind`: qualification 0 (no displacement), the
 * instruction length, and the instruction information where the SDM defines it. `register` is 1
 * for the register form (ModRM.mod = 11b) of VMREAD/VMWRITE, 0 for a memory operand.
 */
export function fillVmxExitInfo(info: ExitInfo, kind: number, wide: number, register: number): void {
  info.clear();
  const information = INFORMATION[(kind * 2 + wide) * 2 + register] as number;
  info.instructionLength = LENGTH[kind * 2 + wide] as number;
  if (information === -1) {
    info.defined = EXIT_INFO_QUALIFICATION | EXIT_INFO_INSTRUCTION_LENGTH;
  } else {
    info.instructionInformation = information;
    info.defined = EXIT_INFO_QUALIFICATION | EXIT_INFO_INSTRUCTION_LENGTH | EXIT_INFO_INSTRUCTION_INFORMATION;
  }
}
