/**
 * Differential test of phase one of VM entry: VMCSs that pass every check on the controls and
 * the host state (test/impl/vm-entry-vmcs.ts), with one or two fields perturbed, launched on our
 * engine and judged by the reference model through `runDifferential`. Whenever the model's
 * verdict for the VMLAUNCH is defined, our engine's outcome must be one it allows. Fixed seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { runDifferential } from '../../properties/differential.ts';
import { ENTRY_CHECKS } from '../../spec/entry-checks/index.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { type FieldName, loadVmcsOperations, validVmcs } from './vm-entry-vmcs.ts';

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

interface Scenario {
  changes: Perturbation[];
  legacyMode: boolean;
  vtpr: number;
}

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
    changes: fc.array(change, { minLength: 1, maxLength: 2 }),
    legacyMode: fc.boolean(),
    vtpr: fc.integer({ min: 0, max: 255 }),
  });
}

function operations(profile: Profile, s: Scenario): Operation[] {
  const ops = loadVmcsOperations(profile, apply(validVmcs(profile), s.changes), BigInt(s.vtpr));
  if (s.legacyMode) {
    ops.push({ kind: 'set', cpu: 0, what: 'efer.lma', value: 0 }, { kind: 'set', cpu: 0, what: 'cs.l', value: 0 });
  }
  ops.push({ kind: 'vmlaunch', cpu: 0 });
  return ops;
}

const RUNS = 1500;

describe.each(['core2', 'skylake', 'maximal'])('VM entry phase one against the model (%s)', (name) => {
  const profile = loadProfile(name);

  it('the valid VMCS enters the guest in both', () => {
    const engine = createImplEngine({ profile: profile.data, logicalProcessors: 1 });
    const outcome = runDifferential(engine, profile, 1, operations(profile, { changes: [], legacyMode: false, vtpr: 0 }));
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
        const last = outcome.steps.at(-1);
        if (last?.operation.kind === 'vmlaunch' && last.verdict.kind === 'defined') {
          const key = last.observation?.kind === 'vmfail-valid' ? `error ${last.observation.error}` : String(last.observation?.kind);
          judged.set(key, (judged.get(key) ?? 0) + 1);
        }
      }),
      { seed: 20261201, numRuns: RUNS },
    );
    // The model judges only the groups it implements (the rest is not-modelled); some must be judged.
    expect([...judged.values()].reduce((a, b) => a + b, 0), JSON.stringify(Object.fromEntries(judged))).toBeGreaterThan(0);
  });
});
