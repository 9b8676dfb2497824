/**
 * The VM-exit instruction information of the VMX instructions that define it, for the operand
 * conventions of spec/instruction-encodings.ts (memory operand `[RBX]`: base RBX, no index, no
 * displacement, segment DS, address size 64 bits in 64-bit mode and 32 bits otherwise;
 * VMREAD/VMWRITE field encoding in RCX and value in RDX; INVEPT/INVVPID type in RCX). SDM Vol. 3C,
 * December 2023, §28.2.5 "Information for VM Exits Due to Instruction Execution", the formats
 * "as Used for VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, and XSAVES", "as Used for VMREAD and
 * VMWRITE" and "as Used for INVEPT, INVPCID, and INVVPID".
 *
 * Bits the SDM leaves undefined (scaling with no index register, the index register itself;
 * for the register form of VMREAD/VMWRITE the segment, index and base fields) are written as 0.
 * impl/ writes the address size also for the register form of VMREAD/VMWRITE, where the SDM
 * leaves it undefined.
 */
import type { Operation } from '../../spec/operations.ts';
import {
  FIELD_ENCODING_REGISTER,
  FIELD_VALUE_REGISTER,
  INVALIDATION_TYPE_REGISTER,
  MEMORY_OPERAND_BASE,
  MEMORY_OPERAND_SEGMENT,
} from '../../spec/instruction-encodings.ts';

/** Field positions shared by the three formats. */
const REG1_SHIFT = 3;
const ADDRESS_SIZE_SHIFT = 7;
const REGISTER_FORM_BIT = 1 << 10;
const SEGMENT_SHIFT = 15;
const INDEX_INVALID_BIT = 1 << 22;
const BASE_SHIFT = 23;
const REG2_SHIFT = 28;
/** Address-size codes of bits 9:7. */
const ADDRESS_SIZE_32 = 1;
const ADDRESS_SIZE_64 = 2;

/** The memory-operand part: address size, segment DS, no index (invalid), base RBX. */
function memoryOperand(in64BitMode: boolean): number {
  const addressSize = in64BitMode ? ADDRESS_SIZE_64 : ADDRESS_SIZE_32;
  return (addressSize << ADDRESS_SIZE_SHIFT) | (MEMORY_OPERAND_SEGMENT << SEGMENT_SHIFT) | INDEX_INVALID_BIT | (MEMORY_OPERAND_BASE << BASE_SHIFT);
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
      return register ? undefined : memoryOperand(in64BitMode);
    case 'vmread':
    case 'vmwrite': {
      const reg2 = FIELD_ENCODING_REGISTER << REG2_SHIFT;
      if (!register) return memoryOperand(in64BitMode) | reg2;
      const addressSize = in64BitMode ? ADDRESS_SIZE_64 : ADDRESS_SIZE_32;
      return (FIELD_VALUE_REGISTER << REG1_SHIFT) | (addressSize << ADDRESS_SIZE_SHIFT) | REGISTER_FORM_BIT | reg2;
    }
    case 'invept':
    case 'invvpid':
      return register ? undefined : memoryOperand(in64BitMode) | (INVALIDATION_TYPE_REGISTER << REG2_SHIFT);
    default:
      return undefined;
  }
}
