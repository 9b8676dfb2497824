/**
 * Guest operations for the VM-exit step group: the guest operations of case formats 4 and 5 and the
 * VMX instructions, with operands drawn so that each exit condition is met on both sides under
 * the group's exit configuration (exit-setup.ts): a MOV to CR0/CR4 that agrees with the read
 * shadow in every masked bit or flips one, an LMSW on either side of its rule, a MOV to CR3 of a
 * CR3-target value or of another value, ports and MSRs inside and outside the bitmap ranges
 * (with their bits drawn 0 or 1), exceptions inside and outside the exception bitmap, page
 * faults whose error code matches the mask and match or not.
 *
 * Values that complete in the guest keep the guest's state valid where the operation changes
 * it: a MOV to CR0/CR4 that does not exit keeps the guest's own bits, WRMSR writes values the
 * MSR accepts.
 */
import fc from 'fast-check';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import { PROBE_ENCODINGS, PROBE_MSRS, PROBE_PORTS, type ExitSetup } from './exit-setup.ts';
import { BUILT_VMCS_POINTER } from './vmcs-perturb.ts';

const gpr = fc.integer({ min: 0, max: 15 });
const hex = (v: bigint | number): ReturnType<typeof toHex> => toHex(BigInt(v));

/** A value agreeing with `shadow` in the bits of `mask` (no exit), or differing in one of them (exit), over `own`. */
function maskedValue(mask: bigint, shadow: bigint, own: bigint): fc.Arbitrary<bigint> {
  const agree = (own & ~mask) | (shadow & mask);
  const maskBits = [...Array(64).keys()].filter((b) => (mask >> BigInt(b)) & 1n);
  if (maskBits.length === 0) return fc.constant(agree);
  return fc.oneof(fc.constant(agree), fc.constantFrom(...maskBits).map((b) => agree ^ (1n << BigInt(b))));
}

/** WRMSR values each probe MSR accepts (the guest's EFER for IA32_EFER, the default PAT). */
function msrValue(setup: ExitSetup, msr: number): bigint {
  if (msr === 0xc000_0080) return setup.guest64 ? 0x500n : 0n;
  if (msr === 0x277) return 0x0007_0406_0007_0406n;
  if (msr === 0x174) return 0x8n;
  return 0n;
}

const EXCEPTIONS: readonly { vector: number; errorCodes?: readonly number[] }[] = [
  { vector: 0 },
  { vector: 1 },
  { vector: 5 },
  { vector: 6 },
  { vector: 12, errorCodes: [0] },
  { vector: 13, errorCodes: [0, 0x10] },
  { vector: 14, errorCodes: [0, 2, 3, 4, 6, 0x10] },
  { vector: 17, errorCodes: [0] },
];

/** One of the guest operations on processor `cpu`, with operands around `setup`'s exit conditions. */
export function guestOperation(setup: ExitSetup, cpu: number): fc.Arbitrary<Operation> {
  const simple = (kind: 'hlt' | 'invd' | 'wbinvd' | 'rdtsc' | 'rdtscp' | 'pause' | 'monitor' | 'mwait' | 'clts'): fc.Arbitrary<Operation> =>
    fc.constant<Operation>({ kind, cpu });
  const lowCr0 = setup.guestCr0 & 0xffffn;
  return fc.oneof(
    fc.tuple(fc.constantFrom(0, 1, 7, 0xd, 0x8000_0001, 0x4000_0000), fc.constantFrom(0, 1)).map(([eax, ecx]): Operation => ({ kind: 'cpuid', cpu, eax: hex(eax), ecx: hex(ecx) })),
    simple('hlt'),
    simple('invd'),
    simple('wbinvd'),
    fc.constantFrom(0x1000n, 0x40_2000n, 0xffff_8000_0000_0000n).map((a): Operation => ({ kind: 'invlpg', cpu, address: hex(a) })),
    simple('rdtsc'),
    simple('rdtscp'),
    fc.constantFrom(0, 1, 0x4000_0000).map((ecx): Operation => ({ kind: 'rdpmc', cpu, ecx: hex(ecx) })),
    simple('pause'),
    fc.tuple(fc.constantFrom(0, 3, 4, 8) as fc.Arbitrary<0 | 3 | 4 | 8>, gpr).map(([cr, g]): Operation => ({ kind: 'mov-from-cr', cpu, cr, gpr: g })),
    fc.tuple(maskedValue(setup.cr0Mask, setup.cr0Shadow, setup.guestCr0), gpr).map(([v, g]): Operation => ({ kind: 'mov-cr0', cpu, value: hex(v), gpr: g })),
    fc.tuple(maskedValue(setup.cr4Mask, setup.cr4Shadow, setup.guestCr4), gpr).map(([v, g]): Operation => ({ kind: 'mov-cr4', cpu, value: hex(v), gpr: g })),
    fc.tuple(fc.constantFrom(...setup.cr3Targets, setup.guestCr3, 0x26000n), gpr).map(([v, g]): Operation => ({ kind: 'mov-cr3', cpu, value: hex(v), gpr: g })),
    fc.tuple(fc.integer({ min: 0, max: 15 }), gpr).map(([v, g]): Operation => ({ kind: 'mov-cr8', cpu, value: hex(v), gpr: g })),
    simple('clts'),
    fc.tuple(maskedValue(setup.cr0Mask & 0xfn, setup.cr0Shadow, lowCr0), fc.boolean()).map(([v, memory]): Operation =>
      memory ? { kind: 'lmsw', cpu, value: hex(v), form: 'memory', address: hex(0x40_3000n) } : { kind: 'lmsw', cpu, value: hex(v) }),
    fc.tuple(fc.boolean(), fc.constantFrom(0, 1, 2, 3, 6, 7), gpr).map(([to, dr, g]): Operation =>
      to ? { kind: 'mov-dr', cpu, direction: 'to', dr, gpr: g, value: hex(dr === 7 ? 0x400n : dr === 6 ? 0xffff_0ff0n : 0x40_5000n) } : { kind: 'mov-dr', cpu, direction: 'from', dr, gpr: g }),
    fc.constantFrom(...PROBE_MSRS).map((msr): Operation => ({ kind: 'rdmsr', cpu, ecx: hex(msr) })),
    fc.constantFrom(...PROBE_MSRS).map((msr): Operation => ({ kind: 'wrmsr', cpu, ecx: hex(msr), value: hex(msrValue(setup, msr)) })),
    ioOperation(cpu),
    fc.constantFrom(1n, 3n).map((v): Operation => ({ kind: 'xsetbv', cpu, ecx: hex(0), value: hex(v) })),
    fc.constant<Operation>({ kind: 'monitor', cpu }),
    fc.constant<Operation>({ kind: 'mwait', cpu }),
    exceptionOperation(cpu),
    ...systemInstructionOperations(setup, cpu),
  );
}

