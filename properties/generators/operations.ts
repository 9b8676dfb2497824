/**
 * Random operation sequences that reach deep VMX states: mostly well-formed VMXON / VMCLEAR /
 * VMPTRLD / VMWRITE / VMREAD flows over a small pool of regions, with targeted faults mixed in
 * (bad pointers and revision identifiers, VMXON pointer reused as a VMCS, unsupported, high-half
 * and read-only encodings, CPL 3, compatibility and virtual-8086 mode, CR4.VMXE clear, feature
 * control, MOV-SS blocking, the second logical processor).
 *
 * A sequence is an optional mode change, an optional canonical set-up (any ordered subset of
 * "lay out regions, VMXON, VMCLEAR, VMPTRLD", which shrinking can thin out step by step, sometimes
 * preceded by a VMXON that fails at a boundary of its checks), then random steps. About three
 * random steps in ten are boundary steps (boundary-steps.ts): an operand at a limit a rule
 * compares with, or a short group that puts an instruction at CPL 1-3, outside 64-bit mode, or
 * in front of a shadow VMCS.
 */
import fc from 'fast-check';
import { toHex, type Hex } from '../../spec/hex.ts';
import { initialProcessorState } from '../../spec/initial-state.ts';
import type { Operation, SettableState } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { boundarySteps, failingVmxonAttempt } from './boundary-steps.ts';
import { VM_ENTRY_STEP_WEIGHT, vmEntrySteps } from './vm-entry-steps.ts';
import { VM_EXIT_STEP_WEIGHT, vmExitSteps } from './vm-exit-steps.ts';
import { EVENT_STEP_WEIGHT, eventSteps } from './event-steps.ts';
import { leavesIa32eMode } from './ia32e-mode.ts';
import {
  eptp,
  fieldEncoding,
  linearAddress,
  pointer,
  REGION_POOL,
  revisionDword,
  value64,
  VMCS_REGIONS,
  vmcsRegion,
  VMXON_REGIONS,
  vmxonRegion,
  vpidDescriptor,
} from './values.ts';

/** Shape of generated sequences. */
export interface SequenceOptions {
  /** Logical processors the case runs with (operations use cpu 0 .. n-1). */
  logicalProcessors: number;
  /** Most random steps after the set-up (a step may be a short group of operations). */
  maxSteps: number;
  /**
   * Which steps are drawn: `all` (the default), or `no-guests`, which leaves out the guest
   * operations with their VM exits and events (vm-exit-steps.ts, event-steps.ts), for an engine
   * that cannot run a guest (the Bochs agent), and every step that leaves IA-32e mode or enters
   * virtual-8086 mode (ia32e-mode.ts: such a step or group is drawn again, as is a case that
   * clears CR0.PG in compatibility mode). The VM-entry groups (vm-entry-steps.ts) stay: most of
   * their entries fail a check, which such an engine does execute; an entry that gets past the
   * checks is then outside the mix (properties/batched-suite.ts counts it as unsupported).
   */
  mix?: SequenceMix;
}

/** The step mixes of {@link SequenceOptions.mix}. */
export const SEQUENCE_MIXES = ['all', 'no-guests'] as const;
/** A step mix. */
export type SequenceMix = (typeof SEQUENCE_MIXES)[number];

const CR4_VMXE = 1n << 13n;
const CR0_PE = 1n;
const CR0_NE = 1n << 5n;
const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;

/**
 * The canonical set-up: on cpu 0 its VMXON region, then a VMCS cleared and loaded; on cpu 1 (when
 * there is one) its own VMXON region, so both processors start in VMX root operation.
 */
function canonicalSetup(profile: Profile, logicalProcessors: number, vmcs: bigint): Operation[] {
  const rev = toHex(BigInt(profile.revisionId));
  const [vmxon0, vmxon1] = VMXON_REGIONS as [bigint, bigint];
  const ops: Operation[] = [
    { kind: 'write-memory', cpu: 0, address: toHex(vmxon0), value: rev },
    { kind: 'write-memory', cpu: 0, address: toHex(vmcs), value: rev },
    { kind: 'vmxon', cpu: 0, pointer: toHex(vmxon0) },
    { kind: 'vmclear', cpu: 0, pointer: toHex(vmcs) },
    { kind: 'vmptrld', cpu: 0, pointer: toHex(vmcs) },
  ];
  if (logicalProcessors > 1) {
    ops.push(
      { kind: 'write-memory', cpu: 1, address: toHex(vmxon1), value: rev },
      { kind: 'vmxon', cpu: 1, pointer: toHex(vmxon1) },
    );
  }
  return ops;
}

