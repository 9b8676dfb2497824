/**
 * The VM-exit instruction-information field (VMCS field 440EH): its formats for the instructions
 * that define it, and encoders from named parts. Bits the SDM leaves undefined for a format (or
 * for a form: the register fields of a memory operand, the address fields of a register operand)
 * are written as 0 by the encoders and listed in each format's `undefinedMask`, so a comparison
 * can ignore them.
 *
 * Source: SDM Vol. 3C, December 2023, §28.2.5 "Information for VM Exits Due to Instruction
 * Execution" and its tables "Format of the VM-Exit Instruction-Information Field as Used for
 * INS and OUTS", "... for INVEPT, INVPCID, and INVVPID", "... for LIDT, LGDT, SIDT, or SGDT",
 * "... for LLDT, LTR, SLDT, and STR", "... for RDRAND and RDSEED", "... for VMCLEAR, VMPTRLD,
 * VMPTRST, VMXON, XRSTORS, and XSAVES", "... for VMREAD and VMWRITE". Read in the 2016 text
 * (chapter 27, Tables 27-8 to 27-14); the 2008 text agrees except that LIDT/LGDT/SIDT/SGDT then had
 * a two-bit operand size at bits 13:12, where the 2016 text has one bit at 11 (used here).
 * For all other VM exits the field is undefined.
 */
import { bit, bits, fieldMask, placeField } from './bit-fields.ts';
import type { BitField } from './bit-fields.ts';
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';

/** Where the instruction-information formats are defined. */
export const INSTRUCTION_INFORMATION_CITATION: Citation = sdm(
  '28.2.5',
  'Information for VM Exits Due to Instruction Execution',
);

/** The fields shared by the memory-operand formats. Registers use the GPR numbering (0 RAX ... 15 R15). */
export const INSTRUCTION_INFO = {
  /** Bits 1:0: scaling of the index register (0 none, 1 by 2, 2 by 4, 3 by 8). */
  SCALING: bits(1, 0),
  /** Bits 6:3: Reg1 (VMREAD/VMWRITE, LLDT/LTR/SLDT/STR register forms), or RDRAND/RDSEED's destination. */
  REG1: bits(6, 3),
  /** Bits 9:7: address size ({@link ADDRESS_SIZE}). */
  ADDRESS_SIZE: bits(9, 7),
  /** Bit 10: Mem/Reg, 0 memory operand, 1 register operand (0 in the memory-only formats). */
  REGISTER_OPERAND: bit(10),
  /** Bit 11: operand size of LIDT/LGDT/SIDT/SGDT (0 16-bit, 1 32-bit; undefined from 64-bit mode). */
  DESCRIPTOR_TABLE_OPERAND_SIZE: bit(11),
  /** Bits 12:11: operand size of RDRAND/RDSEED (0 16-bit, 1 32-bit, 2 64-bit). */
  RANDOM_OPERAND_SIZE: bits(12, 11),
  /** Bits 17:15: segment register ({@link SEGMENT}). */
  SEGMENT: bits(17, 15),
  /** Bits 21:18: index register. */
  INDEX: bits(21, 18),
  /** Bit 22: index register invalid (no index). */
  INDEX_INVALID: bit(22),
  /** Bits 26:23: base register. */
  BASE: bits(26, 23),
  /** Bit 27: base register invalid (no base). */
  BASE_INVALID: bit(27),
  /** Bits 29:28: instruction identity of the descriptor-table formats ({@link DESCRIPTOR_TABLE_IDENTITY}). */
  IDENTITY: bits(29, 28),
  /** Bits 31:28: Reg2 (INVEPT/INVPCID/INVVPID type register; VMREAD/VMWRITE encoding register). */
  REG2: bits(31, 28),
} as const satisfies Record<string, BitField>;

/** Values of the address-size field (3 is not used). */
export const ADDRESS_SIZE = { BITS_16: 0, BITS_32: 1, BITS_64: 2 } as const;

/** Values of the segment-register field. */
export const SEGMENT = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5 } as const;

/** Instruction identities in bits 29:28 of the two descriptor-table formats. */
export const DESCRIPTOR_TABLE_IDENTITY = {
  SGDT: 0,
  SIDT: 1,
  LGDT: 2,
  LIDT: 3,
  SLDT: 0,
  STR: 1,
  LLDT: 2,
  LTR: 3,
} as const;