/** Canonical and non-canonical linear addresses for INVPCID descriptors and LGDT/LIDT bases. */
const LINEAR_ADDRESSES: readonly bigint[] = [0x1000n, 0x40_2000n, 0xffff_8000_0000_0000n, 0x8000_0000_0000n];

/**
 * The guest operations of case format 5: RDRAND and RDSEED (every size, any register), INVPCID
 * (valid and invalid types, reserved descriptor bits, non-canonical addresses, PCIDs), the eight
 * descriptor-table instructions (memory and register forms, null and other selectors), GETSEC,
 * XSAVES/XRSTORS with instruction masks inside and outside the XSS-exiting bitmap, and WBNOINVD.
 */
function systemInstructionOperations(setup: ExitSetup, cpu: number): fc.Arbitrary<Operation>[] {
  const size = fc.constantFrom(16, 32, 64) as fc.Arbitrary<16 | 32 | 64>;
  const mask = fc.constantFrom(0x100n, 0x1800n, 0x3n, 0xffff_ffff_ffff_ffffn).map(hex);
  void setup;
  return [
    fc.tuple(gpr, size).map(([g, s]): Operation => ({ kind: 'rdrand', cpu, gpr: g, size: s })),
    fc.tuple(gpr, size).map(([g, s]): Operation => ({ kind: 'rdseed', cpu, gpr: g, size: s })),
    fc
      .tuple(fc.constantFrom(0n, 1n, 2n, 3n, 4n, 0x1_0000_0000n), fc.constantFrom(0n, 1n, 0xfffn, 0x1000n), fc.constantFrom(...LINEAR_ADDRESSES), fc.option(gpr, { freq: 2 }))
      .map(([type, low, address, typeGpr]): Operation => ({
        kind: 'invpcid',
        cpu,
        type: hex(type),
        descriptor: [hex(low), hex(address)],
        ...(typeGpr === null ? {} : { typeGpr }),
      })),
    descriptorTableOperation(cpu),
    fc.constant<Operation>({ kind: 'getsec', cpu }),
    mask.map((m): Operation => ({ kind: 'xsaves', cpu, mask: m })),
    mask.map((m): Operation => ({ kind: 'xrstors', cpu, mask: m })),
    fc.constant<Operation>({ kind: 'wbinvd', cpu, variant: 'wbnoinvd' }),
  ];
}

