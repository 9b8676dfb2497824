/**
 * 64-bit values in the engine contract travel as hexadecimal strings so that every operation and
 * observation survives `JSON.stringify` unchanged (JSON numbers lose precision past 2^53).
 *
 * The canonical spelling is `0x` followed by lowercase digits without leading zeros (`0x0`,
 * `0xffffffffffffffff`). Readers accept either case and leading zeros.
 */

/** A 64-bit unsigned value spelled as a hexadecimal string, for example `"0x1000"`. */
export type Hex = string;

const HEX_PATTERN = /^0[xX][0-9a-fA-F]{1,16}$/;

/** Largest 64-bit unsigned value. */
export const MAX_U64 = (1n << 64n) - 1n;

/** True when `text` is a well-formed {@link Hex} of at most 64 bits. */
export function isHex(text: unknown): text is Hex {
  return typeof text === 'string' && HEX_PATTERN.test(text);
}

/** Parses a {@link Hex}; throws a `RangeError` naming the text when it is not one. */
export function parseHex(text: Hex): bigint {
  if (!isHex(text)) throw new RangeError(`not a 64-bit hexadecimal value: ${JSON.stringify(text)}`);
  return BigInt(text);
}

/** Spells a 64-bit unsigned value canonically; values outside 0..2^64-1 are a caller bug. */
export function toHex(value: bigint): Hex {
  if (value < 0n || value > MAX_U64) throw new RangeError(`value out of 64-bit range: ${value}`);
  return `0x${value.toString(16)}`;
}

/** Canonical spelling of a well-formed {@link Hex} (lowercase, no leading zeros). */
export function canonicalHex(text: Hex): Hex {
  return toHex(parseHex(text));
}
