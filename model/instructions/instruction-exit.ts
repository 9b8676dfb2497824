/**
 * The exit information of VM exits caused by VMX instructions in VMX non-root operation (SDM Vol.
 * 3C, December 2023, §28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields"):
 *
 * - Exit reason: the instruction's basic exit reason (Vol. 3D Appendix C "VMX Basic Exit Reasons").
 * - Exit qualification (§28.2.1 "Basic VM-Exit Information"): for INVEPT, INVVPID, VMCLEAR,
 *   VMPTRLD, VMPTRST, VMREAD, VMWRITE and VMXON the displacement of the memory operand,
 *   sign-extended, or 0 when there is none (a register operand); `[RBX]` has none, so 0, and
 *   outside 64-bit mode bits 63:32 are undefined. VMCALL, VMLAUNCH, VMRESUME, VMXOFF and VMFUNC
 *   are not among the exits that save a qualification, for which the field is cleared.
 * - VM-exit instruction length (§28.2.5 "Information for VM Exits Due to Instruction Execution"):
 *   defined for every VMX instruction that exits (VMCALL to VMXON, INVEPT, INVVPID, and VMFUNC
 *   when the function is not enabled or EPTP switching fails), the length of the encoding the
 *   contract fixes (spec/instruction-encodings.ts).
 * - VM-exit instruction information (§28.2.5): for VMCLEAR, VMPTRLD, VMPTRST, VMXON, VMREAD,
 *   VMWRITE, INVEPT and INVVPID, in the formats of spec/instruction-information.ts, for the
 *   operand conventions of spec/instruction-encodings.ts: a memory operand is `[RBX]` in DS (no
 *   index, no displacement) with the mode's address size (64-bit in 64-bit mode, 32-bit
 *   otherwise); VMREAD/VMWRITE have Reg2 = RCX (the encoding) and Reg1 = RDX (register form);
 *   INVEPT/INVVPID have Reg2 = RCX (the type). Undefined for the other VMX instructions.
 *
 * Bits the SDM leaves undefined in the instruction information (the address size and segment of
 * a register VMREAD, bits 31:28 of VMCLEAR's, ...) are 0 in the value and named in
 * `instructionInformationUndefinedMask`; the bits of the displacement qualification above a 32-bit
 * address size in `qualificationUndefinedMask` (§28.2.1 leaves every bit above the instruction's
 * address size undefined).
 */
import type { ExitInformation } from '../../spec/exit-information.ts';
import { displacementQualification, exitSavesQualification } from '../../spec/exit-qualification.ts';
import {
  FIELD_ENCODING_REGISTER,
  FIELD_VALUE_REGISTER,
  instructionLength,
  INVALIDATION_TYPE_REGISTER,
  MEMORY_OPERAND_BASE,
  MEMORY_OPERAND_SEGMENT,
} from '../../spec/instruction-encodings.ts';
import { ADDRESS_SIZE, invalidationInformation, vmreadVmwriteInformation, vmxMemoryInformation } from '../../spec/instruction-information.ts';
import type { InstructionInformation, MemoryOperand } from '../../spec/instruction-information.ts';
import type { Operation, OperandForm } from '../../spec/operations.ts';
import { in64BitMode } from '../modes.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Branch } from '../verdict.ts';
import { vmExitWith } from '../vm-exit.ts';

/** The displacement of `[RBX]`: none. */
const NO_DISPLACEMENT = 0;
/** The exit qualification of an exit that does not save one: cleared. */
const CLEARED = 0n;

/** Which instruction-information format an exiting VMX instruction uses, if any. */
export type InformationFormat =
  | { format: 'none' }
  | { format: 'pointer' }
  | { format: 'vmread-vmwrite'; form: OperandForm }
  | { format: 'invalidation' };

/** The contract's memory operand `[RBX]` (`[EBX]` outside 64-bit mode) in DS. */
function memoryOperand(in64: boolean): MemoryOperand {
  return { addressSize: in64 ? ADDRESS_SIZE.BITS_64 : ADDRESS_SIZE.BITS_32, segment: MEMORY_OPERAND_SEGMENT, base: MEMORY_OPERAND_BASE };
}

/** The instruction information of `format` for a processor in 64-bit mode or not; `undefined` for 'none'. */
export function instructionInformationFor(format: InformationFormat, in64: boolean): InstructionInformation | undefined {
  switch (format.format) {
    case 'none':
      return undefined;
    case 'pointer':
      return vmxMemoryInformation({ memory: memoryOperand(in64) });
    case 'vmread-vmwrite':
      return format.form === 'register'
        ? vmreadVmwriteInformation({ reg2: FIELD_ENCODING_REGISTER, register: FIELD_VALUE_REGISTER })
        : vmreadVmwriteInformation({ reg2: FIELD_ENCODING_REGISTER, memory: memoryOperand(in64) });
    case 'invalidation':
      return invalidationInformation({ memory: memoryOperand(in64), reg2: INVALIDATION_TYPE_REGISTER });
  }
}

/** Bits 63:32 of a displacement qualification: undefined with a 32-bit address size. */
const ABOVE_32_BITS = 0xffff_ffff_0000_0000n;

/** The exit information of VMX instruction `op` exiting with `reason` on processor `cpu`. */
export function vmxInstructionExitInformation(state: ModelState, cpu: number, op: Operation, reason: number, format: InformationFormat): ExitInformation {
  const in64 = in64BitMode(cpuOf(state, cpu));
  const length = instructionLength(op, in64);
  const information = instructionInformationFor(format, in64);
  const savesDisplacement = exitSavesQualification(reason);
  return {
    reason,
    qualification: savesDisplacement ? displacementQualification(NO_DISPLACEMENT) : CLEARED,
    ...(savesDisplacement && !in64 ? { qualificationUndefinedMask: ABOVE_32_BITS } : {}),
    ...(length === undefined ? {} : { instructionLength: length }),
    ...(information === undefined ? {} : { instructionInformation: information.value, instructionInformationUndefinedMask: information.undefinedMask }),
  };
}

/** The VM exit of VMX instruction `op` (basic exit reason `reason`), decided by `rule`, with its exit information. */
export function vmxInstructionExit(state: ModelState, cpu: number, rule: Rule, op: Operation, reason: number, format: InformationFormat): Branch {
  return vmExitWith(state, cpu, rule, vmxInstructionExitInformation(state, cpu, op, reason, format));
}