/** SGDT, SIDT, LGDT, LIDT (memory), SLDT, STR, LLDT, LTR (register or memory). */
function descriptorTableOperation(cpu: number): fc.Arbitrary<Operation> {
  const memoryOnly = fc.constantFrom('sgdt', 'sidt') as fc.Arbitrary<'sgdt' | 'sidt'>;
  const loads = fc.tuple(fc.constantFrom('lgdt', 'lidt') as fc.Arbitrary<'lgdt' | 'lidt'>, fc.constantFrom(0n, 0x7fn, 0xffffn), fc.constantFrom(...LINEAR_ADDRESSES));
  const form = fc.option(gpr, { freq: 2 });
  return fc.oneof(
    memoryOnly.map((instruction): Operation => ({ kind: 'descriptor-table', cpu, instruction })),
    loads.map(([instruction, limit, base]): Operation => ({ kind: 'descriptor-table', cpu, instruction, limit: hex(limit), base: hex(base) })),
    fc.tuple(fc.constantFrom('sldt', 'str') as fc.Arbitrary<'sldt' | 'str'>, form).map(([instruction, g]): Operation =>
      g === null ? { kind: 'descriptor-table', cpu, instruction } : { kind: 'descriptor-table', cpu, instruction, form: 'register', gpr: g }),
    fc.tuple(fc.constantFrom('lldt', 'ltr') as fc.Arbitrary<'lldt' | 'ltr'>, form, fc.constantFrom(0n, 3n, 0x10n, 0x2bn)).map(([instruction, g, selector]): Operation =>
      g === null
        ? { kind: 'descriptor-table', cpu, instruction, selector: hex(selector) }
        : { kind: 'descriptor-table', cpu, instruction, form: 'register', gpr: g, selector: hex(selector) }),
  );
}

/** IN, OUT, INS and OUTS at the probe ports, every size, sometimes string (with or without REP), sometimes an immediate port. */
function ioOperation(cpu: number): fc.Arbitrary<Operation> {
  return fc
    .record({
      port: fc.constantFrom(...PROBE_PORTS),
      size: fc.constantFrom(1, 2, 4) as fc.Arbitrary<1 | 2 | 4>,
      direction: fc.constantFrom('in', 'out') as fc.Arbitrary<'in' | 'out'>,
      form: fc.constantFrom('dx', 'dx', 'immediate', 'string', 'rep-string'),
    })
    .map(({ port, size, direction, form }): Operation => {
      const base = { kind: 'io' as const, cpu, port, size, direction };
      if (form === 'immediate' && port <= 0xff) return { ...base, immediate: true };
      if (form === 'string' || form === 'rep-string') return { ...base, string: true, ...(form === 'rep-string' ? { rep: true } : {}), address: hex(0x40_6000n) };
      return base;
    });
}

/** A hardware exception, with an error code for the vectors that have one and a faulting address for #PF. */
function exceptionOperation(cpu: number): fc.Arbitrary<Operation> {
  return fc.tuple(fc.constantFrom(...EXCEPTIONS), fc.nat()).map(([e, pick]): Operation => {
    if (e.errorCodes === undefined) return { kind: 'exception', cpu, vector: e.vector };
    const errorCode = hex(e.errorCodes[pick % e.errorCodes.length] as number);
    return e.vector === 14 ? { kind: 'exception', cpu, vector: 14, errorCode, address: hex(0x7f_0000n) } : { kind: 'exception', cpu, vector: e.vector, errorCode };
  });
}

/** A VMX instruction executed by the guest: each causes a VM exit, except VMREAD and VMWRITE that VMCS shadowing lets through to the shadow VMCS. */
export function guestVmxInstruction(cpu: number): fc.Arbitrary<Operation> {
  const pointer = fc.constantFrom(BUILT_VMCS_POINTER, 0x3000n).map(hex);
  const encoding = fc.constantFrom(...PROBE_ENCODINGS).map(hex);
  return fc.oneof(
    fc.constant<Operation>({ kind: 'vmcall', cpu }),
    pointer.map((p): Operation => ({ kind: 'vmclear', cpu, pointer: p })),
    pointer.map((p): Operation => ({ kind: 'vmptrld', cpu, pointer: p })),
    fc.constant<Operation>({ kind: 'vmptrst', cpu }),
    encoding.map((e): Operation => ({ kind: 'vmread', cpu, encoding: e })),
    fc.tuple(encoding, fc.constantFrom(0n, 0x40_2000n)).map(([e, v]): Operation => ({ kind: 'vmwrite', cpu, encoding: e, value: hex(v) })),
    fc.constant<Operation>({ kind: 'vmlaunch', cpu }),
    fc.constant<Operation>({ kind: 'vmresume', cpu }),
    fc.constant<Operation>({ kind: 'vmxoff', cpu }),
    fc.constant<Operation>({ kind: 'vmxon', cpu, pointer: hex(0x1000n) }),
    fc.constantFrom(1, 2).map((t): Operation => ({ kind: 'invept', cpu, type: hex(t), descriptor: [hex(0x22_01en), hex(0)] })),
    fc.constantFrom(0, 1, 2, 3).map((t): Operation => ({ kind: 'invvpid', cpu, type: hex(t), descriptor: [hex(1), hex(0x1000n)] })),
    // VMFUNC: EPTP switching to list entry 0 (valid), 1 (zero: invalid), 511 and 512 (past the list); function 1 (never enabled); EAX 64.
    fc.tuple(fc.constantFrom(0, 0, 1, 64), fc.constantFrom(0, 1, 511, 512)).map(([eax, ecx]): Operation => ({ kind: 'vmfunc', cpu, eax: hex(eax), ecx: hex(ecx) })),
  );
}
