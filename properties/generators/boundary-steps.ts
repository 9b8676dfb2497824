/**
 * Random steps that carry the boundary values of boundaries.ts to the checks that compare them:
 * a step here is a short group of operations, so that a value meets its check in the state that
 * check needs and the state is put back afterwards (most cases should still run to their end):
 * - an instruction at CPL 1, 2 or 3, between two `set cpl` operations;
 * - VMREAD, VMWRITE, INVEPT or INVVPID outside 64-bit mode (IA32_EFER.LMA cleared for one
 *   instruction), where their register operands are 32 bits;
 * - a VMCS region marked with the shadow-VMCS indicator, loaded, then VMLAUNCH or VMRESUME
 *   (SDM Vol. 3C, December 2023, §27.1 "Basic VM-Entry Checks": VMfailInvalid when the current
 *   VMCS is a shadow VMCS), on a region of its own per processor so that no other step finds it
 *   active elsewhere;
 * - single instructions with a boundary pointer, encoding, value, type or descriptor.
 */
import fc from 'fast-check';
import { initialProcessorState } from '../../spec/initial-state.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { toHex, type Hex } from '../../spec/hex.ts';
import {
  boundaryEncoding,
  boundaryEptp,
  boundaryInvType,
  boundaryLinearAddress,
  boundaryPointer,
  boundaryValue,
  boundaryVmfunc,
  boundaryVpidDescriptor,
  nonZeroCpl,
  singleBitFlip,
} from './boundaries.ts';
import { eptp, linearAddress, pointer, SHADOW_VMCS_REGIONS, value64, vmcsRegion, vmxonRegion, vpidDescriptor } from './values.ts';

/** A weighted arbitrary of operation groups, as `fc.oneof` takes it. */
export type WeightedGroup = { arbitrary: fc.Arbitrary<Operation[]>; weight: number };

/** Shadow-VMCS indicator: bit 31 of a region's first dword (§25.10 "VMCS Types: Ordinary and Shadow"). */
const SHADOW_INDICATOR = 0x8000_0000n;

/** A group of one operation. */
const single = (op: Operation): Operation[] => [op];

/** `op` run at a privilege level other than 0, which is restored to 0 afterwards. */
export function atNonZeroCpl(cpu: number, ops: fc.Arbitrary<Operation>): fc.Arbitrary<Operation[]> {
  return fc
    .tuple(nonZeroCpl(), ops)
    .map(([cpl, op]): Operation[] => [
      { kind: 'set', cpu, what: 'cpl', value: cpl },
      op,
      { kind: 'set', cpu, what: 'cpl', value: initialProcessorState.cpl },
    ]);
}

/** `op` run with IA32_EFER.LMA = 0 (outside IA-32e mode), which is set back to 1 afterwards. */
function outside64BitMode(cpu: number, ops: fc.Arbitrary<Operation>): fc.Arbitrary<Operation[]> {
  return ops.map((op): Operation[] => [
    { kind: 'set', cpu, what: 'efer.lma', value: 0 },
    op,
    { kind: 'set', cpu, what: 'efer.lma', value: initialProcessorState.eferLma },
  ]);
}

/** Every instruction that compares CPL with 0, with ordinary operands. */
function cplCheckedInstruction(profile: Profile, cpu: number, encodings: fc.Arbitrary<Hex>): fc.Arbitrary<Operation> {
  const ptr = pointer(profile);
  const descriptor = fc.tuple(eptp(profile).map(toHex), value64());
  return fc.oneof(
    pointer(profile, vmxonRegion(cpu)).map((p): Operation => ({ kind: 'vmxon', cpu, pointer: p })),
    fc.constant<Operation>({ kind: 'vmxoff', cpu }),
    ptr.map((p): Operation => ({ kind: 'vmclear', cpu, pointer: p })),
    ptr.map((p): Operation => ({ kind: 'vmptrld', cpu, pointer: p })),
    fc.constant<Operation>({ kind: 'vmptrst', cpu }),
    encodings.map((encoding): Operation => ({ kind: 'vmread', cpu, encoding })),
    fc.tuple(encodings, value64()).map(([encoding, value]): Operation => ({ kind: 'vmwrite', cpu, encoding, value })),
    fc.constantFrom<Operation>({ kind: 'vmlaunch', cpu }, { kind: 'vmresume', cpu }),
    fc.tuple(fc.constantFrom(1n, 2n), descriptor).map(([t, d]): Operation => ({ kind: 'invept', cpu, type: toHex(t), descriptor: d })),
    fc.constantFrom(0n, 1n, 2n, 3n).map((t): Operation => ({ kind: 'invvpid', cpu, type: toHex(t), descriptor: [toHex(1n), toHex(0n)] })),
    fc.constant<Operation>({ kind: 'vmcall', cpu }),
    fc.constant<Operation>({ kind: 'mov-cr0', cpu, value: toHex(initialProcessorState.cr0) }),
    fc.constant<Operation>({ kind: 'mov-cr4', cpu, value: toHex(initialProcessorState.cr4) }),
    fc.constant<Operation>({ kind: 'write-feature-control', cpu, value: toHex(5n) }),
  );
}

/** Instructions whose register operands are cut to 32 bits outside 64-bit mode, with boundary operands. */
function operandSizeInstruction(profile: Profile, cpu: number, encodings: fc.Arbitrary<Hex>): fc.Arbitrary<Operation> {
  return fc.oneof(
    fc.tuple(boundaryEncoding(profile), value64()).map(([encoding, value]): Operation => ({ kind: 'vmwrite', cpu, encoding, value })),
    boundaryEncoding(profile).map((encoding): Operation => ({ kind: 'vmread', cpu, encoding })),
    fc.tuple(encodings, boundaryValue()).map(([encoding, value]): Operation => ({ kind: 'vmwrite', cpu, encoding, value })),
    inveptWith(profile, cpu, boundaryInvType()),
    invvpidWith(cpu, boundaryInvType()),
  );
}

