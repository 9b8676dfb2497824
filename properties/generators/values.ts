/**
 * Building blocks of operation sequences: region addresses, pointers with targeted faults,
 * revision dwords, field encodings and 64-bit values, each biased towards the values where
 * VMX rules draw their lines.
 */
import fc from 'fast-check';
import { VMCS_FIELDS } from '../../spec/fields.ts';
import { toHex, type Hex } from '../../spec/hex.ts';
import type { Profile } from '../../spec/profile.ts';

/** Physical addresses of the 4-KByte regions cases lay out (small pool: pointers collide often). */
export const REGION_POOL: readonly bigint[] = [0x1000n, 0x2000n, 0x3000n, 0x4000n, 0x5000n, 0x6000n];

/** A region address from {@link REGION_POOL}. */
export function regionAddress(): fc.Arbitrary<bigint> {
  return fc.constantFrom(...REGION_POOL);
}

/**
 * A VMXON/VMCS pointer: usually a pool region, sometimes one the SDM rejects (not 4-KByte
 * aligned, bits beyond the pointer width, bit 63, all ones) or one at the last valid page.
 */
export function pointer(profile: Profile): fc.Arbitrary<Hex> {
  const width = BigInt(profile.pointerWidth);
  const faulty = fc.oneof(
    regionAddress().map((a) => a + 8n),
    regionAddress().map((a) => a + 1n),
    regionAddress().map((a) => a | (1n << width)),
    regionAddress().map((a) => a | (1n << 63n)),
    fc.constant((1n << 64n) - 1n),
    fc.constant((1n << width) - 0x1000n),
  );
  return fc.oneof({ arbitrary: regionAddress(), weight: 6 }, { arbitrary: faulty, weight: 1 }).map(toHex);
}

/** A region's first dword: the right revision identifier mostly, else off by one or shadow-marked. */
export function revisionDword(profile: Profile): fc.Arbitrary<Hex> {
  const rev = BigInt(profile.revisionId);
  return fc
    .oneof(
      { arbitrary: fc.constant(rev), weight: 8 },
      { arbitrary: fc.constant(rev | 0x8000_0000n), weight: 1 },
      { arbitrary: fc.constant((rev + 1n) & 0x7fff_ffffn), weight: 1 },
      { arbitrary: fc.constant(rev === 0n ? 0x7fff_ffffn : rev - 1n), weight: 1 },
      { arbitrary: fc.constant(0n), weight: 1 },
    )
    .map(toHex);
}

/** Encodings of every field in the SDM tables, with the high-half encodings of 64-bit fields. */
const TABLE_ENCODINGS: readonly number[] = VMCS_FIELDS.flatMap((field) =>
  field.width === 64 ? [field.encoding, field.encoding + 1] : [field.encoding],
);

/**
 * A VMREAD/VMWRITE encoding register: mostly encodings of fields that exist on the profile, also
 * fields it lacks, high halves of non-64-bit fields, reserved bit 12 or bits 31:15, bits 63:32,
 * and arbitrary numbers.
 */
export function fieldEncoding(profile: Profile): fc.Arbitrary<Hex> {
  const existing = TABLE_ENCODINGS.filter((e) => profile.fieldExists(e));
  const known = fc.constantFrom(...existing).map(BigInt);
  const anyTabled = fc.constantFrom(...TABLE_ENCODINGS).map(BigInt);
  const malformed = fc.oneof(
    fc.constantFrom(...existing).map((e) => BigInt(e | 1)),
    fc.constantFrom(...existing).map((e) => BigInt(e | 0x1000)),
    fc.constantFrom(...existing).map((e) => BigInt(e) | 0x8000n),
    fc.constantFrom(...existing).map((e) => BigInt(e) | (1n << 32n)),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.integer({ min: 0, max: 0x7fff }).map(BigInt),
  );
  return fc
    .oneof({ arbitrary: known, weight: 12 }, { arbitrary: anyTabled, weight: 2 }, { arbitrary: malformed, weight: 2 })
    .map(toHex);
}

/** A 64-bit operand value: small numbers, all ones, single bits, or anything. */
export function value64(): fc.Arbitrary<Hex> {
  return fc
    .oneof(
      fc.bigInt({ min: 0n, max: 0xffffn }),
      fc.constant((1n << 64n) - 1n),
      fc.integer({ min: 0, max: 63 }).map((bit) => 1n << BigInt(bit)),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    )
    .map(toHex);
}
