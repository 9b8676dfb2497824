/**
 * Differential test of VM entry, every phase: VMCSs that pass every check on the controls, the
 * host state and the guest state (test/impl/vm-entry-vmcs.ts), in one of five guest modes
 * (32-bit protected mode with PAE paging, 64-bit, compatibility mode, virtual-8086 mode, and
 * real-address mode under "unrestricted guest" where the profile allows it), with one or two fields
 * perturbed and sometimes a VM-entry MSR-load area, launched on our engine and judged by the
 * reference model through `runDifferential`; then the guest (or, after a VM-entry failure, the
 * host) reads the exit reason and executes VMCALL. Whenever the model's verdict is defined, our
 * engine's outcome must be one it allows. Fixed seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { runDifferential } from '../../properties/differential.ts';
import { ENTRY_CHECKS } from '../../spec/entry-checks/index.ts';
import { ENTRY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { FIELD } from '../../spec/fields.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { type FieldName, loadVmcsOperations, PAGES, validVmcs } from './vm-entry-vmcs.ts';

/** One change to the valid VMCS. */
type Perturbation = { field: FieldName; kind: 'flip' | 'set' | 'or'; value: bigint };

const MASK_64 = (1n << 64n) - 1n;

/** Values that sit on the edges the checks test: alignment, width, canonicity, small numbers. */
const interesting = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xffn }),
  fc.integer({ min: 0, max: 63 }).map((b) => 1n << BigInt(b)),
  fc.constantFrom(0n, 1n, 2n, 3n, 4n, 0xfn, 0x10n, 0x3fn, 0x80n, 0xfffn, 0x1000n, 0x7fff_ffff_ffffn, 0xffff_8000_0000_0000n, 0x8000_0000_0000n, 0xffff_ffffn, 0x1_0000_0000n, MASK_64),
  fc.bigInt({ min: 0n, max: MASK_64 }),
);

function perturbation(names: readonly FieldName[]): fc.Arbitrary<Perturbation> {
  return fc.record({
    field: fc.constantFrom(...names),
    kind: fc.constantFrom<'flip' | 'set' | 'or'>('flip', 'set', 'or'),
    value: interesting,
  });
}

function apply(base: Map<FieldName, bigint>, changes: readonly Perturbation[]): Map<FieldName, bigint> {
  const fields = new Map(base);
  for (const { field, kind, value } of changes) {
    const old = fields.get(field) ?? 0n;
    const bitValue = 1n << (value & 63n);
    fields.set(field, kind === 'set' ? value : kind === 'flip' ? old ^ bitValue : old | bitValue);
  }
  return fields;
}

/** One entry of the VM-entry MSR-load area. */
interface MsrEntry {
  index: number;
  reserved: number;
  data: bigint;
}

interface Scenario {
  changes: Perturbation[];
  legacyMode: boolean;
  vtpr: number;
  guestMode?: GuestMode;
  msrs?: MsrEntry[];
}

/** The guest's mode in the valid VMCS the perturbations start from. */
type GuestMode = 'pae32' | '64' | 'compat' | 'v8086' | 'real';

/** MSR indices on the edges of the MSR-load rules: refused ones, x2APIC edges, ordinary ones. */
const msrIndex = fc.constantFrom(0x10, 0x174, 0x277, 0x1d9, 0xc000_0080, 0xc000_0100, 0xc000_0101, 0xc000_0102, 0x7ff, 0x800, 0x8ff, 0x900, 0x9b, 0x3a, 0x480, 0x491, 0x48, 0x8b);
const msrEntry: fc.Arbitrary<MsrEntry> = fc.record({
  index: msrIndex,
  reserved: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xffff_ffff }) }),
  data: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: MASK_64 })),
});

/**
 * Scenarios weighted by check: pick a catalogue check of the control and host groups, then one of
 * the fields it reads (so a control field read by many checks is perturbed often, which also
 * turns on the controls that make other checks apply).
 */
function scenario(profile: Profile): fc.Arbitrary<Scenario> {
  const present = new Set(validVmcs(profile).keys());
  const fieldsOfChecks = ENTRY_CHECKS.filter((check) => check.group !== 'basic')
    .map((check) => check.fields.filter((name): name is FieldName => present.has(name as FieldName)))
    .filter((names) => names.length > 0);
  const change = fc.constantFrom(...fieldsOfChecks).chain((names) => perturbation(names));
  return fc.record({
    changes: fc.array(change, { minLength: 0, maxLength: 2 }),
    legacyMode: fc.boolean(),
    vtpr: fc.integer({ min: 0, max: 255 }),
    guestMode: fc.constantFrom<GuestMode>('pae32', '64', 'compat', 'v8086', 'real'),
    msrs: fc.oneof({ weight: 3, arbitrary: fc.constant<MsrEntry[]>([]) }, { weight: 1, arbitrary: fc.array(msrEntry, { minLength: 1, maxLength: 4 }) }),
  });
}

const hex = (value: bigint | number): string => `0x${value.toString(16)}`;
const IA32E = 1n << BigInt(ENTRY_CONTROL.IA32E_MODE_GUEST);

