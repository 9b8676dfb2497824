/**
 * Old case files keep their meaning. Formats /1 and /2 kept MOV-SS blocking until the next `set`;
 * format /3 follows the SDM (blocking for one instruction, SDM Vol. 3C, December 2023, §27.7.1
 * "Interruptibility State"). Reading an old case inserts `set mov-ss-blocking 1` before each later
 * instruction of that processor while the old blocking lasted, and the regression cases replay
 * with the same verdicts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../cli/load-profile.ts';
import { createImplEngine } from '../../impl/index.ts';
import { CASE_FORMAT, CaseFileError, parseCase } from '../../properties/case.ts';
import { upgradeMovSsBlocking } from '../../properties/case-upgrade.ts';
import { runDifferential } from '../../properties/differential.ts';
import type { Operation } from '../../spec/operations.ts';

const block = (cpu: number, value = 1): Operation => ({ kind: 'set', cpu, what: 'mov-ss-blocking', value });
const launch = (cpu: number): Operation => ({ kind: 'vmlaunch', cpu });

/** VMXON and a current VMCS on processor 0 of skylake (revision identifier 4). */
const setup: Operation[] = [
  { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
  { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
  { kind: 'write-memory', cpu: 0, address: '0x10000', value: '0x4' },
  { kind: 'vmclear', cpu: 0, pointer: '0x10000' },
  { kind: 'vmptrld', cpu: 0, pointer: '0x10000' },
];

const oldCase = (format: string, operations: Operation[]): string =>
  JSON.stringify({ format, profile: 'skylake', logicalProcessors: 2, operations });

describe('upgrading MOV-SS blocking', () => {
  it('inserts a set before each later instruction of the blocked processor while the old blocking lasted', () => {
    const ops = [block(0), launch(0), launch(0), launch(1), { kind: 'write-memory', cpu: 0, address: '0x0', value: '0x0' } as Operation, launch(0), block(0, 0), launch(0)];
    expect(upgradeMovSsBlocking(ops)).toEqual([
      block(0),
      launch(0),
      block(0),
      launch(0),
      launch(1),
      { kind: 'write-memory', cpu: 0, address: '0x0', value: '0x0' },
      block(0),
      launch(0),
      block(0, 0),
      launch(0),
    ]);
  });

  it('leaves a case without blocking unchanged', () => {
    expect(upgradeMovSsBlocking(setup)).toEqual(setup);
  });

  it.each(['vmx-conformance-case/1', 'vmx-conformance-case/2'])('reads %s as a /3 case with the old meaning', (format) => {
    const parsed = parseCase(oldCase(format, [block(0), launch(0), launch(0)]));
    expect(parsed.format).toBe(CASE_FORMAT);
    expect(parsed.operations).toEqual([block(0), launch(0), block(0), launch(0)]);
  });

  it('reads a /3 case as written', () => {
    expect(parseCase(oldCase('vmx-conformance-case/3', [block(0), launch(0), launch(0)])).operations).toHaveLength(3);
    expect(parseCase(oldCase(CASE_FORMAT, [block(0), launch(0), launch(0)])).operations).toHaveLength(3);
  });

  it('refuses a format-4 operation in an older file, naming the format it needs', () => {
    const hlt = { kind: 'hlt', cpu: 0 } as const;
    expect(() => parseCase(oldCase('vmx-conformance-case/3', [hlt]))).toThrow(/operations\.0 \(hlt\) needs format vmx-conformance-case\/4/);
    expect(parseCase(oldCase(CASE_FORMAT, [hlt])).operations).toEqual([hlt]);
  });

  it('rejects an unknown format, naming the ones it reads', () => {
    expect(() => parseCase(oldCase('vmx-conformance-case/9', []))).toThrow(CaseFileError);
    expect(() => parseCase(oldCase('vmx-conformance-case/9', []))).toThrow(/vmx-conformance-case\/4 \(or vmx-conformance-case\/1, vmx-conformance-case\/2, vmx-conformance-case\/3\)/);
  });

  it('an upgraded old case with persistent blocking replays conformant: VMfailValid(26) for every VMLAUNCH, as before', () => {
    const testCase = parseCase(oldCase('vmx-conformance-case/1', [...setup, block(0), launch(0), launch(0), launch(0)]));
    const { profile } = resolveProfile(testCase.profile);
    const engine = createImplEngine({ profile: profile.data, logicalProcessors: testCase.logicalProcessors });
    const outcome = runDifferential(engine, profile, testCase.logicalProcessors, testCase.operations);
    expect(outcome.kind).toBe('conformant');
    if (outcome.kind === 'conformant') {
      const launches = outcome.steps.filter((s) => s.operation.kind === 'vmlaunch');
      expect(launches.map((s) => s.observation)).toEqual(Array(3).fill({ kind: 'vmfail-valid', error: 26, flags: 0x40 }));
    }
  });

  it('the regression cases (format /1) still parse, with nothing to upgrade', () => {
    const dir = resolve(import.meta.dirname, '../../regressions');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.case.json'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      const raw = JSON.parse(text) as { operations: Operation[] };
      expect(parseCase(text, file).operations).toEqual(raw.operations);
    }
  });
});
