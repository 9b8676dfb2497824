/**
 * The case-level path of the differential check (runCaseDifferential), which process engines use:
 * a whole case goes to the engine, its observations are then judged step by step.
 */
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { steppingFactory } from '../../properties/case-engine-steps.ts';
import { runCaseDifferential, type CaseEngine } from '../../properties/differential.ts';
import { runSuite, type SuiteOptions } from '../../properties/suite.ts';
import type { Operation, OperationKind } from '../../spec/operations.ts';
import { loadProfile } from '../../spec/profiles.ts';

const profile = loadProfile('skylake');
const suiteOptions: SuiteOptions = {
  factory: () => {
    throw new Error('a case engine is never stepped through the factory');
  },
  engineName: 'impl-in-cases',
  profile,
  profileRef: 'skylake',
  seed: 7,
  runs: 50,
  maxSteps: 20,
  logicalProcessors: 2,
  metamorphicRuns: 5,
};

/** A case engine around our emulator, answering only `kinds`, optionally tampering with the answers. */
function caseEngine(
  kinds: readonly OperationKind[] | 'all',
  tamper: (answers: unknown[], operations: readonly Operation[]) => unknown[] = (a) => a,
): CaseEngine & { sent: Operation[][] } {
  const sent: Operation[][] = [];
  return {
    name: 'impl-in-cases',
    sent,
    supports: (kind) => kinds === 'all' || kinds.includes(kind),
    runCase(logicalProcessors, operations) {
      sent.push([...operations]);
      const engine = createImplEngine({ profile: profile.data, logicalProcessors });
      return tamper(operations.map((op) => engine.step(op)), operations);
    },
  };
}

