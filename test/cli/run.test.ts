/** `vmx-conformance run`: exit codes, summary, saved cases, plug-ins good and bad. */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

const fixture = (name: string): string => resolve(import.meta.dirname, '../fixtures', name);
const outDir = (): string => mkdtempSync(join(tmpdir(), 'vmx-run-'));

describe('vmx-conformance run', () => {
  it('reports our emulator conformant with a summary of cases, outcomes and decision points', async () => {
    const r = await cli('run', '--seed', '11', '--runs', '200', '--out', outDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CONFORMANT');
    expect(r.stdout).toContain('seed 11');
    expect(r.stdout).toMatch(/differential: 200 cases, [\d,]+ steps/);
    expect(r.stdout).toMatch(/SDM decision points covered: \d+ of \d+/);
    expect(r.stdout).toContain('VMsucceed');
  });

  it('prints a JSON report with --json', async () => {
    const r = await cli('run', '--seed', '3', '--runs', '50', '--json', '--profile', 'core2', '--out', outDir());
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ engine: 'impl', profile: 'core2', seed: 3, conformant: true });
    expect(report.stats.cases).toBe(50);
  });

  it('finds, shrinks and saves a divergence of a plug-in, exit code 1', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--seed', '20261121', '--runs', '3000', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DIVERGENCE');
    expect(r.stdout).toContain('VMfailValid(10)');
    expect(r.stdout).toContain('SDM Vol. 3C');
    const files = readdirSync(out);
    expect(files.some((f) => f.endsWith('.case.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('.trace.txt'))).toBe(true);
    const casePath = join(out, files.find((f) => f.endsWith('.case.json')) ?? '');
    const replay = await cli('replay', casePath, '--emulator', fixture('wrong-vmptrld-engine.ts'));
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('DIVERGES');
    const ours = await cli('replay', casePath);
    expect(ours.code).toBe(0);
  });

  it('keeps the case when a plug-in crashes', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('crashing-engine.ts'), '--seed', '5', '--runs', '300', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('segmentation fault in the VMXON handler');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('keeps the case when a plug-in returns garbage', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('garbage-engine.ts'), '--seed', '5', '--runs', '300', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('garbage');
    const caseFile = readdirSync(out).find((f) => f.endsWith('.case.json'));
    expect(caseFile).toBeDefined();
    expect(JSON.parse(readFileSync(join(out, caseFile ?? ''), 'utf8')).operations.length).toBeGreaterThan(0);
  });

  it('stops a plug-in that hangs, reports it, and keeps the case', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('hanging-engine.ts'), '--seed', '5', '--runs', '20', '--step-timeout', '300', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('did not answer within 300 ms');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('keeps the case when a plug-in cannot create an engine part-way through a run', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('failing-factory-engine.ts'), '--in-process', '--seed', '1', '--runs', '50', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('out of emulator licences');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('runs a plug-in in the main thread with --in-process', async () => {
    const r = await cli('run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--in-process', '--seed', '20261121', '--runs', '3000', '--out', outDir());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('VMfailValid(10)');
  });

  it('rejects a module without an engine factory, exit code 2', async () => {
    const r = await cli('run', '--emulator', fixture('not-a-plugin.ts'), '--runs', '5');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must export an engine factory');
  });

  it('rejects a missing module, an unknown profile and bad numbers, exit code 2', async () => {
    expect((await cli('run', '--emulator', 'no/such/module.js')).code).toBe(2);
    const unknown = await cli('run', '--profile', 'pentium4');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown profile "pentium4"');
    expect(unknown.stderr).toContain('skylake');
    expect((await cli('run', '--runs', '0')).code).toBe(2);
    expect((await cli('run', '--seed', 'abc')).code).toBe(2);
    expect((await cli('bogus')).code).toBe(2);
  });

  it('does not write a failures directory when the run conforms', async () => {
    const out = join(outDir(), 'nested');
    await cli('run', '--seed', '1', '--runs', '20', '--out', out);
    expect(existsSync(out)).toBe(false);
  });
});
