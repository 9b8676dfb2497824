/**
 * Instruction lengths and VM-exit instruction information of the guest operations of case format 5
 * (spec/system-instruction-operations.ts), for the operand conventions of
 * spec/instruction-encodings.ts: memory operand `[RBX]` (`[EBX]` outside 64-bit mode) in DS with
 * no index and no displacement; register numbers 8..15 need a REX prefix in 64-bit mode, and
 * outside it only bits 2:0 of a register number count; RDRAND/RDSEED's 64-bit operand size needs
 * REX.W, so outside 64-bit mode it is 32 bits.
 *
 * The information formats are those of SDM Vol. 3C, December 2023, §28.2.5 "Information for VM
 * Exits Due to Instruction Execution" ("... as Used for RDRAND and RDSEED", "... for INVEPT,
 * INVPCID, and INVVPID", "... for LIDT, LGDT, SIDT, or SGDT", "... for LLDT, LTR, SLDT, and STR",
 * "... for VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, and XSAVES"), encoded by the encoders of
 * spec/instruction-information.ts. Bits the SDM leaves undefined are 0, with one choice: the
 * operand-size bit (11) of LGDT/LIDT/SGDT/SIDT is 1 (32-bit) in 64-bit mode too, where it is
 * undefined (impl/ takes every code segment outside 64-bit mode as 32-bit, so it is 1 there).
 *
 * Trick: every value depends only on (instruction, register number, operand size, 64-bit mode or
 * not), so all of them are computed at module load into small Int32Arrays (the encoders use
 * BigInt); an exit reads two numbers and allocates nothing.
 */
import { instructionLength, MEMORY_OPERAND_BASE, MEMORY_OPERAND_SEGMENT } from '../../spec/instruction-encodings.ts';
import {
  ADDRESS_SIZE,
  descriptorTableInformation,
  invalidationInformation,
  ldtrTrInformation,
  type MemoryOperand,
  randomInformation,
  vmxMemoryInformation,
} from '../../spec/instruction-information.ts';
import type { Operation } from '../../spec/operations.ts';
import type { DescriptorTableInstruction } from '../../spec/system-instruction-operations.ts';

/** The descriptor-table instructions by their index in impl/'s records (bits 1:0 the identity of §28.2.5). */
export const DESCRIPTOR_TABLE_INSTRUCTIONS = ['sgdt', 'sidt', 'lgdt', 'lidt', 'sldt', 'str', 'lldt', 'ltr'] as const satisfies readonly DescriptorTableInstruction[];
export const DT_SGDT = 0;
export const DT_SIDT = 1;
export const DT_LGDT = 2;
export const DT_LIDT = 3;
export const DT_SLDT = 4;
export const DT_STR = 5;
export const DT_LLDT = 6;
export const DT_LTR = 7;

/** RDRAND/RDSEED operand sizes in bits, by size index 0..2. */
const RANDOM_SIZES = [16, 32, 64] as const;

function memoryOperand(wide: number): MemoryOperand {
  return {
    addressSize: wide === 1 ? ADDRESS_SIZE.BITS_64 : ADDRESS_SIZE.BITS_32,
    segment: MEMORY_OPERAND_SEGMENT as MemoryOperand['segment'],
    base: MEMORY_OPERAND_BASE,
  };
}

function lengthOf(op: Operation, wide: number): number {
  const length = instructionLength(op, wide === 1);
  if (length === undefined) throw new Error(`impl bug: no encoding length for ${op.kind}`);
  return length;
}

/** The register number the instruction can encode: 0..15 in 64-bit mode, bits 2:0 otherwise. */
function encodable(gpr: number, wide: number): number {
  return wide === 1 ? gpr : gpr & 7;
}

/** Index of RDRAND/RDSEED tables: `(gpr * 3 + sizeIndex) * 2 + wide`. */
const RANDOM_LENGTH = new Int32Array(16 * 3 * 2);
const RANDOM_INFORMATION = new Int32Array(16 * 3 * 2);
/** Index of INVPCID tables: `typeGpr * 2 + wide`. */
const INVPCID_LENGTH = new Int32Array(16 * 2);
const INVPCID_INFORMATION = new Int32Array(16 * 2);
/** Index of the descriptor-table tables: `((instruction * 17 + operand) * 2 + wide)`, operand 0 for memory, gpr + 1 for a register. */
const DESCRIPTOR_LENGTH = new Int32Array(8 * 17 * 2);
const DESCRIPTOR_INFORMATION = new Int32Array(8 * 17 * 2);
/** XSAVES/XRSTORS information by `wide` (their length does not depend on the mode). */
const XSAVES_INFORMATION = new Int32Array(2);

