/**
 * Values on both sides of every limit a VMX rule compares with, and at it: the bit that breaks an
 * alignment, the bit at a width and the one below it, each privilege level, each reserved bit of
 * an encoding or a descriptor, each field of an EPTP, the edges of canonical addresses.
 *
 * The rules these values aim at (SDM Vol. 3C, December 2023, §31.3 "VMX Instructions", each
 * instruction's Operation section, unless said otherwise):
 * - VMXON, VMCLEAR, VMPTRLD: the pointer is 4-KByte aligned (bits 11:0 clear) and sets no bit at
 *   or above the pointer width (the physical-address width, or 32 when IA32_VMX_BASIC[48] = 1);
 * - every VMX instruction but VMFUNC, and MOV to CR0/CR4 and WRMSR: #GP(0) when CPL > 0;
 * - VMREAD, VMWRITE: an encoding names a field only with bit 12 and bits 31:15 clear, access type
 *   high (bit 0) only for a 64-bit field, and an index the table has (§25.11.2 "VMREAD, VMWRITE,
 *   and Encodings of VMCS Fields"); in 64-bit mode bits 63:32 must be clear, outside it they are
 *   ignored; the value is cut to the field width and to the operand size;
 * - INVEPT, INVVPID: the type register is 64 bits in 64-bit mode and 32 bits outside it, so type
 *   1_00000002H is unsupported in 64-bit mode and type 2 outside it; INVVPID's descriptor bits
 *   63:16 must be clear and its linear address canonical (48 or 57 bits); the EPTP of a
 *   single-context INVEPT passes the checks of §27.2.1.1 "VM-Execution Control Fields";
 * - VMFUNC: EAX at most 63 (a 32-bit register), ECX an EPTP index below 512 (§26.5.6.3 "EPTP
 *   Switching").
 */
import fc from 'fast-check';
import { VMCS_FIELDS } from '../../spec/fields.ts';
import { toHex, type Hex } from '../../spec/hex.ts';
import type { Profile } from '../../spec/profile.ts';

const bit = (n: number | bigint): bigint => 1n << BigInt(n);
const ALL_ONES = (1n << 64n) - 1n;

/** Each single bit below 12: a pointer with only that bit set below bit 12 is misaligned there only. */
export const ALIGNMENT_BITS: readonly number[] = Array.from({ length: 12 }, (_, b) => b);

/**
 * A pointer at a limit of the address checks: a region's page with exactly one of bits 11:0
 * set, the bit at the pointer width (rejected) or the one below it (accepted), bit 63.
 */
export function boundaryPointer(profile: Profile, regions: fc.Arbitrary<bigint>): fc.Arbitrary<Hex> {
  const width = profile.pointerWidth;
  return fc
    .oneof(
      { arbitrary: fc.tuple(regions, fc.constantFrom(...ALIGNMENT_BITS)).map(([a, b]) => a | bit(b)), weight: 6 },
      { arbitrary: regions.map((a) => a | bit(width)), weight: 1 },
      { arbitrary: regions.map((a) => a | bit(width - 1)), weight: 1 },
      { arbitrary: regions.map((a) => a | bit(63)), weight: 1 },
    )
    .map(toHex);
}

/** A privilege level other than 0, each equally likely. */
export function nonZeroCpl(): fc.Arbitrary<number> {
  return fc.constantFrom(1, 2, 3);
}

/** Encodings of every field in the table, and the high halves of the 64-bit ones. */
const FULL_ENCODINGS = VMCS_FIELDS.map((f) => f.encoding);

/**
 * For each (width, type) group of the table, the encoding one index above its highest: the
 * first encoding past the end of the group, which names no field.
 */
export const PAST_HIGHEST_INDEX: readonly number[] = (() => {
  const highest = new Map<number, number>();
  for (const e of FULL_ENCODINGS) {
    const group = e & ~0x3fe;
    highest.set(group, Math.max(highest.get(group) ?? 0, (e >>> 1) & 0x1ff));
  }
  return [...highest].filter(([, index]) => index < 0x1ff).map(([group, index]) => group | ((index + 1) << 1));
})();

/**
 * A VMREAD/VMWRITE encoding register at a limit of the encoding checks: a field of the profile
 * with reserved bit 12, one of bits 31:15 or one of bits 63:32 set (bits 15, 31, 32 and 63 most
 * often), the high access type of any field (valid only for 64-bit fields), or one index past
 * the highest of a group.
 */
export function boundaryEncoding(profile: Profile): fc.Arbitrary<Hex> {
  const existing = FULL_ENCODINGS.filter((e) => profile.fieldExists(e)).map(BigInt);
  const field = fc.constantFrom(...existing);
  const reservedBit = fc.oneof({ arbitrary: fc.constantFrom(12, 15, 31, 32, 63), weight: 3 }, { arbitrary: fc.integer({ min: 15, max: 63 }), weight: 1 });
  return fc
    .oneof(
      { arbitrary: fc.tuple(field, reservedBit).map(([e, b]) => e | bit(b)), weight: 4 },
      { arbitrary: field.map((e) => e | 1n), weight: 2 },
      { arbitrary: fc.constantFrom(...PAST_HIGHEST_INDEX).map(BigInt), weight: 1 },
    )
    .map(toHex);
}