/** A memory operand as the instruction information describes it. */
export interface MemoryOperand {
  addressSize: (typeof ADDRESS_SIZE)[keyof typeof ADDRESS_SIZE];
  segment: (typeof SEGMENT)[keyof typeof SEGMENT];
  /** Base register, or `undefined` for none (base invalid). */
  base?: number;
  /** Index register, or `undefined` for none (index invalid). */
  index?: number;
  /** Scaling code 0..3 (meaningful with an index). */
  scaling?: number;
}

/** The address fields of a memory operand: scaling, address size, segment, index, base and their invalid bits. */
function memoryOperandBits(memory: MemoryOperand): bigint {
  return (
    placeField(INSTRUCTION_INFO.SCALING, memory.index === undefined ? 0 : (memory.scaling ?? 0), 'scaling') |
    placeField(INSTRUCTION_INFO.ADDRESS_SIZE, memory.addressSize, 'address size') |
    placeField(INSTRUCTION_INFO.SEGMENT, memory.segment, 'segment') |
    placeField(INSTRUCTION_INFO.INDEX, memory.index ?? 0, 'index register') |
    placeField(INSTRUCTION_INFO.INDEX_INVALID, memory.index === undefined ? 1 : 0, 'index invalid') |
    placeField(INSTRUCTION_INFO.BASE, memory.base ?? 0, 'base register') |
    placeField(INSTRUCTION_INFO.BASE_INVALID, memory.base === undefined ? 1 : 0, 'base invalid')
  );
}

/** The bits of a memory operand the SDM leaves undefined: scaling and index without an index, base without a base. */
function memoryOperandUndefinedMask(memory: MemoryOperand): bigint {
  let mask = 0n;
  if (memory.index === undefined) mask |= fieldMask(INSTRUCTION_INFO.SCALING) | fieldMask(INSTRUCTION_INFO.INDEX);
  if (memory.base === undefined) mask |= fieldMask(INSTRUCTION_INFO.BASE);
  return mask;
}

/** An encoded instruction-information value and the mask of its bits the SDM leaves undefined. */
export interface InstructionInformation {
  value: number;
  undefinedMask: number;
}

function result(value: bigint, undefinedMask: bigint): InstructionInformation {
  return { value: Number(value), undefinedMask: Number(undefinedMask & 0xffff_ffffn) };
}

/**
 * INS and OUTS: address size and (OUTS only) segment; bits 6:0, 14:10 and 31:18 undefined, and the
 * segment undefined for INS (always ES).
 */
export function insOutsInformation(parts: { addressSize: MemoryOperand['addressSize']; segment?: MemoryOperand['segment']; ins: boolean }): InstructionInformation {
  const value = placeField(INSTRUCTION_INFO.ADDRESS_SIZE, parts.addressSize, 'address size') |
    (parts.ins ? 0n : placeField(INSTRUCTION_INFO.SEGMENT, parts.segment ?? SEGMENT.DS, 'segment'));
  const undefinedMask = 0x7fn | (0x1fn << 10n) | (0x3fffn << 18n) | (parts.ins ? fieldMask(INSTRUCTION_INFO.SEGMENT) : 0n);
  return result(value, undefinedMask);
}

/** INVEPT, INVPCID and INVVPID: a memory operand (the descriptor) and Reg2, the type register. */
export function invalidationInformation(parts: { memory: MemoryOperand; reg2: number }): InstructionInformation {
  const value = memoryOperandBits(parts.memory) | placeField(INSTRUCTION_INFO.REG2, parts.reg2, 'Reg2');
  return result(value, memoryOperandUndefinedMask(parts.memory) | (0x1fn << 2n) | (0x0fn << 11n));
}

/** LIDT, LGDT, SIDT and SGDT: a memory operand, the operand size (bit 11) and the identity. */
export function descriptorTableInformation(parts: {
  memory: MemoryOperand;
  identity: 'SGDT' | 'SIDT' | 'LGDT' | 'LIDT';
  /** 32-bit operand size (outside 64-bit mode; undefined in 64-bit mode). */
  operandSize32?: boolean;
  in64BitMode: boolean;
}): InstructionInformation {
  const value = memoryOperandBits(parts.memory) |
    placeField(INSTRUCTION_INFO.DESCRIPTOR_TABLE_OPERAND_SIZE, parts.operandSize32 === true ? 1 : 0, 'operand size') |
    placeField(INSTRUCTION_INFO.IDENTITY, DESCRIPTOR_TABLE_IDENTITY[parts.identity], 'identity');
  const undefinedMask = memoryOperandUndefinedMask(parts.memory) | (0x1fn << 2n) | (0x7n << 12n) | (0x3n << 30n) |
    (parts.in64BitMode ? fieldMask(INSTRUCTION_INFO.DESCRIPTOR_TABLE_OPERAND_SIZE) : 0n);
  return result(value, undefinedMask);
}

