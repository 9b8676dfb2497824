/**
 * Hexadecimal strings of the engine contract, read into and written from two 32-bit halves.
 *
 * Trick: spec/hex.ts goes through BigInt, which allocates and is an order of magnitude slower
 * than a character loop. Every 64-bit value in impl/ travels as (lo, hi) int32 pairs instead, so
 * parsing "0x..." is one pass over the characters with a little arithmetic per digit, and
 * nothing is allocated: the halves land in a caller-provided Int32Array.
 *
 * Accepted spelling is exactly spec/hex.ts's `isHex`: `0x` or `0X`, then 1..16 digits of either
 * case. Anything else is a caller bug and throws.
 */

/**
 * Parses a 64-bit hexadecimal string into `out[at]` (bits 31:0) and `out[at + 1]` (bits 63:32),
 * both as int32 bit patterns. Throws a `RangeError` naming `what` for malformed input.
 */
export function parseHexInto(text: unknown, out: Int32Array, at: number, what: string): void {
  if (typeof text !== 'string') throw badHex(text, what);
  const n = text.length;
  if (n < 3 || n > 18 || text.charCodeAt(0) !== 48 || (text.charCodeAt(1) | 0x20) !== 120) {
    throw badHex(text, what);
  }
  // Digits at [2, split) are bits 63:32, the last eight (or fewer) bits 31:0: two loops, so the
  // per-digit work is a table load, a shift and an or. Trick: instead of testing every digit,
  // the loops or together the table values (-1 for a non-digit) and any character bits above
  // 7:0, and one test after the loops rejects the string if that is outside 0..15.
  const split = n > 10 ? n - 8 : 2;
  let check = 0;
  let hi = 0;
  for (let i = 2; i < split; i++) {
    const code = text.charCodeAt(i);
    const digit = DIGIT[code & 0xff] as number;
    check |= digit | (code & 0xff00);
    hi = (hi << 4) | digit;
  }
  let lo = 0;
  for (let i = split; i < n; i++) {
    const code = text.charCodeAt(i);
    const digit = DIGIT[code & 0xff] as number;
    check |= digit | (code & 0xff00);
    lo = (lo << 4) | digit;
  }
  if (check >>> 0 > 15) throw badHex(text, what);
  out[at] = lo;
  out[at + 1] = hi;
}

/** Value of each character code 0..255 as a hexadecimal digit (either case), -1 for non-digits. */
const DIGIT = new Int8Array(256).fill(-1);
for (let d = 0; d < 10; d++) DIGIT[0x30 + d] = d;
for (let d = 0; d < 6; d++) {
  DIGIT[0x41 + d] = 10 + d;
  DIGIT[0x61 + d] = 10 + d;
}

function badHex(text: unknown, what: string): RangeError {
  return new RangeError(`${what}: not a 64-bit hexadecimal value: ${JSON.stringify(text)}`);
}

/** Canonical spelling (lowercase, no leading zeros) of the 64-bit value hi:lo. */
export function hexOf(lo: number, hi: number): string {
  if (hi === 0) return '0x' + (lo >>> 0).toString(16);
  return '0x' + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Splits a non-negative bigint below 2^64 into int32 halves (set-up time only, never on a hot path). */
export function halvesOf(value: bigint): [number, number] {
  return [Number(BigInt.asIntN(32, value)), Number(BigInt.asIntN(32, value >> 32n))];
}