const setup: Operation[] = [
  { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
  { kind: 'write-memory', cpu: 0, address: '0x2000', value: '0x4' },
  { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
  { kind: 'vmptrld', cpu: 0, pointer: '0x2000' },
];

describe('runCaseDifferential', () => {
  it('sends the whole case once and judges every step', () => {
    const engine = caseEngine('all');
    const outcome = runCaseDifferential(engine, profile, 2, [...setup, { kind: 'vmptrst', cpu: 0 }]);
    expect(engine.sent).toHaveLength(1);
    expect(outcome).toMatchObject({ kind: 'conformant', ended: 'completed' });
    expect(outcome.steps.map((s) => s.matched?.rule.id)).toEqual(['write-memory.ok', 'write-memory.ok', 'vmxon.success', 'vmptrld.success', 'vmptrst.success']);
  });

  it('cuts the case before the first operation of a kind the engine does not support', () => {
    const engine = caseEngine(['write-memory', 'vmxon', 'vmptrld']);
    const operations: Operation[] = [...setup, { kind: 'vmlaunch', cpu: 0 }, { kind: 'vmxon', cpu: 0, pointer: '0x1000' }];
    const outcome = runCaseDifferential(engine, profile, 2, operations);
    expect(engine.sent).toEqual([setup]);
    expect(outcome).toMatchObject({ kind: 'conformant', ended: 'unsupported' });
    expect(outcome.steps).toHaveLength(4);
  });

  it('sends nothing when the first operation is unsupported', () => {
    const engine = caseEngine(['vmxon']);
    const outcome = runCaseDifferential(engine, profile, 2, setup);
    expect(engine.sent).toEqual([]);
    expect(outcome).toMatchObject({ kind: 'conformant', ended: 'unsupported', steps: [] });
  });

  it('finds a wrong observation at its step', () => {
    const engine = caseEngine('all', (answers) => answers.map((a, i) => (i === 3 ? { kind: 'vmfail-invalid', flags: 1 } : a)));
    const outcome = runCaseDifferential(engine, profile, 2, setup);
    expect(outcome.kind).toBe('divergent');
    if (outcome.kind === 'divergent') expect(outcome.divergence).toMatchObject({ kind: 'mismatch', index: 3 });
  });

  it('reports a malformed observation and too few observations', () => {
    const garbled = runCaseDifferential(caseEngine('all', (a) => [a[0], { kind: 'ok' }, ...a.slice(2)]), profile, 2, setup);
    expect(garbled).toMatchObject({ kind: 'divergent', divergence: { kind: 'malformed-observation', index: 1 } });
    const short = runCaseDifferential(caseEngine('all', (a) => a.slice(0, 2)), profile, 2, setup);
    expect(short).toMatchObject({ kind: 'divergent', divergence: { kind: 'malformed-observation', index: 2 } });
    if (short.kind === 'divergent') expect(short.divergence.detail).toContain('after 2 observation(s)');
  });

  it('turns an engine that throws into a divergence at the first step', () => {
    const engine: CaseEngine = {
      name: 'broken',
      supports: () => true,
      runCase: () => {
        throw new Error('the emulator crashed');
      },
    };
    const outcome = runCaseDifferential(engine, profile, 2, setup);
    expect(outcome).toMatchObject({ kind: 'divergent', divergence: { kind: 'engine-threw', index: 0, detail: 'Error: the emulator crashed' } });
  });
});

describe('steppingFactory (metamorphic relations over a case engine)', () => {
  it('runs an announced sequence as one case and serves its observations step by step', () => {
    const engine = caseEngine('all');
    const factory = steppingFactory(engine);
    factory.expect(setup);
    const stepper = factory({ profile: profile.data, logicalProcessors: 2 });
    const observations = setup.map((op) => stepper.step(op));
    expect(engine.sent).toEqual([setup]);
    expect(observations.map((o) => o.kind)).toEqual(['ok', 'ok', 'vmsucceed', 'vmsucceed']);
  });

  it('re-runs the steps so far when a step leaves the announced sequence', () => {
    const engine = caseEngine('all');
    const factory = steppingFactory(engine);
    factory.expect(setup);
    const stepper = factory({ profile: profile.data, logicalProcessors: 2 });
    stepper.step(setup[0] as Operation);
    const off: Operation = { kind: 'vmptrst', cpu: 0 };
    expect(stepper.step(off)).toMatchObject({ kind: 'fault', vector: 'UD' });
    expect(engine.sent).toEqual([setup, [setup[0], off]]);
    expect(() => stepper.snapshot()).toThrow('no snapshot');
  });
});

describe('runSuite with a case engine', () => {
  it('runs the differential and the two stepping relations, and says the snapshot property is skipped', () => {
    const result = runSuite({ ...suiteOptions, caseEngine: caseEngine('all') });
    expect(result.failure).toBeUndefined();
    expect(result.stats.metamorphic).toEqual({ 'vmwrite-vmread-round-trip': 5, 'vmclear-vmptrld-keeps-values': 5 });
    expect(result.stats.metamorphicSkipped).toContain('snapshot-restore-replays');
  });

  it('skips every relation when the engine does not execute what they step through', () => {
    const result = runSuite({ ...suiteOptions, caseEngine: caseEngine(['write-memory', 'vmxon', 'vmclear', 'vmptrld', 'vmread']) });
    expect(result.failure).toBeUndefined();
    expect(result.stats.metamorphic).toEqual({});
    expect(result.stats.metamorphicSkipped).toContain('does not execute all of');
    expect(result.stats.endings.unsupported).toBeGreaterThan(0);
  });

  it('catches, through the round-trip relation, a VMREAD right after a VMWRITE that answers 0', () => {
    const zeroAfterWrite = (answers: unknown[], operations: readonly Operation[]): unknown[] =>
      answers.map((a, i) =>
        operations[i]?.kind === 'vmread' && operations[i - 1]?.kind === 'vmwrite' && i === operations.length - 1 ? { ...(a as object), value: '0x0' } : a,
      );
    const result = runSuite({ ...suiteOptions, runs: 1, metamorphicRuns: 20, caseEngine: caseEngine('all', zeroAfterWrite) });
    expect(result.failure?.property).toBe('vmwrite-vmread-round-trip');
    expect(result.failure?.message).toMatch(/^VMREAD 0x[0-9a-f]+ returned 0x0 after VMWRITE/);
  });
});