/** LLDT, LTR, SLDT and STR: a register (Reg1) or memory operand, and the identity. */
export function ldtrTrInformation(parts: {
  identity: 'SLDT' | 'STR' | 'LLDT' | 'LTR';
  register?: number;
  memory?: MemoryOperand;
}): InstructionInformation {
  const identity = placeField(INSTRUCTION_INFO.IDENTITY, DESCRIPTOR_TABLE_IDENTITY[parts.identity], 'identity');
  return result(identity | registerOrMemoryBits(parts.register, parts.memory), registerOrMemoryUndefinedMask(parts.register, parts.memory) | (0x3n << 30n));
}

/** RDRAND and RDSEED: the destination register and the operand size in bytes. */
export function randomInformation(parts: { register: number; operandSize: 2 | 4 | 8 }): InstructionInformation {
  const size = parts.operandSize === 2 ? 0 : parts.operandSize === 4 ? 1 : 2;
  const value = placeField(INSTRUCTION_INFO.REG1, parts.register, 'destination register') |
    placeField(INSTRUCTION_INFO.RANDOM_OPERAND_SIZE, size, 'operand size');
  return result(value, 0x7n | (0xfn << 7n) | (0x7ffffn << 13n));
}

/** VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS and XSAVES: a memory operand only (bit 10 cleared). */
export function vmxMemoryInformation(parts: { memory: MemoryOperand }): InstructionInformation {
  return result(memoryOperandBits(parts.memory), memoryOperandUndefinedMask(parts.memory) | (0x1fn << 2n) | (0xfn << 11n) | (0xfn << 28n));
}

/**
 * VMREAD and VMWRITE. Reg2 holds the field encoding (VMREAD's source, VMWRITE's second source);
 * the other operand (VMREAD's destination, VMWRITE's source) is Reg1 when `register` is given, a
 * memory operand otherwise.
 */
export function vmreadVmwriteInformation(parts: { reg2: number; register?: number; memory?: MemoryOperand }): InstructionInformation {
  const value = registerOrMemoryBits(parts.register, parts.memory) | placeField(INSTRUCTION_INFO.REG2, parts.reg2, 'Reg2');
  return result(value, registerOrMemoryUndefinedMask(parts.register, parts.memory));
}

/** Reg1 with Mem/Reg = 1, or the memory-operand fields with Mem/Reg = 0. */
function registerOrMemoryBits(register: number | undefined, memory: MemoryOperand | undefined): bigint {
  if (register !== undefined) {
    if (memory !== undefined) throw new Error('an operand is either a register or memory, not both');
    return placeField(INSTRUCTION_INFO.REG1, register, 'Reg1') | placeField(INSTRUCTION_INFO.REGISTER_OPERAND, 1, 'Mem/Reg');
  }
  if (memory === undefined) throw new Error('give the operand: a register or a memory operand');
  return memoryOperandBits(memory);
}

/**
 * Undefined bits of the register-or-memory formats: bit 2 and 14:11 always; for a register operand
 * scaling, address size, segment, index, base and their invalid bits; for a memory operand Reg1
 * and the memory operand's own undefined bits.
 */
function registerOrMemoryUndefinedMask(register: number | undefined, memory: MemoryOperand | undefined): bigint {
  let mask = (1n << 2n) | (0xfn << 11n);
  if (register !== undefined) {
    mask |= fieldMask(INSTRUCTION_INFO.SCALING) | fieldMask(INSTRUCTION_INFO.ADDRESS_SIZE) | fieldMask(INSTRUCTION_INFO.SEGMENT) |
      fieldMask(INSTRUCTION_INFO.INDEX) | fieldMask(INSTRUCTION_INFO.INDEX_INVALID) | fieldMask(INSTRUCTION_INFO.BASE) |
      fieldMask(INSTRUCTION_INFO.BASE_INVALID);
  } else if (memory !== undefined) {
    mask |= fieldMask(INSTRUCTION_INFO.REG1) | memoryOperandUndefinedMask(memory);
  }
  return mask;
}
