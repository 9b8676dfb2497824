/**
 * A default-sized run (the options `npm run suite` uses: skylake, 1,000 sequences of at most 40
 * random steps, 2 logical processors) with a fixed seed reaches every boundary decision point the
 * generators aim at, among them the gaps named in the issues: VM entry with a shadow VMCS current,
 * INVEPT/INVVPID with a type register whose bits 63:32 are set, VMPTRLD, VMCLEAR and VMXON with a
 * pointer misaligned in bit 11 only, VMCLEAR at CPL 1 and 2. Points are judged on the operation
 * and state, not only on the rule (checked here on hand-made cases), and the report lists them.
 */
import { describe, expect, it } from 'vitest';
import { renderSummary } from '../../cli/report.ts';
import { createImplEngine } from '../../impl/index.ts';
import { createModelState, RULES } from '../../model/index.ts';
import { runDifferential } from '../../properties/differential.ts';
import { boundaryPoints, indexPoints, pointsReached } from '../../properties/generators/boundary-points.ts';
import { runSuite } from '../../properties/suite.ts';
import { toHex } from '../../spec/hex.ts';
import type { Operation } from '../../spec/operations.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { explain } from './differential-helpers.ts';

const SEED = 1;
const profile = loadProfile('skylake');

describe('a default-sized run', () => {
  console.log(`boundary coverage: seed ${SEED}, 1000 runs`);
  const result = runSuite({ factory: createImplEngine, engineName: 'impl', profile, profileRef: 'skylake', seed: SEED, runs: 1000, maxSteps: 40, logicalProcessors: 2 });

  it('conforms and still runs most cases to their end', () => {
    expect(explain(result)).toBe('');
    // 0.62 on 2 December 2026 (0.66 before): the VM-entry groups now run several failing rounds and
    // more guests per case, so a case meets more steps the SDM leaves undefined (stores into an
    // active VMCS or VMXON region, fields never written); the report's "undefined at" lists them.
    expect(result.stats.endings.completed / result.stats.cases).toBeGreaterThan(0.6);
  });

  it('reaches the gaps named in the issues', () => {
    const hit = result.stats.boundariesHit;
    for (const id of [
      'vmentry.shadow-vmcs@vmlaunch',
      'vmentry.shadow-vmcs@vmresume',
      'invept.type-unsupported@bits-63:32-set-in-64-bit-mode',
      'invvpid.type-unsupported@bits-63:32-set-in-64-bit-mode',
      'invept.type@bits-63:32-ignored-outside-64-bit-mode',
      'invvpid.type@bits-63:32-ignored-outside-64-bit-mode',
      'vmptrld.pointer-not-aligned@bit-11',
      'vmclear.pointer-not-aligned@bit-11',
      'vmxon.pointer-not-aligned@bit-11',
      'vmclear.gp-cpl@cpl-1',
      'vmclear.gp-cpl@cpl-2',
    ]) {
      expect(hit[id] ?? 0, id).toBeGreaterThan(0);
    }
    expect(result.stats.rulesHit['vmentry.shadow-vmcs'] ?? 0).toBeGreaterThan(10);
  });

  it('reaches every boundary decision point', () => {
    expect(result.stats.boundariesMissed).toEqual([]);
    expect(Object.keys(result.stats.boundariesHit)).toHaveLength(result.stats.boundariesTotal);
  });

  it('lists the boundary points covered in the text report', () => {
    expect(renderSummary(result.stats)).toContain(`boundary decision points covered: ${result.stats.boundariesTotal} of ${result.stats.boundariesTotal}`);
  });
});

describe('boundary decision points', () => {
  const points = boundaryPoints(profile);

  it('name only rules the model has, and have distinct ids', () => {
    const known = new Set(RULES.map((r) => r.id));
    expect(points.flatMap((p) => p.rules).filter((r) => !known.has(r))).toEqual([]);
    expect(new Set(points.map((p) => p.id)).size).toBe(points.length);
  });

  /** The points a case reaches on our emulator. */
  function reached(operations: Operation[]): string[] {
    const outcome = runDifferential(createImplEngine({ profile: profile.data, logicalProcessors: 2 }), profile, 2, operations);
    return pointsReached(indexPoints(points), outcome.steps, createModelState(profile, 2));
  }
  const setUp: Operation[] = [
    { kind: 'write-memory', cpu: 0, address: '0x1000', value: toHex(BigInt(profile.revisionId)) },
    { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
  ];

  it('are told apart by the operand: 2800H is misaligned in bit 11 only, 2010H in bit 4 only', () => {
    const ids = reached([...setUp, { kind: 'vmptrld', cpu: 0, pointer: '0x2800' }, { kind: 'vmclear', cpu: 0, pointer: '0x2010' }]);
    expect(ids).toEqual(['vmptrld.pointer-not-aligned@bit-11', 'vmclear.pointer-not-aligned@bit-4']);
  });

  it('are told apart by the state before the step: VMCLEAR at CPL 2, then at CPL 1', () => {
    const ids = reached([
      ...setUp,
      { kind: 'set', cpu: 0, what: 'cpl', value: 2 },
      { kind: 'vmclear', cpu: 0, pointer: '0x2000' },
      { kind: 'set', cpu: 0, what: 'cpl', value: 1 },
      { kind: 'vmclear', cpu: 0, pointer: '0x2000' },
    ]);
    expect(ids).toEqual(['vmclear.gp-cpl@cpl-2', 'vmclear.gp-cpl@cpl-1']);
  });

  it('tell type 1_00000002H in 64-bit mode (unsupported) from the same register outside it (type 2)', () => {
    const invept: Operation = { kind: 'invept', cpu: 0, type: '0x100000002', descriptor: ['0x0', '0x0'] };
    const loaded: Operation[] = [
      ...setUp,
      { kind: 'write-memory', cpu: 0, address: '0x2000', value: toHex(BigInt(profile.revisionId)) },
      { kind: 'vmptrld', cpu: 0, pointer: '0x2000' },
    ];
    expect(reached([...loaded, invept])).toEqual(['invept.type-unsupported@bits-63:32-set-in-64-bit-mode']);
    expect(reached([...loaded, { kind: 'set', cpu: 0, what: 'efer.lma', value: 0 }, invept])).toEqual(['invept.type@bits-63:32-ignored-outside-64-bit-mode']);
  });
});