for (const wide of [0, 1]) {
  for (let gpr = 0; gpr < 16; gpr++) {
    RANDOM_SIZES.forEach((size, sizeIndex) => {
      const at = (gpr * 3 + sizeIndex) * 2 + wide;
      RANDOM_LENGTH[at] = lengthOf({ kind: 'rdrand', cpu: 0, gpr, size }, wide);
      const bytes = size === 64 && wide === 0 ? 4 : ((size / 8) as 2 | 4 | 8);
      RANDOM_INFORMATION[at] = randomInformation({ register: encodable(gpr, wide), operandSize: bytes }).value;
    });
    INVPCID_LENGTH[gpr * 2 + wide] = lengthOf({ kind: 'invpcid', cpu: 0, type: '0x0', descriptor: ['0x0', '0x0'], typeGpr: gpr }, wide);
    INVPCID_INFORMATION[gpr * 2 + wide] = invalidationInformation({ memory: memoryOperand(wide), reg2: encodable(gpr, wide) }).value;
  }
  DESCRIPTOR_TABLE_INSTRUCTIONS.forEach((instruction, index) => {
    for (let operand = 0; operand <= 16; operand++) {
      const at = (index * 17 + operand) * 2 + wide;
      const register = operand > 0;
      if (index < DT_SLDT) {
        if (register) continue; // memory only (the contract has no register form for them)
        DESCRIPTOR_LENGTH[at] = lengthOf({ kind: 'descriptor-table', cpu: 0, instruction }, wide);
        const identity = (['SGDT', 'SIDT', 'LGDT', 'LIDT'] as const)[index]!;
        DESCRIPTOR_INFORMATION[at] = descriptorTableInformation({ memory: memoryOperand(wide), identity, operandSize32: true, in64BitMode: wide === 1 }).value;
        continue;
      }
      const gpr = operand - 1;
      DESCRIPTOR_LENGTH[at] = lengthOf(
        register ? { kind: 'descriptor-table', cpu: 0, instruction, form: 'register', gpr } : { kind: 'descriptor-table', cpu: 0, instruction },
        wide,
      );
      const identity = (['SLDT', 'STR', 'LLDT', 'LTR'] as const)[index - DT_SLDT]!;
      DESCRIPTOR_INFORMATION[at] = (
        register ? ldtrTrInformation({ identity, register: encodable(gpr, wide) }) : ldtrTrInformation({ identity, memory: memoryOperand(wide) })
      ).value;
    }
  });
  XSAVES_INFORMATION[wide] = vmxMemoryInformation({ memory: memoryOperand(wide) }).value;
}

/** XSAVES and XRSTORS (0F C7 /5, 0F C7 /3) are three bytes long in every mode. */
export const XSAVES_LENGTH = lengthOf({ kind: 'xsaves', cpu: 0, mask: '0x0' }, 0);
/** GETSEC (0F 37). */
export const GETSEC_LENGTH = lengthOf({ kind: 'getsec', cpu: 0 }, 0);
/** WBNOINVD (F3 0F 09). */
export const WBNOINVD_LENGTH = lengthOf({ kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' }, 0);

/** RDRAND/RDSEED size index 0..2 of an operand size of 16, 32 or 64 bits (-1 for anything else). */
export function randomSizeIndex(size: number): number {
  return size === 16 ? 0 : size === 32 ? 1 : size === 64 ? 2 : -1;
}

export function randomLength(gpr: number, sizeIndex: number, wide: number): number {
  return RANDOM_LENGTH[(gpr * 3 + sizeIndex) * 2 + wide] as number;
}

export function randomInformationOf(gpr: number, sizeIndex: number, wide: number): number {
  return RANDOM_INFORMATION[(gpr * 3 + sizeIndex) * 2 + wide] as number;
}

export function invpcidLength(typeGpr: number, wide: number): number {
  return INVPCID_LENGTH[typeGpr * 2 + wide] as number;
}

export function invpcidInformation(typeGpr: number, wide: number): number {
  return INVPCID_INFORMATION[typeGpr * 2 + wide] as number;
}

/** `operand`: 0 for the memory operand, gpr + 1 for a register operand (SLDT, STR, LLDT, LTR). */
export function descriptorTableLength(instruction: number, operand: number, wide: number): number {
  return DESCRIPTOR_LENGTH[(instruction * 17 + operand) * 2 + wide] as number;
}

export function descriptorTableInformationOf(instruction: number, operand: number, wide: number): number {
  return DESCRIPTOR_INFORMATION[(instruction * 17 + operand) * 2 + wide] as number;
}

export function xsavesInformation(wide: number): number {
  return XSAVES_INFORMATION[wide] as number;
}