/**
 * Sometimes a state change before the set-up, so that its VMXON (or, for MOV-SS blocking, a
 * later VMLAUNCH or VMRESUME) meets a check that random steps reach only rarely: CR0.NE clear
 * (IA32_VMX_CR0_FIXED0 requires it), events blocked by MOV SS, real-address mode (where every
 * VMX instruction is #UD).
 */
function prologueArbitrary(): fc.Arbitrary<Operation[]> {
  const cr0WithoutNe = toHex(initialProcessorState.cr0 & ~CR0_NE);
  return fc.oneof(
    { arbitrary: fc.constant<Operation[]>([]), weight: 16 },
    fc.constant<Operation[]>([{ kind: 'mov-cr0', cpu: 0, value: cr0WithoutNe }]),
    fc.constant<Operation[]>([{ kind: 'set', cpu: 0, what: 'mov-ss-blocking', value: 1 }]),
    // Back to real-address mode (Vol. 3A §10.9.2): leave IA-32e mode, turn paging off, clear PE.
    fc.constant<Operation[]>([
      { kind: 'set', cpu: 0, what: 'efer.lma', value: 0 },
      { kind: 'set', cpu: 0, what: 'cs.l', value: 0 },
      { kind: 'mov-cr0', cpu: 0, value: toHex(initialProcessorState.cr0 & ~CR0_PG) },
      { kind: 'mov-cr0', cpu: 0, value: toHex(initialProcessorState.cr0 & ~(CR0_PG | CR0_PE)) },
    ]),
  );
}

function setupArbitrary(profile: Profile, logicalProcessors: number): fc.Arbitrary<Operation[]> {
  // Each set-up step is present with probability 7/8; shrinking drops steps one by one.
  const steps = fc
    .constantFrom(...VMCS_REGIONS)
    .chain((vmcs) => fc.tuple(...canonicalSetup(profile, logicalProcessors, vmcs).map((op) => fc.option(fc.constant(op), { freq: 8, nil: undefined }))))
    .map((ops) => ops.filter((op): op is Operation => op !== undefined));
  // One set-up in three first tries a VMXON that fails at a boundary of its checks.
  const attempt = fc.option(failingVmxonAttempt(profile, 0), { freq: 2, nil: undefined });
  const withAttempt = fc.tuple(steps, attempt).map(([ops, tried]) => {
    if (tried === undefined) return ops;
    const at = Math.max(0, ops.findIndex((op) => op.kind === 'vmxon'));
    return [...ops.slice(0, at), ...tried, ...ops.slice(at)];
  });
  const setup = fc.oneof({ arbitrary: withAttempt, weight: 5 }, { arbitrary: fc.constant<Operation[]>([]), weight: 1 });
  return fc.tuple(prologueArbitrary(), setup).map(([prologue, ops]) => [...prologue, ...ops]);
}

function cpuArbitrary(count: number): fc.Arbitrary<number> {
  if (count <= 1) return fc.constant(0);
  return fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: count - 1 }), weight: 1 });
}

const form = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 12 },
  { arbitrary: fc.constant('register' as const), weight: 1 },
);

function withForm<T extends Operation>(op: T, f: 'memory' | 'register' | undefined): T {
  return f === undefined ? op : { ...op, form: f };
}

/**
 * CR0 bits whose change the MOV checks decide on their own (cache and write-protect controls,
 * NE, which VMX fixes to 1) or that make the value invalid (PE cleared with PG set, PG cleared
 * in 64-bit mode, NW set with CD clear); a change of other bits (paging mode, reserved bits)
 * is not modelled and ends the comparison.
 */
const CR0_DECIDED_BITS = [0, 1, 2, 3, 5, 16, 18, 29, 30, 31] as const;

