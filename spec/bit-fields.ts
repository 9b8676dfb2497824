/**
 * A named run of bits inside a VMCS field, and the two operations every layout in
 * exit-qualification.ts and instruction-information.ts needs: read a field out of a value and
 * place a value into a field. Fields are given by their lowest bit and width, as the SDM's tables
 * give "bits 11:8" (lowest bit 8, width 4).
 */

/** Bits `lsb + width - 1 : lsb` of a field value. */
export interface BitField {
  /** Lowest bit of the run. */
  readonly lsb: number;
  /** Number of bits in the run (1 for a flag). */
  readonly width: number;
}

/** The field of bits `msb:lsb`. */
export function bits(msb: number, lsb: number): BitField {
  if (msb < lsb || lsb < 0 || msb > 63) throw new Error(`bad bit range ${msb}:${lsb}`);
  return { lsb, width: msb - lsb + 1 };
}

/** The one-bit field at `position`. */
export function bit(position: number): BitField {
  return bits(position, position);
}

/** The mask of `field` in its containing value. */
export function fieldMask(field: BitField): bigint {
  return ((1n << BigInt(field.width)) - 1n) << BigInt(field.lsb);
}

/** The value of `field` in `value` (a 64-bit bigint or a 32-bit number). */
export function getField(value: bigint | number, field: BitField): number {
  return Number((BigInt(value) >> BigInt(field.lsb)) & ((1n << BigInt(field.width)) - 1n));
}

/**
 * `fieldValue` placed at `field`; throws when it does not fit, so that a caller's bad part (a
 * register number 16, a port 0x10000) is named instead of silently truncated.
 */
export function placeField(field: BitField, fieldValue: number | bigint, name: string): bigint {
  const value = BigInt(fieldValue);
  if (value < 0n || value >= 1n << BigInt(field.width)) {
    throw new Error(`${name} ${fieldValue} does not fit in bits ${field.lsb + field.width - 1}:${field.lsb}`);
  }
  return value << BigInt(field.lsb);
}

/** Whether the one-bit `field` is set in `value`. */
export function isSet(value: bigint | number, field: BitField): boolean {
  return getField(value, field) === 1;
}