/**
 * A VMWRITE value at a field width or the operand size: the largest value of 15, 16, 31, 32 or 63
 * bits and the first one past it, and all ones.
 */
export function boundaryValue(): fc.Arbitrary<Hex> {
  return fc
    .oneof(
      fc.constantFrom(15, 16, 31, 32, 63).map((w) => bit(w) - 1n),
      fc.constantFrom(15, 16, 31, 32, 63).map((w) => bit(w)),
      fc.constantFrom(16, 32).map((w) => bit(w) | 1n),
      fc.constant(ALL_ONES),
    )
    .map(toHex);
}

/**
 * An INVEPT/INVVPID type register: each type 0..4, or one of them with bits 63:32 set (one bit,
 * all of them, or bit 32: type 1_00000002H is the value a processor that ignores the upper half
 * in 64-bit mode takes for type 2).
 */
export function boundaryInvType(): fc.Arbitrary<Hex> {
  const low = fc.integer({ min: 0, max: 4 }).map(BigInt);
  const high = fc.constantFrom(bit(32), bit(63), 0xffff_ffffn << 32n);
  return fc
    .oneof(low, fc.tuple(high, low).map(([h, t]) => h | t))
    .map(toHex);
}

/**
 * INVVPID descriptor bits 63:0 at its limits: VPID 1, 7FFFH, 8000H or FFFFH with bits 63:16
 * clear, or VPID 1 with exactly one of bits 63:16 set (16 and 63 most often).
 */
export function boundaryVpidDescriptor(): fc.Arbitrary<Hex> {
  const reserved = fc.oneof(fc.constantFrom(16, 63), fc.integer({ min: 16, max: 63 }));
  return fc
    .oneof(fc.constantFrom(1n, 0x7fffn, 0x8000n, 0xffffn), reserved.map((b) => 1n | bit(b)))
    .map(toHex);
}

/**
 * Linear addresses at the edges of canonical form: the last and first canonical addresses with
 * 48-bit linear addresses (7FFF_FFFF_FFFFH, FFFF_8000_0000_0000H), the first ones canonical with
 * 57 but not 48 bits (0000_8000_0000_0000H, FFFF_7FFF_FFFF_FFFFH), the edges with 57 bits
 * (00FF_FFFF_FFFF_FFFFH, FF00_0000_0000_0000H) and the first addresses past them.
 */
export function boundaryLinearAddress(): fc.Arbitrary<Hex> {
  return fc
    .constantFrom(
      0x0000_7fff_ffff_ffffn,
      0xffff_8000_0000_0000n,
      0x0000_8000_0000_0000n,
      0xffff_7fff_ffff_ffffn,
      0x00ff_ffff_ffff_ffffn,
      0xff00_0000_0000_0000n,
      0x0100_0000_0000_0000n,
      0xfeff_ffff_ffff_ffffn,
    )
    .map(toHex);
}

/**
 * An EPTP that a common processor accepts (write-back, 4-level walk, address 2000H) with one
 * field moved to a limit: memory type UC or WB (the ones a processor may support) or a neighbour
 * (1, 5, 7), walk length 4 or 5 (the ones a processor may support) or a neighbour (3, 6), bit 6
 * or 7, reserved bit 8 or 11, the address bit below the physical-address width or at it.
 */
export function boundaryEptp(profile: Profile): fc.Arbitrary<Hex> {
  const base = 0x2000n | (3n << 3n) | 6n;
  const width = profile.data.physicalAddressWidth;
  return fc
    .oneof(
      fc.constantFrom(...EPTP_MEMORY_TYPES).map((t) => (base & ~7n) | BigInt(t)),
      fc.constantFrom(...EPTP_WALK_LENGTHS).map((w) => (base & ~(7n << 3n)) | (BigInt(w - 1) << 3n)),
      fc.constantFrom(6, 7, 8, 11).map((b) => base | bit(b)),
      fc.constantFrom(width - 1, width).map((b) => base | bit(b)),
    )
    .map(toHex);
}

/** EPTP memory types at the limits of the check: UC (0), WB (6), and their neighbours. */
export const EPTP_MEMORY_TYPES: readonly number[] = [0, 1, 5, 6, 7];

/** EPTP page-walk lengths at the limits of the check: 4 and 5 levels, and their neighbours. */
export const EPTP_WALK_LENGTHS: readonly number[] = [3, 4, 5, 6];

/** VMFUNC's EAX and ECX at their limits: function 0, 63 and 64, EAX with bit 32 set; index 511 and 512. */
export function boundaryVmfunc(): fc.Arbitrary<{ eax: Hex; ecx: Hex }> {
  return fc
    .record({
      eax: fc.constantFrom(0n, 1n, 63n, 64n, 0xffff_ffffn, bit(32)),
      ecx: fc.constantFrom(0n, 511n, 512n, 0xffff_ffffn),
    })
    .map(({ eax, ecx }) => ({ eax: toHex(eax), ecx: toHex(ecx) }));
}

/**
 * A MOV to CR0/CR4 source: `initial` with exactly one bit flipped, any of bits 63:0. Most flips
 * reach checks the model does not decide yet, so this is used sparingly.
 */
export function singleBitFlip(initial: bigint): fc.Arbitrary<Hex> {
  return fc.integer({ min: 0, max: 63 }).map((b) => toHex(initial ^ bit(b)));
}
