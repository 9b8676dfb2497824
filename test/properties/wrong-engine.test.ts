/**
 * The suite must catch a deliberately wrong engine and shrink the case to the shortest sequence
 * that shows the fault. The SDM's VMPTRLD Operation section (Vol. 3C §31.3, December 2023)
 * checks "addr = VMXON pointer" (error 10) after the alignment/width check (error 9), and error
 * numbers are only visible as VMfailValid when a VMCS is current. So the shortest case is: lay
 * out two regions, VMXON with one, VMPTRLD the other, VMPTRLD the VMXON pointer: five steps.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveFailure } from '../../cli/commands/run.ts';
import { createImplEngine } from '../../impl/index.ts';
import { parseCase } from '../../properties/case.ts';
import { runDifferential } from '../../properties/differential.ts';
import { runSuite } from '../../properties/suite.ts';
import { renderTrace } from '../../properties/trace.ts';
import { loadProfile } from '../../spec/profiles.ts';
import createWrongEngine from '../fixtures/wrong-vmptrld-engine.ts';

const SEED = 20261121;

describe('a deliberately wrong engine', () => {
  const profile = loadProfile('skylake');
  const result = runSuite({
    factory: createWrongEngine,
    engineName: 'wrong-vmptrld',
    profile,
    profileRef: 'skylake',
    seed: SEED,
    runs: 3000,
    maxSteps: 40,
    logicalProcessors: 2,
  });

  it('is caught by the differential property', () => {
    console.log(`wrong-engine suite seed ${SEED}`);
    expect(result.failure?.property).toBe('differential');
    expect(result.failure?.outcome.kind).toBe('divergent');
  });

  it('is shrunk to lay out two regions, VMXON, VMPTRLD a VMCS, VMPTRLD the VMXON pointer', () => {
    const ops = result.failure?.testCase.operations ?? [];
    expect(ops.map((op) => op.kind)).toEqual(['write-memory', 'write-memory', 'vmxon', 'vmptrld', 'vmptrld']);
    const vmxon = ops[2] as { pointer: string };
    const last = ops[4] as { pointer: string };
    expect(BigInt(last.pointer)).toBe(BigInt(vmxon.pointer));
    const outcome = result.failure?.outcome;
    if (outcome?.kind !== 'divergent') throw new Error('expected a divergence');
    expect(outcome.divergence.index).toBe(4);
    expect(outcome.divergence.observation).toMatchObject({ kind: 'vmfail-valid', error: 9 });
    expect(outcome.divergence.allowed.map((b) => b.expected)).toContainEqual(expect.objectContaining({ kind: 'vmfail-valid', error: 10 }));
  });

  it('saves a case that replays the divergence on the wrong engine and passes on ours', () => {
    const failure = result.failure;
    if (failure === undefined) throw new Error('expected a failure');
    const dir = mkdtempSync(join(tmpdir(), 'vmx-wrong-'));
    const trace = renderTrace(failure.outcome, 'wrong engine');
    const { casePath, tracePath } = saveFailure(dir, 'wrong', failure, trace);
    expect(readFileSync(tracePath, 'utf8')).toContain('DIVERGES');
    expect(readFileSync(tracePath, 'utf8')).toContain('VMPTRLD');
    const replayed = parseCase(readFileSync(casePath, 'utf8'), casePath);
    expect(replayed.operations).toEqual(failure.testCase.operations);
    const again = runDifferential(createWrongEngine({ profile: profile.data, logicalProcessors: 2 }), profile, 2, replayed.operations);
    expect(again.kind).toBe('divergent');
    const ours = runDifferential(createImplEngine({ profile: profile.data, logicalProcessors: 2 }), profile, 2, replayed.operations);
    expect(ours.kind).toBe('conformant');
  });
});