/** A MOV to CR0 source: the initial value, one decided bit flipped, or (rarely) anything. */
function cr0Value(): fc.Arbitrary<Hex> {
  const initial = initialProcessorState.cr0;
  return fc
    .oneof(
      { arbitrary: fc.constant(initial), weight: 2 },
      { arbitrary: fc.constantFrom(...CR0_DECIDED_BITS).map((bit) => initial ^ (1n << BigInt(bit))), weight: 6 },
      { arbitrary: fc.bigInt({ min: 0n, max: 0xffff_ffffn }), weight: 1 },
    )
    .map(toHex);
}

/**
 * A MOV to CR4 source: the initial value, VMXE or PAE cleared (each decided by a check), or
 * (rarely) another bit flipped, whose effects are not modelled.
 */
function cr4Value(): fc.Arbitrary<Hex> {
  const initial = initialProcessorState.cr4;
  return fc
    .oneof(
      { arbitrary: fc.constant(initial), weight: 2 },
      { arbitrary: fc.constant(initial & ~CR4_VMXE), weight: 3 },
      { arbitrary: fc.constant(initial & ~CR4_PAE), weight: 2 },
      { arbitrary: fc.integer({ min: 0, max: 31 }).map((bit) => initial ^ (1n << BigInt(bit))), weight: 1 },
    )
    .map(toHex);
}

const SETTABLE: readonly SettableState[] = ['efer.lma', 'cs.l', 'cpl', 'rflags.vm', 'mov-ss-blocking'];

/**
 * Sets one piece of mode state. Moves away from the initial state (64-bit mode, CPL 0, no
 * MOV-SS blocking) and back are equally likely, so sequences spend most steps where VMX
 * instructions do not simply #UD.
 */
function setState(cpu: number): fc.Arbitrary<Operation> {
  const initial: Record<SettableState, number> = { 'efer.lma': 1, 'cs.l': 1, cpl: 0, 'rflags.vm': 0, 'mov-ss-blocking': 0, 'efer.lme': 1, cr3: 0 };
  return fc.constantFrom(...SETTABLE).chain((what) => {
    const away = what === 'cpl' ? fc.constantFrom(3, 1, 2) : fc.constant(1 - initial[what]);
    return fc
      .oneof(fc.constant(initial[what]), away)
      .map((value): Operation => ({ kind: 'set', cpu, what, value }));
  });
}

/**
 * One random step of a sequence: one operation, or a short group of them (boundary-steps.ts).
 * The arbitraries for each processor are built once here, not per generated step (building them
 * filters the field table, which would dominate generation).
 */
export function stepArbitrary(profile: Profile, logicalProcessors: number, mix: SequenceMix = 'all'): fc.Arbitrary<Operation[]> {
  const encodings = fieldEncoding(profile);
  const guests = (cpu: number) =>
    mix === 'no-guests'
      ? []
      : [
          { arbitrary: vmExitSteps(profile, cpu), weight: VM_EXIT_STEP_WEIGHT },
          { arbitrary: eventSteps(profile, cpu), weight: EVENT_STEP_WEIGHT },
        ];
  const perCpu = Array.from({ length: logicalProcessors }, (_, cpu) => {
    const step = fc.oneof(
      { arbitrary: stepOn(profile, cpu, encodings).map((op) => [op]), weight: 140 },
      ...boundarySteps(profile, cpu, encodings),
      { arbitrary: vmEntrySteps(profile, cpu), weight: VM_ENTRY_STEP_WEIGHT },
      ...guests(cpu),
    );
    return mix === 'no-guests' ? step.filter((ops) => !leavesIa32eMode(ops)) : step;
  });
  return cpuArbitrary(logicalProcessors).chain((cpu) => perCpu[cpu] as fc.Arbitrary<Operation[]>);
}

