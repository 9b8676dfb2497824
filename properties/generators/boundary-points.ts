/**
 * The boundary decision points the generators aim at: a rule of the model reached with an operand
 * at a limit it compares with (boundaries.ts), for example VMPTRLD's alignment check with a pointer
 * misaligned in bit 11 only, or VMCLEAR's CPL check at CPL 2. A rule id alone does not say that
 * (every misaligned pointer reaches `vmptrld.pointer-not-aligned`), so each point names the rules
 * that show the check was reached and a test of the operation (and, where it matters, of the
 * processor state before the step). The run report lists which points a run reached.
 */
import type { CpuState, ModelState } from '../../model/index.ts';
import { fieldByEncoding } from '../../spec/fields.ts';
import { parseHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import type { StepRecord } from '../differential.ts';
import { ALIGNMENT_BITS, EPTP_MEMORY_TYPES, EPTP_WALK_LENGTHS, PAST_HIGHEST_INDEX } from './boundaries.ts';

/** One boundary decision point. */
export interface BoundaryPoint {
  /** `<rule or instruction>@<boundary>`, e.g. `vmptrld.pointer-not-aligned@bit-11`. */
  id: string;
  /** Rules that show the check was reached with the boundary value (any one suffices). */
  rules: readonly string[];
  /** Whether the step's operation carries the boundary value. */
  operation(op: Operation): boolean;
  /** Whether the state of the processor before the step is the one the point needs. */
  state?(cpu: CpuState): boolean;
}

const BIT = (n: number): bigint => 1n << BigInt(n);
const LOW32 = 0xffff_ffffn;
const in64 = (cpu: CpuState): boolean => cpu.eferLma === 1 && cpu.csL === 1;

/** A field of an operation, as a number (0 for a missing or non-hex field). */
function num(op: Operation, key: 'pointer' | 'encoding' | 'value' | 'type'): bigint {
  const text = (op as unknown as Record<string, unknown>)[key];
  return typeof text === 'string' ? parseHex(text) : 0n;
}
function descriptor(op: Operation, half: 0 | 1): bigint {
  return op.kind === 'invept' || op.kind === 'invvpid' ? parseHex(op.descriptor[half]) : 0n;
}

/** What each pointer instruction decides after its address checks (so the address passed them). */
const PAST_ADDRESS_CHECKS: Record<'vmxon' | 'vmclear' | 'vmptrld', readonly string[]> = {
  vmxon: ['region-of-another-processor', 'region-is-active-vmcs', 'revision-mismatch', 'shadow-indicator-set', 'success'],
  vmclear: ['vmxon-pointer', 'active-on-another-processor', 'vmxon-region-of-another-processor', 'success'],
  vmptrld: ['vmxon-pointer', 'active-on-another-processor', 'vmxon-region-of-another-processor', 'revision-mismatch', 'shadow-vmcs-unsupported', 'success'],
};

function pointerPoints(profile: Profile): BoundaryPoint[] {
  const width = profile.pointerWidth;
  return (['vmxon', 'vmclear', 'vmptrld'] as const).flatMap((kind): BoundaryPoint[] => [
    ...ALIGNMENT_BITS.map((b) => ({
      id: `${kind}.pointer-not-aligned@bit-${b}`,
      rules: [`${kind}.pointer-not-aligned`],
      operation: (op: Operation) => (num(op, 'pointer') & 0xfffn) === BIT(b),
    })),
    {
      id: `${kind}.pointer-beyond-address-width@bit-at-width`,
      rules: [`${kind}.pointer-beyond-address-width`],
      operation: (op) => num(op, 'pointer') >> BigInt(width) === 1n,
    },
    {
      id: `${kind}.pointer-within-address-width@bit-below-width`,
      rules: PAST_ADDRESS_CHECKS[kind].map((r) => `${kind}.${r}`),
      operation: (op) => num(op, 'pointer') >> BigInt(width - 1) === 1n,
    },
  ]);
}

/** Every CPL check: VMX instructions, MOV to CR0/CR4 and WRMSR. */
const CPL_RULES = [
  'vmxon.gp-cpl',
  'vmxon.gp-cpl-in-vmx-root',
  'vmxoff.gp-cpl',
  'vmclear.gp-cpl',
  'vmptrld.gp-cpl',
  'vmptrst.gp-cpl',
  'vmread.gp-cpl',
  'vmwrite.gp-cpl',
  'vmentry.gp-cpl',
  'invept.gp-cpl',
  'invvpid.gp-cpl',
  'vmcall.gp-cpl',
  'mov-cr0.gp-cpl',
  'mov-cr4.gp-cpl',
  'write-feature-control.gp-cpl',
] as const;

function cplPoints(): BoundaryPoint[] {
  return CPL_RULES.flatMap((rule) =>
    [1, 2, 3].map((cpl) => ({ id: `${rule}@cpl-${cpl}`, rules: [rule], operation: () => true, state: (cpu: CpuState) => cpu.cpl === cpl })),
  );
}

/** The field a full (even) encoding names, if any. */
const widthOf = (encoding: bigint): number | 'natural' | undefined =>
  (encoding & 1n) === 0n && encoding <= LOW32 ? fieldByEncoding(Number(encoding))?.width : undefined;

function encodingPoints(): BoundaryPoint[] {
  const points = (['vmread', 'vmwrite'] as const).flatMap((kind): BoundaryPoint[] => {
    const accepted = kind === 'vmread' ? ['vmread.success'] : ['vmwrite.success', 'vmwrite.read-only-field'];
    const unsupported = [`${kind}.unsupported-field`];
    const low = (op: Operation): bigint => num(op, 'encoding') & LOW32;
    return [
      { id: `${kind}.unsupported-field@bit-12`, rules: unsupported, operation: (op) => (low(op) & 0xffff_9000n) === 0x1000n },
      { id: `${kind}.unsupported-field@bit-15`, rules: unsupported, operation: (op) => (low(op) & 0xffff_8000n) === 0x8000n },
      { id: `${kind}.unsupported-field@bit-31`, rules: unsupported, operation: (op) => (low(op) & 0xffff_8000n) === 0x8000_0000n },
      { id: `${kind}.encoding-above-bit-31@bit-32`, rules: [`${kind}.encoding-above-bit-31`], operation: (op) => num(op, 'encoding') >> 32n === 1n },
      { id: `${kind}.encoding-above-bit-31@bit-63`, rules: [`${kind}.encoding-above-bit-31`], operation: (op) => num(op, 'encoding') >> 32n === 0x8000_0000n },
      { id: `${kind}.accepted@bits-63:32-ignored-outside-64-bit-mode`, rules: accepted, operation: (op) => num(op, 'encoding') >> 32n !== 0n },
      {
        id: `${kind}.unsupported-field@high-access-of-a-narrow-field`,
        rules: unsupported,
        operation: (op) => (low(op) & 1n) === 1n && ![undefined, 64].includes(widthOf(low(op) - 1n) as number),
      },
      { id: `${kind}.accepted@high-access-of-a-64-bit-field`, rules: accepted, operation: (op) => (low(op) & 1n) === 1n },
      { id: `${kind}.unsupported-field@index-past-highest`, rules: unsupported, operation: (op) => PAST_HIGHEST_INDEX.includes(Number(low(op))) },
    ];
  });
  const written = (op: Operation): bigint => num(op, 'value');
  return [
    ...points,
    { id: 'vmwrite.success@value-past-a-16-bit-field', rules: ['vmwrite.success'], operation: (op) => widthOf(num(op, 'encoding')) === 16 && written(op) >> 16n !== 0n },
    {
      id: 'vmwrite.success@value-past-a-32-bit-field',
      rules: ['vmwrite.success'],
      operation: (op) => widthOf(num(op, 'encoding')) === 32 && written(op) >> 32n !== 0n,
      state: in64,
    },
    {
      id: 'vmwrite.success@value-bit-63-of-a-64-bit-field',
      rules: ['vmwrite.success'],
      operation: (op) => [64, 'natural'].includes(widthOf(num(op, 'encoding')) as number) && written(op) >> 63n === 1n,
      state: in64,
    },
    {
      id: 'vmwrite.success@value-bits-63:32-ignored-outside-64-bit-mode',
      rules: ['vmwrite.success'],
      operation: (op) => written(op) >> 32n !== 0n,
      state: (cpu) => !in64(cpu),
    },
  ];
}

const INVEPT_PAST_TYPE = ['single-context', 'all-context', 'eptp-memory-type', 'eptp-page-walk-length', 'eptp-accessed-dirty', 'eptp-supervisor-shadow-stack', 'eptp-reserved-bits', 'eptp-beyond-address-width'].map((r) => `invept.${r}`);
const INVVPID_PAST_TYPE = [
  'descriptor-reserved-bits',
  'individual-address-vpid-zero',
  'individual-address-non-canonical',
  'individual-address-linear-width',
  'individual-address',
  'single-context-vpid-zero',
  'single-context',
  'all-context',
  'single-context-retaining-globals-vpid-zero',
  'single-context-retaining-globals',
].map((r) => `invvpid.${r}`);

function typePoints(): BoundaryPoint[] {
  const type = (op: Operation): bigint => num(op, 'type');
  const highWithLow = (op: Operation, lows: readonly bigint[]): boolean => type(op) >> 32n !== 0n && lows.includes(type(op) & LOW32);
  return [
    ...[0n, 3n, 4n].map((t) => ({ id: `invept.type-unsupported@type-${t}`, rules: ['invept.type-unsupported'], operation: (op: Operation) => type(op) === t })),
    { id: 'invept.type-unsupported@bits-63:32-set-in-64-bit-mode', rules: ['invept.type-unsupported'], operation: (op) => highWithLow(op, [1n, 2n]), state: in64 },
    { id: 'invept.type@bits-63:32-ignored-outside-64-bit-mode', rules: INVEPT_PAST_TYPE, operation: (op) => highWithLow(op, [1n, 2n]) },
    { id: 'invvpid.type-unsupported@type-4', rules: ['invvpid.type-unsupported'], operation: (op) => type(op) === 4n },
    { id: 'invvpid.type-unsupported@bits-63:32-set-in-64-bit-mode', rules: ['invvpid.type-unsupported'], operation: (op) => highWithLow(op, [0n, 1n, 2n, 3n]), state: in64 },
    { id: 'invvpid.type@bits-63:32-ignored-outside-64-bit-mode', rules: INVVPID_PAST_TYPE, operation: (op) => highWithLow(op, [0n, 1n, 2n, 3n]) },
  ];
}

function descriptorPoints(profile: Profile): BoundaryPoint[] {
  const vpidLow = (op: Operation): bigint => descriptor(op, 0);
  const typeZeroAt = (value: bigint) => (op: Operation) => (num(op, 'type') & LOW32) === 0n && descriptor(op, 1) === value;
  const eptp = (op: Operation): bigint => descriptor(op, 0);
  const width = profile.data.physicalAddressWidth;
  const fromCheck = (first: string): string[] => INVEPT_PAST_TYPE.slice(INVEPT_PAST_TYPE.indexOf(`invept.${first}`)).concat('invept.single-context');
  return [
    { id: 'invvpid.descriptor-reserved-bits@bit-16', rules: ['invvpid.descriptor-reserved-bits'], operation: (op) => vpidLow(op) >> 16n === 1n },
    { id: 'invvpid.descriptor-reserved-bits@bit-63', rules: ['invvpid.descriptor-reserved-bits'], operation: (op) => vpidLow(op) >> 16n === 1n << 47n },
    { id: 'invvpid.vpid@ffff-accepted', rules: INVVPID_PAST_TYPE.slice(1), operation: (op) => vpidLow(op) === 0xffffn },
    { id: 'invvpid.individual-address@last-canonical-48-bit', rules: ['invvpid.individual-address'], operation: typeZeroAt(0x0000_7fff_ffff_ffffn) },
    { id: 'invvpid.individual-address@first-high-canonical-48-bit', rules: ['invvpid.individual-address'], operation: typeZeroAt(0xffff_8000_0000_0000n) },
    { id: 'invvpid.individual-address-linear-width@bit-47', rules: ['invvpid.individual-address-linear-width'], operation: typeZeroAt(0x0000_8000_0000_0000n) },
    { id: 'invvpid.individual-address-non-canonical@bit-56', rules: ['invvpid.individual-address-non-canonical'], operation: typeZeroAt(0x0100_0000_0000_0000n) },
    ...EPTP_MEMORY_TYPES.map((t) => ({
      id: `invept.eptp@memory-type-${t}`,
      rules: fromCheck('eptp-memory-type'),
      operation: (op: Operation) => (eptp(op) & 7n) === BigInt(t),
    })),
    ...EPTP_WALK_LENGTHS.map((w) => ({
      id: `invept.eptp@page-walk-length-${w}`,
      rules: fromCheck('eptp-page-walk-length'),
      operation: (op: Operation) => ((eptp(op) >> 3n) & 7n) === BigInt(w - 1),
    })),
    { id: 'invept.eptp@accessed-dirty-bit-6', rules: fromCheck('eptp-accessed-dirty'), operation: (op) => (eptp(op) & BIT(6)) !== 0n },
    { id: 'invept.eptp@shadow-stack-bit-7', rules: fromCheck('eptp-supervisor-shadow-stack'), operation: (op) => (eptp(op) & BIT(7)) !== 0n },
    ...[8, 11].map((b) => ({
      id: `invept.eptp-reserved-bits@bit-${b}`,
      rules: ['invept.eptp-reserved-bits'],
      operation: (op: Operation) => (eptp(op) & 0xf00n) === BIT(b),
    })),
    { id: 'invept.eptp-beyond-address-width@bit-at-width', rules: ['invept.eptp-beyond-address-width'], operation: (op) => eptp(op) >> BigInt(width) === 1n },
    { id: 'invept.single-context@address-bit-below-width', rules: ['invept.single-context'], operation: (op) => eptp(op) >> BigInt(width - 1) === 1n },
  ];
}

/** Every boundary decision point for `profile`. */
export function boundaryPoints(profile: Profile): BoundaryPoint[] {
  return [
    ...pointerPoints(profile),
    ...cplPoints(),
    ...encodingPoints(),
    ...typePoints(),
    ...descriptorPoints(profile),
    { id: 'vmentry.shadow-vmcs@vmlaunch', rules: ['vmentry.shadow-vmcs'], operation: (op) => op.kind === 'vmlaunch' },
    { id: 'vmentry.shadow-vmcs@vmresume', rules: ['vmentry.shadow-vmcs'], operation: (op) => op.kind === 'vmresume' },
  ];
}

/** Boundary points by the rules that can reach them, for {@link pointsReached}. */
export type PointIndex = ReadonlyMap<string, readonly BoundaryPoint[]>;

/** Indexes `points` by rule id. */
export function indexPoints(points: readonly BoundaryPoint[]): PointIndex {
  const index = new Map<string, BoundaryPoint[]>();
  for (const point of points) for (const rule of point.rules) index.set(rule, [...(index.get(rule) ?? []), point]);
  return index;
}

/**
 * The ids of the points the compared steps of one case reached. `initial` is the state the case
 * started from; the state before any later step is what the previous step's branch led to.
 */
export function pointsReached(index: PointIndex, steps: readonly StepRecord[], initial: ModelState): string[] {
  const reached: string[] = [];
  for (const [i, step] of steps.entries()) {
    const rule = step.matched?.rule.id ?? (step.verdict.kind === 'defined' ? undefined : step.verdict.rule.id);
    const candidates = rule === undefined ? undefined : index.get(rule);
    if (candidates === undefined) continue;
    let before: CpuState | undefined;
    for (const point of candidates) {
      if (!point.operation(step.operation)) continue;
      if (point.state !== undefined) {
        before ??= stateBefore(steps, i, initial).cpus[step.operation.cpu] as CpuState;
        if (!point.state(before)) continue;
      }
      reached.push(point.id);
    }
  }
  return reached;
}

function stateBefore(steps: readonly StepRecord[], i: number, initial: ModelState): ModelState {
  const previous = steps[i - 1];
  if (previous?.matched === undefined || previous.observation === undefined) return initial;
  return previous.matched.next(previous.observation);
}
