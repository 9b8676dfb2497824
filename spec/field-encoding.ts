/**
 * The layout of a 32-bit VMCS field encoding, the value VMREAD and VMWRITE take in a register.
 *
 * | bits  | meaning                                                                     |
 * |-------|-----------------------------------------------------------------------------|
 * | 0     | access type: 0 = full, 1 = high (bits 63:32 of a 64-bit field, as 32 bits)  |
 * | 9:1   | index, distinguishing fields of the same width and type                     |
 * | 11:10 | type: 0 control, 1 VM-exit information (read-only data), 2 guest, 3 host    |
 * | 12    | reserved, must be 0                                                         |
 * | 14:13 | width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural-width                        |
 * | 31:15 | reserved, must be 0                                                         |
 *
 * Source: SDM Vol. 3C, December 2023, §25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields"
 * (Table "Structure of VMCS Component Encoding"), and Vol. 3D Appendix B "Field Encoding in
 * VMCS", which notes that only 64-bit fields allow the high access type.
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';

/** Where the encoding layout is defined. */
export const FIELD_ENCODING_CITATION: Citation = sdm(
  '25.11.2',
  'VMREAD, VMWRITE, and Encodings of VMCS Fields',
);

/** Width of a VMCS field; `'natural'` is 64 bits on processors that support Intel 64. */
export type FieldWidth = 16 | 32 | 64 | 'natural';

/** Which area of the VMCS a field belongs to (encoding bits 11:10). */
export type FieldType = 'control' | 'exit-information' | 'guest' | 'host';

/** Width values in the order of their code in bits 14:13. */
export const FIELD_WIDTHS: readonly FieldWidth[] = [16, 64, 32, 'natural'];

/** Type values in the order of their code in bits 11:10. */
export const FIELD_TYPES: readonly FieldType[] = ['control', 'exit-information', 'guest', 'host'];

/** Bits of an encoding that must be 0: bit 12 and bits 31:15. */
export const FIELD_ENCODING_RESERVED_MASK = 0xffff_9000;

/** A 32-bit field encoding taken apart. */
export interface DecodedFieldEncoding {
  /** Bit 0: true for the high access type (upper 32 bits of a 64-bit field). */
  accessHigh: boolean;
  /** Bits 9:1. */
  index: number;
  /** Bits 11:10. */
  type: FieldType;
  /** Bits 14:13. */
  width: FieldWidth;
  /** True when bit 12 or any of bits 31:15 is 1; no field has such an encoding. */
  reservedBitsSet: boolean;
}

/**
 * Takes a field encoding apart. `encoding` must be an integer in 0..2^32-1 (a caller bug
 * otherwise); the upper half of a 64-bit VMREAD/VMWRITE register operand is the caller's
 * business.
 */
export function decodeFieldEncoding(encoding: number): DecodedFieldEncoding {
  if (!Number.isInteger(encoding) || encoding < 0 || encoding > 0xffff_ffff) {
    throw new RangeError(`field encoding must be a 32-bit unsigned integer, got ${encoding}`);
  }
  return {
    accessHigh: (encoding & 1) === 1,
    index: (encoding >>> 1) & 0x1ff,
    type: FIELD_TYPES[(encoding >>> 10) & 3] as FieldType,
    width: FIELD_WIDTHS[(encoding >>> 13) & 3] as FieldWidth,
    reservedBitsSet: (encoding & FIELD_ENCODING_RESERVED_MASK) >>> 0 !== 0,
  };
}

/** Builds the encoding of a field from its parts (access type full unless `accessHigh`). */
export function encodeField(parts: {
  width: FieldWidth;
  type: FieldType;
  index: number;
  accessHigh?: boolean;
}): number {
  if (!Number.isInteger(parts.index) || parts.index < 0 || parts.index > 0x1ff) {
    throw new RangeError(`field index must be 0..511, got ${parts.index}`);
  }
  const width = FIELD_WIDTHS.indexOf(parts.width);
  const type = FIELD_TYPES.indexOf(parts.type);
  return (width << 13) | (type << 10) | (parts.index << 1) | (parts.accessHigh ? 1 : 0);
}
