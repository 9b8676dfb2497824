/**
 * The VM-exit instruction-information field as VM exits caused by VMX instructions write it (SDM
 * Vol. 3C, December 2023, §28.2.5 "Information for VM Exits Due to Instruction Execution"), for
 * the operand conventions of spec/instruction-encodings.ts: a memory operand is `[RBX]` in DS
 * (no index register, no displacement) with the mode's address size; VMREAD/VMWRITE keep the
 * field encoding in RCX and the value in RDX; INVEPT/INVVPID keep the type in RCX.
 *
 * Three formats are used here, one table each in §28.2.5:
 * - "Format of the VM-Exit Instruction-Information Field as Used for VMCLEAR, VMPTRLD, VMPTRST,
 *   VMXON, XRSTORS, and XSAVES": scaling 1:0, address size 9:7, bit 10 cleared, segment 17:15,
 *   index 21:18 with its invalid bit 22, base 26:23 with its invalid bit 27; 31:28 undefined.
 * - "... as Used for VMREAD and VMWRITE": as above, plus Reg1 in 6:3 (the r/m operand when it is a
 *   register), bit 10 Mem/Reg (1 = register) and Reg2 in 31:28 (the other register operand: the
 *   field encoding). For the register form the memory parts (scaling, address size, segment,
 *   index, base and their invalid bits) are undefined; for the memory form Reg1 is undefined.
 * - "... as Used for INVEPT, INVPCID, and INVVPID": the memory layout above, bit 10 cleared, and
 *   Reg2 in 31:28 (the type register).
 * Scaling and the index register are undefined when the index is invalid, as it is for `[RBX]`.
 *
 * Each encoder returns the value with every undefined bit 0, together with the mask of the bits
 * the SDM defines. The exit information of the contract (spec/exit-information.ts) carries only
 * the value, so an engine that writes other values into undefined bits diverges from the model
 * there; the mask says which bits a comparison should look at.
 *
 * The bit positions are kept here until spec/instruction-information.ts provides them.
 */
import { sdm } from '../../spec/citation.ts';
import type { Citation } from '../../spec/citation.ts';
import { FIELD_ENCODING_REGISTER, FIELD_VALUE_REGISTER, INVALIDATION_TYPE_REGISTER, MEMORY_OPERAND_BASE, MEMORY_OPERAND_SEGMENT } from '../../spec/instruction-encodings.ts';

/** Where the three formats are defined. */
export const INSTRUCTION_INFORMATION_CITATION: Citation = sdm('28.2.5', 'Information for VM Exits Due to Instruction Execution');

/** Bit positions shared by the formats (the tables of §28.2.5). */
const POSITION = {
  SCALING: 0,
  REG1: 3,
  ADDRESS_SIZE: 7,
  MEM_REG: 10,
  SEGMENT: 15,
  INDEX: 18,
  INDEX_INVALID: 22,
  BASE: 23,
  BASE_INVALID: 27,
  REG2: 28,
} as const;

/** The address-size values of bits 9:7. */
export const ADDRESS_SIZE = { BITS_16: 0, BITS_32: 1, BITS_64: 2 } as const;

/** A VM-exit instruction-information value and the bits of it the SDM defines. */
export interface InstructionInformation {
  /** The field's value, undefined bits 0. */
  readonly value: number;
  /** 1 where the SDM defines the bit for this instruction and operand form. */
  readonly defined: number;
}

/** A mask of `width` bits at `position`. */
function bits(position: number, width: number): number {
  return ((1 << width) - 1) << position;
}

/** `value` placed at `position` (as an unsigned 32-bit number). */
function at(value: number, position: number): number {
  return (value << position) >>> 0;
}

/**
 * The memory part of every format for `[RBX]` in DS: address size, segment, index invalid (no
 * index, so scaling and index are undefined), base RBX, base valid.
 */
function memoryOperand(addressSize: number): InstructionInformation {
  const value = at(addressSize, POSITION.ADDRESS_SIZE) | at(MEMORY_OPERAND_SEGMENT, POSITION.SEGMENT) | at(1, POSITION.INDEX_INVALID) | at(MEMORY_OPERAND_BASE, POSITION.BASE);
  const defined = bits(POSITION.ADDRESS_SIZE, 3) | bits(POSITION.SEGMENT, 3) | bits(POSITION.INDEX_INVALID, 1) | bits(POSITION.BASE, 4) | bits(POSITION.BASE_INVALID, 1);
  return { value: value >>> 0, defined: defined >>> 0 };
}

/** The address size of the memory operand: 64 bits in 64-bit mode, 32 otherwise (the contract's convention). */
export function addressSizeOf(in64BitMode: boolean): number {
  return in64BitMode ? ADDRESS_SIZE.BITS_64 : ADDRESS_SIZE.BITS_32;
}

/** VMCLEAR, VMPTRLD, VMPTRST, VMXON with the memory operand `[RBX]`: bit 10 cleared, 31:28 undefined. */
export function pointerInstructionInformation(addressSize: number): InstructionInformation {
  const memory = memoryOperand(addressSize);
  return { value: memory.value, defined: (memory.defined | bits(POSITION.MEM_REG, 1)) >>> 0 };
}

/**
 * VMREAD and VMWRITE: Reg2 is the field-encoding register (RCX); the other operand is RDX
 * (`register` form: Reg1, bit 10 set) or `[RBX]` (memory form, bit 10 clear).
 */
export function vmreadVmwriteInstructionInformation(form: 'register' | 'memory', addressSize: number): InstructionInformation {
  const reg2 = at(FIELD_ENCODING_REGISTER, POSITION.REG2);
  const reg2Defined = bits(POSITION.REG2, 4) | bits(POSITION.MEM_REG, 1);
  if (form === 'register') {
    const value = at(FIELD_VALUE_REGISTER, POSITION.REG1) | at(1, POSITION.MEM_REG) | reg2;
    return { value: value >>> 0, defined: (bits(POSITION.REG1, 4) | reg2Defined) >>> 0 };
  }
  const memory = memoryOperand(addressSize);
  return { value: (memory.value | reg2) >>> 0, defined: (memory.defined | reg2Defined) >>> 0 };
}

/** INVEPT and INVVPID: the descriptor `[RBX]`, bit 10 cleared, Reg2 the type register (RCX). */
export function invalidationInstructionInformation(addressSize: number): InstructionInformation {
  const memory = memoryOperand(addressSize);
  const value = memory.value | at(INVALIDATION_TYPE_REGISTER, POSITION.REG2);
  return { value: value >>> 0, defined: (memory.defined | bits(POSITION.MEM_REG, 1) | bits(POSITION.REG2, 4)) >>> 0 };
}
