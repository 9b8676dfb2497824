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

/**
 * The VMXON regions the canonical set-up gives processors 0 and 1. Fixing them lets random steps
 * aim VMCS instructions and memory stores mostly elsewhere: a store into a VMXON region, or a
 * VMCS instruction on another processor's VMXON region, is undefined (§25.11.5 "VMXON Region")
 * and ends the comparison, so aiming at them at random ended a third of the cases early.
 */
export const VMXON_REGIONS: readonly bigint[] = [0x1000n, 0x6000n];

/** The pool's other regions, where cases put their VMCSs. */
export const VMCS_REGIONS: readonly bigint[] = REGION_POOL.filter((r) => !VMXON_REGIONS.includes(r));

/**
 * Regions outside the pool that only the shadow-VMCS steps use, one per processor (0x7000 for
 * processor 0, 0x8000 for processor 1): a VMCS loaded on one processor is then never found active
 * on another, which would make its VMCLEAR undefined and end the case.
 */
export const SHADOW_VMCS_REGIONS: readonly bigint[] = [0x7000n, 0x8000n];

/** A region address from {@link REGION_POOL}. */
export function regionAddress(): fc.Arbitrary<bigint> {
  return fc.constantFrom(...REGION_POOL);
}

/**
 * A region for a VMCS or a store: one of {@link VMCS_REGIONS}, against a VMXON region at odds of
 * `vmcsWeight` to 1.
 */
export function vmcsRegion(vmcsWeight = 7): fc.Arbitrary<bigint> {
  return fc.oneof({ arbitrary: fc.constantFrom(...VMCS_REGIONS), weight: vmcsWeight }, { arbitrary: fc.constantFrom(...VMXON_REGIONS), weight: 1 });
}

/** A VMXON operand for processor `cpu`: mostly its own VMXON region, sometimes any pool region. */
export function vmxonRegion(cpu: number): fc.Arbitrary<bigint> {
  const own = VMXON_REGIONS[cpu];
  if (own === undefined) return regionAddress();
  return fc.oneof({ arbitrary: fc.constant(own), weight: 5 }, { arbitrary: regionAddress(), weight: 2 });
}

/**
 * A VMXON/VMCS pointer: usually a region from `regions`, sometimes one the SDM rejects (not
 * 4-KByte aligned, bits beyond the pointer width, bit 63, all ones) or one at the last valid page.
 */
export function pointer(profile: Profile, regions: fc.Arbitrary<bigint> = vmcsRegion()): fc.Arbitrary<Hex> {
  const width = BigInt(profile.pointerWidth);
  const faulty = fc.oneof(
    regions.map((a) => a + 8n),
    regions.map((a) => a + 1n),
    regions.map((a) => a | (1n << width)),
    regions.map((a) => a | (1n << 63n)),
    fc.constant((1n << 64n) - 1n),
    fc.constant((1n << width) - 0x1000n),
  );
  return fc.oneof({ arbitrary: regions, weight: 6 }, { arbitrary: faulty, weight: 1 }).map(toHex);
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

/**
 * An EPTP for INVEPT's descriptor: mostly one the checks of §27.2.1.1 "VM-Execution Control
 * Fields" accept on common processors (write-back, 4-level walk, a pool address), with each
 * field the check looks at sometimes off: memory type (UC, or a reserved type), walk length
 * (5-level, or an invalid length), the accessed/dirty and supervisor-shadow-stack bits, reserved
 * bits 11:8, an address bit at the physical-address width.
 */
export function eptp(profile: Profile): fc.Arbitrary<bigint> {
  const beyond = 1n << BigInt(profile.data.physicalAddressWidth);
  return fc
    .record({
      memoryType: fc.oneof({ arbitrary: fc.constant(6n), weight: 6 }, fc.constant(0n), fc.constantFrom(1n, 2n, 7n)),
      walkMinusOne: fc.oneof({ arbitrary: fc.constant(3n), weight: 6 }, fc.constant(4n), fc.constantFrom(0n, 2n, 7n)),
      accessedDirty: fc.oneof({ arbitrary: fc.constant(0n), weight: 3 }, fc.constant(1n << 6n)),
      shadowStack: fc.oneof({ arbitrary: fc.constant(0n), weight: 5 }, fc.constant(1n << 7n)),
      reserved: fc.oneof({ arbitrary: fc.constant(0n), weight: 8 }, fc.integer({ min: 8, max: 11 }).map((bit) => 1n << BigInt(bit))),
      address: fc.oneof({ arbitrary: regionAddress(), weight: 8 }, regionAddress().map((a) => a | beyond)),
    })
    .map((e) => e.address | e.reserved | e.shadowStack | e.accessedDirty | (e.walkMinusOne << 3n) | e.memoryType);
}

/**
 * INVVPID's descriptor bits 63:0: a VPID in bits 15:0 (0, which most types reject, 1, the
 * largest, or any) with bits 63:16 mostly clear, as the instruction requires.
 */
export function vpidDescriptor(): fc.Arbitrary<bigint> {
  const vpid = fc.oneof(fc.constant(0n), fc.constant(1n), fc.constant(0xffffn), fc.bigInt({ min: 0n, max: 0xffffn }));
  const reserved = fc.oneof(
    { arbitrary: fc.constant(0n), weight: 8 },
    fc.integer({ min: 16, max: 63 }).map((bit) => 1n << BigInt(bit)),
  );
  return fc.tuple(vpid, reserved).map(([v, r]) => v | r);
}

/**
 * INVVPID's descriptor bits 127:64, the linear address of the individual-address type: low and
 * high canonical addresses, one canonical with 57-bit but not 48-bit linear addresses, and
 * non-canonical ones.
 */
export function linearAddress(): fc.Arbitrary<bigint> {
  return fc.oneof(
    fc.constant(0n),
    fc.constant(0x7fff_ffff_f000n),
    fc.constant(0xffff_8000_0000_0000n),
    fc.constant(0x00ff_ffff_ffff_f000n),
    fc.constant(0x8000_0000_0000_0000n),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  );
}
