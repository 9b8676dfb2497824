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

  it.each([
    { kind: 'rdrand', cpu: 0, gpr: 2, size: 32 },
    { kind: 'rdseed', cpu: 0, gpr: 9, size: 64 },
    { kind: 'invpcid', cpu: 0, type: '0x1', descriptor: ['0x0', '0x0'] },
    { kind: 'descriptor-table', cpu: 0, instruction: 'sgdt' },
    { kind: 'getsec', cpu: 0 },
    { kind: 'xsaves', cpu: 0, mask: '0x100' },
    { kind: 'xrstors', cpu: 0, mask: '0x100' },
    { kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' },
  ] as Operation[])('refuses a format-5 operation ($kind) in a /4 file, naming the format it needs, and reads it in a /5 file', (op) => {
    expect(() => parseCase(oldCase('vmx-conformance-case/4', [op]))).toThrow(new RegExp(`operations\\.0 \\(${op.kind}\\) needs format vmx-conformance-case/5 \\(this file says vmx-conformance-case/4\\)`));
    expect(() => parseCase(oldCase('vmx-conformance-case/2', [op]))).toThrow(/needs format vmx-conformance-case\/5/);
    expect(parseCase(oldCase('vmx-conformance-case/5', [op])).operations).toEqual([op]);
  });

  it('reads a /4 file with the guest operations of format 4 as a /5 case, unchanged', () => {
    const ops: Operation[] = [...setup, launch(0), { kind: 'hlt', cpu: 0 }, { kind: 'wbinvd', cpu: 0 }, { kind: 'mov-cr0', cpu: 0, value: '0x80000031', gpr: 3 }];
    const parsed = parseCase(oldCase('vmx-conformance-case/4', ops));
    expect(parsed.format).toBe('vmx-conformance-case/5');
    expect(parsed.operations).toEqual(ops);
  });

  it('refuses a format-5 operation whose operands are malformed, naming them', () => {
    const bad = (op: object) => () => parseCase(oldCase(CASE_FORMAT, [op as Operation]));
    expect(bad({ kind: 'rdrand', cpu: 0, gpr: 2, size: 8 })).toThrow(/operations\.0\.size/);
    expect(bad({ kind: 'descriptor-table', cpu: 0, instruction: 'lgdt' })).toThrow(/lgdt and lidt need limit and base/);
    expect(bad({ kind: 'descriptor-table', cpu: 0, instruction: 'sgdt', form: 'register' })).toThrow(/memory operand only/);
    expect(bad({ kind: 'descriptor-table', cpu: 0, instruction: 'ltr' })).toThrow(/lldt and ltr need a selector/);
    expect(bad({ kind: 'descriptor-table', cpu: 0, instruction: 'lldt', selector: '0x10000' })).toThrow(/16-bit value/);
  });

  it('rejects an unknown format, naming the ones it reads', () => {
    expect(() => parseCase(oldCase('vmx-conformance-case/9', []))).toThrow(CaseFileError);
    expect(() => parseCase(oldCase('vmx-conformance-case/9', []))).toThrow(/vmx-conformance-case\/5 \(or vmx-conformance-case\/1, vmx-conformance-case\/2, vmx-conformance-case\/3, vmx-conformance-case\/4\)/);
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