/** The valid VMCS in the scenario's guest mode (64-bit and compatibility mode need "IA-32e mode guest"). */
function guestBase(profile: Profile, s: Scenario): Map<FieldName, bigint> {
  const fields = validVmcs(profile);
  if (s.guestMode === '64' || s.guestMode === 'compat') {
    fields.set('VM_ENTRY_CONTROLS', (fields.get('VM_ENTRY_CONTROLS') ?? 0n) | IA32E);
    fields.set('GUEST_IA32_EFER', 0x500n);
    if (s.guestMode === '64') fields.set('GUEST_CS_ACCESS_RIGHTS', 0xa09bn);
  }
  if (s.guestMode === 'v8086') {
    // Virtual-8086 mode (§27.3.1.2): base = selector << 4, limit FFFFH, access rights F3H.
    fields.set('GUEST_RFLAGS', 0x2_0002n);
    (['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const).forEach((reg, i) => {
      fields.set(`GUEST_${reg}_SELECTOR`, BigInt(0x100 + i));
      fields.set(`GUEST_${reg}_BASE`, BigInt(0x100 + i) << 4n);
      fields.set(`GUEST_${reg}_LIMIT`, 0xffffn);
      fields.set(`GUEST_${reg}_ACCESS_RIGHTS`, 0xf3n);
    });
  }
  if (s.guestMode === 'real' && profile.supportsControl('secondary', SECONDARY_CONTROL.UNRESTRICTED_GUEST)) {
    // Real-address mode under "unrestricted guest" (needs "enable EPT"): CR0.PE = CR0.PG = 0.
    fields.set('SECONDARY_PROCESSOR_BASED_CONTROLS', (1n << BigInt(SECONDARY_CONTROL.ENABLE_EPT)) | (1n << BigInt(SECONDARY_CONTROL.UNRESTRICTED_GUEST)));
    fields.set('GUEST_CR0', 0x30n);
    fields.set('GUEST_CR4', (0x2000n | profile.cr4Fixed0) & profile.cr4Fixed1);
  }
  const msrs = s.msrs ?? [];
  if (msrs.length > 0) fields.set('VM_ENTRY_MSR_LOAD_COUNT', BigInt(msrs.length));
  return fields;
}

function operations(profile: Profile, s: Scenario): Operation[] {
  const ops = loadVmcsOperations(profile, apply(guestBase(profile, s), s.changes), BigInt(s.vtpr));
  (s.msrs ?? []).forEach((entry, i) => {
    const at = PAGES.msrAreas + BigInt(16 * i);
    const words = [BigInt(entry.index), BigInt(entry.reserved), entry.data & 0xffff_ffffn, entry.data >> 32n];
    words.forEach((word, k) => ops.push({ kind: 'write-memory', cpu: 0, address: hex(at + BigInt(4 * k)), value: hex(word) }));
  });
  if (s.legacyMode) {
    ops.push({ kind: 'set', cpu: 0, what: 'efer.lma', value: 0 }, { kind: 'set', cpu: 0, what: 'cs.l', value: 0 });
  }
  ops.push({ kind: 'vmlaunch', cpu: 0 });
  // The guest's (or after a VM-entry failure the host's) next instructions.
  ops.push({ kind: 'vmread', cpu: 0, encoding: hex(FIELD.EXIT_REASON) }, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.EXIT_QUALIFICATION) });
  ops.push({ kind: 'vmcall', cpu: 0 });
  return ops;
}

const RUNS = 1500;

describe.each(['core2', 'skylake', 'maximal'])('VM entry against the model (%s)', (name) => {
  const profile = loadProfile(name);

  it.each<GuestMode>(['pae32', '64', 'compat', 'v8086', 'real'])('the valid VMCS (%s guest) enters the guest in both', (guestMode) => {
    const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
    const outcome = runDifferential(engine, profile, 1, operations(profile, { changes: [], legacyMode: false, vtpr: 0, guestMode }));
    expect(outcome.kind).toBe('conformant');
    const launch = outcome.steps.find((step) => step.operation.kind === 'vmlaunch');
    expect(launch?.observation?.kind).toBe('vmentry');
    expect(launch?.verdict.kind).toBe('defined');
  });

  it('every perturbation the model judges is judged the same by our engine', () => {
    const judged = new Map<string, number>();
    fc.assert(
      fc.property(scenario(profile), (s) => {
        const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
        const outcome = runDifferential(engine, profile, 1, operations(profile, s));
        if (outcome.kind === 'divergent') {
          const d = outcome.divergence;
          throw new Error(`${d.kind} at ${d.operation.kind}: engine ${JSON.stringify(d.observation)}, model allows ${d.allowed.map((b) => JSON.stringify(b.expected)).join(' | ')}`);
        }
        const launch = outcome.steps.find((step) => step.operation.kind === 'vmlaunch');
        if (launch !== undefined && launch.verdict.kind === 'defined') {
          const seen = launch.observation;
          const key =
            seen?.kind === 'vmfail-valid'
              ? `error ${seen.error}`
              : seen?.kind === 'vmentry-failure'
                ? `exit ${(seen.exitReason & 0xffff).toString()}`
                : String(seen?.kind);
          judged.set(key, (judged.get(key) ?? 0) + 1);
        }
      }),
      { seed: 20261201, numRuns: RUNS },
    );
    // Every phase is reached and judged: the guest runs, guest-state failures, MSR-loading failures.
    const summary = JSON.stringify(Object.fromEntries(judged));
    expect(judged.get('vmentry') ?? 0, summary).toBeGreaterThan(0);
    expect(judged.get('exit 33') ?? 0, summary).toBeGreaterThan(0);
    expect(judged.get('exit 34') ?? 0, summary).toBeGreaterThan(0);
  });
});
