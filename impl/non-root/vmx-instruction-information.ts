/**
 * The VM-exit instruction information of the VMX instructions that define it, for the operand
 * conventions of spec/instruction-encodings.ts (memory operand `[RBX]`: base RBX, no index, no
 * displacement, segment DS, address size 64 bits in 64-bit mode and 32 bits otherwise;
 * VMREAD/VMWRITE field encoding in RCX and value in RDX; INVEPT/INVVPID type in RCX), encoded by
 * the encoders of spec/instruction-information.ts (SDM Vol. 3C, December 2023, §28.2.5
 * "Information for VM Exits Due to Instruction Execution": the formats for VMCLEAR, VMPTRLD,
 * VMPTRST, VMXON, XRSTORS and XSAVES; for VMREAD and VMWRITE; for INVEPT, INVPCID and INVVPID).
 *
 * Bits the SDM leaves undefined are 0, with one choice: impl/ writes the address size (bits 9:7)
 * also for the register form of VMREAD/VMWRITE, where the SDM leaves it undefined. Called at
 * module load only (the encoders use BigInt).
 */
import { FIELD_ENCODING_REGISTER, FIELD_VALUE_REGISTER, INVALIDATION_TYPE_REGISTER, MEMORY_OPERAND_BASE, MEMORY_OPERAND_SEGMENT } from '../../spec/instruction-encodings.ts';
import {
  ADDRESS_SIZE,
  INSTRUCTION_INFO,
  invalidationInformation,
  type MemoryOperand,
  vmreadVmwriteInformation,
  vmxMemoryInformation,
} from '../../spec/instruction-information.ts';
import type { Operation } from '../../spec/operations.ts';

/** The memory operand `[RBX]` (`[EBX]` outside 64-bit mode) in DS. */
function memoryOperand(in64BitMode: boolean): MemoryOperand {
  return {
    addressSize: in64BitMode ? ADDRESS_SIZE.BITS_64 : ADDRESS_SIZE.BITS_32,
    segment: MEMORY_OPERAND_SEGMENT as MemoryOperand['segment'],
    base: MEMORY_OPERAND_BASE,
  };
}

/**
 * The instruction information of `kind` in 64-bit mode or not, register form or memory form; or
 * `undefined` where the SDM leaves the field undefined (VMCALL, VMLAUNCH, VMRESUME, VMXOFF,
 * VMFUNC) or the form does not exist (the register forms other than VMREAD/VMWRITE raise #UD).
 */
export function informationOf(kind: Operation['kind'], in64BitMode: boolean, register: boolean): number | undefined {
  switch (kind) {
    case 'vmclear':
    case 'vmptrld':
    case 'vmptrst':
    case 'vmxon':
      return register ? undefined : vmxMemoryInformation({ memory: memoryOperand(in64BitMode) }).value;
    case 'vmread':
    case 'vmwrite': {
      if (!register) return vmreadVmwriteInformation({ reg2: FIELD_ENCODING_REGISTER, memory: memoryOperand(in64BitMode) }).value;
      const { value } = vmreadVmwriteInformation({ reg2: FIELD_ENCODING_REGISTER, register: FIELD_VALUE_REGISTER });
      // impl/'s choice for the undefined address size of the register form: the mode's.
      return value | (memoryOperand(in64BitMode).addressSize << INSTRUCTION_INFO.ADDRESS_SIZE.lsb);
    }
    case 'invept':
    case 'invvpid':
      return register ? undefined : invalidationInformation({ memory: memoryOperand(in64BitMode), reg2: INVALIDATION_TYPE_REGISTER }).value;
    default:
      return undefined;
  }
}