/** Random steps on processor `cpu`. */
function stepOn(profile: Profile, cpu: number, encodings: fc.Arbitrary<Hex>): fc.Arbitrary<Operation> {
  const ptr = pointer(profile);
  const vmxonPtr = pointer(profile, vmxonRegion(cpu));
  // Region layouts go mostly to VMCS regions: a store into a VMXON region in use is undefined.
  const regionWrite = fc
    .tuple(vmcsRegion(12), revisionDword(profile))
    .map(([a, value]): Operation => ({ kind: 'write-memory', cpu, address: toHex(a), value }));
  const dataWrite = fc
    .tuple(fc.constantFrom(...VMCS_REGIONS), fc.integer({ min: 1, max: 1023 }), fc.bigInt({ min: 0n, max: 0xffff_ffffn }))
    .map(([a, word, v]): Operation => ({ kind: 'write-memory', cpu, address: toHex(a + BigInt(word * 4)), value: toHex(v) }));
  const inveptDescriptor = fc.tuple(fc.oneof({ arbitrary: eptp(profile).map(toHex), weight: 3 }, value64()), value64());
  const invvpidDescriptor = fc.tuple(
    fc.oneof({ arbitrary: vpidDescriptor().map(toHex), weight: 3 }, value64()),
    fc.oneof({ arbitrary: linearAddress().map(toHex), weight: 3 }, value64()),
  );
  const invType = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 4 }).map((t) => toHex(BigInt(t))), weight: 3 }, value64());
  return fc.oneof(
    { arbitrary: regionWrite, weight: 4 },
    { arbitrary: dataWrite, weight: 1 },
    { arbitrary: fc.tuple(vmxonPtr, form).map(([p, f]) => withForm({ kind: 'vmxon', cpu, pointer: p }, f)), weight: 6 },
    { arbitrary: fc.tuple(ptr, form).map(([p, f]) => withForm({ kind: 'vmclear', cpu, pointer: p }, f)), weight: 7 },
    { arbitrary: fc.tuple(ptr, form).map(([p, f]) => withForm({ kind: 'vmptrld', cpu, pointer: p }, f)), weight: 9 },
    { arbitrary: form.map((f) => withForm({ kind: 'vmptrst', cpu }, f)), weight: 2 },
    {
      arbitrary: fc.tuple(encodings, value64()).map(([encoding, value]): Operation => ({ kind: 'vmwrite', cpu, encoding, value })),
      weight: 14,
    },
    { arbitrary: encodings.map((encoding): Operation => ({ kind: 'vmread', cpu, encoding })), weight: 14 },
    { arbitrary: fc.constant<Operation>({ kind: 'vmlaunch', cpu }), weight: 1 },
    { arbitrary: fc.constant<Operation>({ kind: 'vmresume', cpu }), weight: 1 },
    { arbitrary: fc.tuple(invType, inveptDescriptor).map(([type, d]): Operation => ({ kind: 'invept', cpu, type, descriptor: d })), weight: 2 },
    { arbitrary: fc.tuple(invType, invvpidDescriptor).map(([type, d]): Operation => ({ kind: 'invvpid', cpu, type, descriptor: d })), weight: 2 },
    { arbitrary: fc.constant<Operation>({ kind: 'vmcall', cpu }), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 600 }))
        .map(([eax, ecx]): Operation => ({ kind: 'vmfunc', cpu, eax: toHex(BigInt(eax)), ecx: toHex(BigInt(ecx)) })),
      weight: 1,
    },
    { arbitrary: fc.constant<Operation>({ kind: 'vmxoff', cpu }), weight: 1 },
    { arbitrary: setState(cpu), weight: 2 },
    { arbitrary: cr0Value().map((value): Operation => ({ kind: 'mov-cr0', cpu, value })), weight: 1 },
    { arbitrary: cr4Value().map((value): Operation => ({ kind: 'mov-cr4', cpu, value })), weight: 1 },
    {
      arbitrary: fc.constantFrom(0n, 1n, 4n, 5n, 7n).map((v): Operation => ({ kind: 'write-feature-control', cpu, value: toHex(v) })),
      weight: 1,
    },
  );
}

/**
 * Random operation sequences for a profile: optional canonical set-up, then random steps (a step
 * of a boundary group counts as one: a sequence may hold a few more operations than `maxSteps`).
 */
export function operationSequence(profile: Profile, options: SequenceOptions): fc.Arbitrary<Operation[]> {
  const noGuests = options.mix === 'no-guests';
  const setup = setupArbitrary(profile, options.logicalProcessors);
  return fc
    .tuple(noGuests ? setup.filter((ops) => !leavesIa32eMode(ops)) : setup, fc.array(stepArbitrary(profile, options.logicalProcessors, options.mix), { maxLength: options.maxSteps, size: 'max' }))
    .map(([setupOps, body]) => [...setupOps, ...body.flat()])
    .filter((ops) => ops.length > 0 && !(noGuests && leavesIa32eMode(ops)));
}

/** The region pool, re-exported for properties that lay out regions themselves. */
export { REGION_POOL };
