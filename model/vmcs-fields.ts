/**
 * Reading and writing VMCS fields by encoding, per SDM Vol. 3C (December 2023) §25.11.2
 * "VMREAD, VMWRITE, and Encodings of VMCS Fields":
 *
 * - 16-bit fields: VMREAD returns the field in bits 15:0 and clears the other destination bits;
 *   VMWRITE stores bits 15:0 of the source.
 * - 32-bit fields: VMREAD returns the field in bits 31:0 (bits 63:32 cleared in 64-bit mode);
 *   VMWRITE stores bits 31:0 of the source.
 * - 64-bit and natural-width fields, full access: in 64-bit mode all 64 bits are read or
 *   written; outside IA-32e mode VMREAD returns bits 31:0 and VMWRITE stores the 32-bit source in
 *   bits 31:0 and clears bits 63:32. Natural-width fields have 64 bits on processors that support
 *   Intel 64 architecture, as every profile here does.
 * - 64-bit fields, high access (encoding bit 0 = 1): VMREAD returns bits 63:32 of the field in
 *   bits 31:0 of the destination (bits 63:32 cleared in 64-bit mode); VMWRITE stores bits 31:0 of
 *   the source in bits 63:32 of the field and leaves bits 31:0 alone.
 *
 * The model keeps each field as two 32-bit halves, each known or unknown (state.ts), so a read
 * can expect exact bits where they are known and leave the rest open; `pin` records what the
 * engine returned for the open bits, so later reads must agree with it.
 */
import { decodeFieldEncoding } from '../spec/field-encoding.ts';
import type { FieldWidth } from '../spec/field-encoding.ts';
import { toHex } from '../spec/hex.ts';
import type { ExpectedValue } from './verdict.ts';
import { ANY_VALUE } from './verdict.ts';
import type { FieldContent, VmcsContent } from './state.ts';

const LOW32 = 0xffff_ffffn;
const ALL64 = 0xffff_ffff_ffff_ffffn;

/** One half of a field as it lands in (or comes from) a VMREAD/VMWRITE operand. */
interface Piece {
  half: 'low' | 'high';
  /** Position of the piece in the register operand: 0 or 32. */
  shift: bigint;
  /** Bits of the piece that belong to the field. */
  mask: bigint;
}

/** The full encoding (access type 0) of the field `encoding` names. */
export function fullEncoding(encoding: number): number {
  return decodeFieldEncoding(encoding).accessHigh ? encoding - 1 : encoding;
}

/** Which halves of the field an access with `encoding` and `operandBits` touches, and where. */
function pieces(encoding: number, operandBits: 32 | 64): Piece[] {
  const decoded = decodeFieldEncoding(encoding);
  if (decoded.accessHigh) return [{ half: 'high', shift: 0n, mask: LOW32 }];
  const width: FieldWidth = decoded.width;
  if (width === 16) return [{ half: 'low', shift: 0n, mask: 0xffffn }];
  if (width === 32) return [{ half: 'low', shift: 0n, mask: LOW32 }];
  if (operandBits === 32) return [{ half: 'low', shift: 0n, mask: LOW32 }];
  return [
    { half: 'low', shift: 0n, mask: LOW32 },
    { half: 'high', shift: 32n, mask: LOW32 },
  ];
}

/** The bits of `piece` that the field's `unknownBits` leave undefined, in the piece's own position. */
function undefinedBitsOf(field: FieldContent, piece: Piece): bigint {
  const offset = piece.half === 'high' ? 32n : 0n;
  return ((field.unknownBits ?? 0n) >> offset) & piece.mask;
}

function fieldOf(content: VmcsContent, encoding: number): FieldContent {
  return content.fields.get(fullEncoding(encoding)) ?? { low: undefined, high: undefined };
}

function withField(content: VmcsContent, encoding: number, field: FieldContent): VmcsContent {
  const fields = new Map(content.fields);
  fields.set(fullEncoding(encoding), field);
  return { ...content, fields };
}

/** What VMREAD with `encoding` returns, as far as the model knows, in a `operandBits` register. */
export function readField(content: VmcsContent, encoding: number, operandBits: 32 | 64): ExpectedValue {
  const field = fieldOf(content, encoding);
  let bits = 0n;
  let known = ALL64;
  for (const piece of pieces(encoding, operandBits)) {
    const half = field[piece.half];
    const open = undefinedBitsOf(field, piece);
    if (half === undefined) known &= ~(piece.mask << piece.shift);
    else {
      bits |= (half & piece.mask & ~open) << piece.shift;
      known &= ~(open << piece.shift);
    }
  }
  if (known === ALL64) return toHex(bits);
  if (known === 0n) return ANY_VALUE;
  return { kind: 'partly-known', bits: toHex(bits), mask: toHex(known) };
}

/** `content` with the unknown bits that VMREAD with `encoding` returned as `observed` recorded. */
export function pinField(content: VmcsContent, encoding: number, operandBits: 32 | 64, observed: bigint): VmcsContent {
  let field = fieldOf(content, encoding);
  for (const piece of pieces(encoding, operandBits)) {
    const half = field[piece.half];
    const open = undefinedBitsOf(field, piece);
    if (half === undefined) {
      field = { ...field, [piece.half]: (observed >> piece.shift) & piece.mask };
    } else if (open !== 0n) {
      const seen = (half & ~open) | ((observed >> piece.shift) & open);
      const offset = piece.half === 'high' ? 32n : 0n;
      field = { ...field, [piece.half]: seen, unknownBits: (field.unknownBits ?? 0n) & ~(open << offset) };
    }
  }
  return withField(content, encoding, field);
}

/** `content` after VMWRITE of `value` (already cut to the operand size) to `encoding`. */
export function writeField(content: VmcsContent, encoding: number, operandBits: 32 | 64, value: bigint): VmcsContent {
  const decoded = decodeFieldEncoding(encoding);
  const field = fieldOf(content, encoding);
  if (decoded.accessHigh) return withField(content, encoding, { low: field.low, high: value & LOW32, unknownBits: (field.unknownBits ?? 0n) & LOW32 });
  if (decoded.width === 16) return withField(content, encoding, { low: value & 0xffffn, high: undefined });
  if (decoded.width === 32) return withField(content, encoding, { low: value & LOW32, high: undefined });
  if (operandBits === 32) return withField(content, encoding, { low: value & LOW32, high: 0n });
  return withField(content, encoding, { low: value & LOW32, high: (value >> 32n) & LOW32 });
}

/** `content` with the field of full encoding `encoding` set to `value` (as VM exits and VMfailValid do). */
export function setField(content: VmcsContent, encoding: number, value: bigint): VmcsContent {
  return writeField(content, encoding, 64, value);
}

/**
 * The whole value of the field with full encoding `encoding`, or `undefined` if a half of it is
 * unknown. Single bits a VM exit left undefined (`unknownBits`: the other bits of an invalid
 * interruption-information field, the undefined access-rights bits and base of an unusable
 * segment, RFLAGS.RF after an exception exit) read as 0: every VM-entry check on such bits applies
 * only where the SDM defines them (a valid interruption, a usable segment), so the value chosen
 * for them never decides an entry.
 */
export function knownFieldValue(content: VmcsContent, encoding: number): bigint | undefined {
  const field = fieldOf(content, encoding);
  const width = decodeFieldEncoding(encoding).width;
  const open = ~(field.unknownBits ?? 0n);
  if (field.low === undefined) return undefined;
  if (width === 16 || width === 32) return field.low & open;
  if (field.high === undefined) return undefined;
  return ((field.high << 32n) | field.low) & open;
}
