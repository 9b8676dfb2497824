/**
 * Reading VMCS fields for the VM-entry checks and loads straight from the region in memory
 * (impl/'s layout, impl/field-table.ts), as VMREAD does, plus the bit tests several checks share.
 * All inputs and results are int32 numbers; nothing allocates. The one definition of each helper:
 * impl/vm-entry/ and impl/vm-exit/ import them from here.
 */

/** Bits 31:0 of a field (all of a 32-bit field); 0 when the profile lacks it (`word` -1). */
export function low(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word] as number);
}

/** Bits 63:32 of a 64-bit or natural-width field; 0 when the profile lacks it. */
export function high(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word + 1] as number);
}

/** A 16-bit field (the low half of its word, as VMREAD masks it). */
export function half(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word] as number) & 0xffff;
}

/** Bit `position` (0..31) of `value` is 1. */
export function on(value: number, position: number): boolean {
  return ((value >>> position) & 1) === 1;
}

/**
 * A 64-bit address (lo, hi) is not canonical for a 48-bit linear-address width: bits 63:47 are
 * not all equal. (No profile gives the linear-address width; impl/ takes 48, see impl/README.md.)
 */
export function notCanonical(hi: number): boolean {
  const top = hi >> 15;
  return top !== 0 && top !== -1;
}

/** A 64-bit field holds a canonical address (see {@link notCanonical}); a field the profile lacks reads 0. */
export function canonical(v: Int32Array, base: number, word: number): boolean {
  return !notCanonical(high(v, base, word));
}

/**
 * A FRED stack-pointer field (IA32_FRED_RSP0, IA32_FRED_SSP1-3 and the like) is canonical and
 * aligned: no bit of `alignment` (7 for 8 bytes, 63 for 64 bytes) is set.
 */
export function stackOk(v: Int32Array, base: number, word: number, alignment: number): boolean {
  return canonical(v, base, word) && (low(v, base, word) & alignment) === 0;
}

/**
 * Memory types IA32_PAT may name (Vol. 3A §13.12.2 "IA32_PAT MSR"): 0 UC, 1 WC, 4 WT, 5 WP, 6 WB,
 * 7 UC-; 2, 3 and 8 and above are reserved. Bit n of the mask is type n.
 */
const enum Pat {
  TYPES = 0b1111_0011,
}

/** Every byte of a 32-bit half of IA32_PAT names an allowed memory type. */
export function patHalfOk(half: number): boolean {
  for (let shift = 0; shift < 32; shift += 8) {
    const type = (half >>> shift) & 0xff;
    if (type > 7 || ((Pat.TYPES >>> type) & 1) === 0) return false;
  }
  return true;
}

/**
 * The last byte of a `count`-entry MSR area at (lo, hi), address + 16 * count - 1 computed
 * without truncation, sets a bit the high-half mask `hiBad` forbids, or bit 64. Number
 * arithmetic is exact here: the sum stays below 2^37 before the carry is taken.
 */
export function areaEndBeyond(lo: number, hi: number, count: number, hiBad: number): boolean {
  const last = (lo >>> 0) + (count >>> 0) * 16 - 1;
  const top = (hi >>> 0) + Math.floor(last / 0x1_0000_0000);
  return top > 0xffff_ffff || ((top | 0) & hiBad) !== 0;
}