function inveptWith(profile: Profile, cpu: number, type: fc.Arbitrary<Hex>, eptps: fc.Arbitrary<Hex> = eptp(profile).map(toHex)): fc.Arbitrary<Operation> {
  return fc.tuple(type, eptps, value64()).map(([t, e, high]): Operation => ({ kind: 'invept', cpu, type: t, descriptor: [e, high] }));
}

function invvpidWith(cpu: number, type: fc.Arbitrary<Hex>, low: fc.Arbitrary<Hex> = vpidDescriptor().map(toHex), address: fc.Arbitrary<Hex> = linearAddress().map(toHex)): fc.Arbitrary<Operation> {
  return fc.tuple(type, low, address).map(([t, l, a]): Operation => ({ kind: 'invvpid', cpu, type: t, descriptor: [l, a] }));
}

/**
 * VMCLEAR this processor's shadow region, mark it a shadow VMCS, VMPTRLD it and try a VM entry
 * with it current (VMLAUNCH or VMRESUME).
 */
function shadowVmcsEntry(profile: Profile, cpu: number): fc.Arbitrary<Operation[]> {
  const region = SHADOW_VMCS_REGIONS[cpu % SHADOW_VMCS_REGIONS.length] as bigint;
  const marked = toHex(BigInt(profile.revisionId) | SHADOW_INDICATOR);
  return fc.constantFrom<Operation['kind']>('vmlaunch', 'vmresume').map((entry): Operation[] => [
    { kind: 'vmclear', cpu, pointer: toHex(region) },
    { kind: 'write-memory', cpu, address: toHex(region), value: marked },
    { kind: 'vmptrld', cpu, pointer: toHex(region) },
    entry === 'vmlaunch' ? { kind: 'vmlaunch', cpu } : { kind: 'vmresume', cpu },
  ]);
}

/**
 * The boundary steps of processor `cpu`, weighted against the ordinary steps of operations.ts
 * (which weigh 140 together): together about three steps in ten. MOV to CR0/CR4 with a single bit
flipped weighs least: most flips reach checks the model does not decide yet, which end the case.
 */
export function boundarySteps(profile: Profile, cpu: number, encodings: fc.Arbitrary<Hex>): WeightedGroup[] {
  const boundaryPtr = boundaryPointer(profile, vmcsRegion(12));
  const supportedVpidTypes = fc.constantFrom(0n, 1n, 2n, 3n).map(toHex);
  return [
    { arbitrary: boundaryPtr.map((p) => single({ kind: 'vmclear', cpu, pointer: p })), weight: 6 },
    { arbitrary: boundaryPtr.map((p) => single({ kind: 'vmptrld', cpu, pointer: p })), weight: 6 },
    { arbitrary: atNonZeroCpl(cpu, cplCheckedInstruction(profile, cpu, encodings)), weight: 10 },
    { arbitrary: outside64BitMode(cpu, operandSizeInstruction(profile, cpu, encodings)), weight: 6 },
    {
      arbitrary: fc.oneof(
        fc.tuple(boundaryEncoding(profile), value64()).map(([encoding, value]): Operation => ({ kind: 'vmwrite', cpu, encoding, value })),
        boundaryEncoding(profile).map((encoding): Operation => ({ kind: 'vmread', cpu, encoding })),
      ).map(single),
      weight: 6,
    },
    { arbitrary: fc.tuple(encodings, boundaryValue()).map(([encoding, value]) => single({ kind: 'vmwrite', cpu, encoding, value })), weight: 3 },
    { arbitrary: fc.oneof(inveptWith(profile, cpu, boundaryInvType()), invvpidWith(cpu, boundaryInvType())).map(single), weight: 4 },
    { arbitrary: inveptWith(profile, cpu, fc.constant(toHex(1n)), boundaryEptp(profile)).map(single), weight: 4 },
    { arbitrary: invvpidWith(cpu, supportedVpidTypes, boundaryVpidDescriptor(), fc.constant(toHex(0n))).map(single), weight: 3 },
    { arbitrary: invvpidWith(cpu, fc.constant(toHex(0n)), fc.constant(toHex(1n)), boundaryLinearAddress()).map(single), weight: 3 },
    { arbitrary: shadowVmcsEntry(profile, cpu), weight: 4 },
    { arbitrary: boundaryVmfunc().map(({ eax, ecx }) => single({ kind: 'vmfunc', cpu, eax, ecx })), weight: 1 },
    {
      arbitrary: fc.oneof(
        singleBitFlip(initialProcessorState.cr0).map((value): Operation => ({ kind: 'mov-cr0', cpu, value })),
        singleBitFlip(initialProcessorState.cr4).map((value): Operation => ({ kind: 'mov-cr4', cpu, value })),
      ).map(single),
      weight: 1,
    },
  ];
}

/**
 * A VMXON attempt the set-up may make before its real VMXON, so that VMXON's own checks meet
 * their boundaries (they are reached only outside VMX operation): a pointer misaligned in one
 * bit or at the pointer width, or CPL 1, 2 or 3.
 */
export function failingVmxonAttempt(profile: Profile, cpu: number): fc.Arbitrary<Operation[]> {
  return fc.oneof(
    { arbitrary: boundaryPointer(profile, vmxonRegion(cpu)).map((p) => single({ kind: 'vmxon', cpu, pointer: p })), weight: 3 },
    { arbitrary: atNonZeroCpl(cpu, pointer(profile, vmxonRegion(cpu)).map((p): Operation => ({ kind: 'vmxon', cpu, pointer: p }))), weight: 1 },
  );
}
