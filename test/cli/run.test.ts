/** `vmx-conformance run`: exit codes, summary, saved cases, plug-ins good and bad. */
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../spec/profiles.ts';
import { cli, fixture, outDir } from './helpers.ts';

describe('vmx-conformance run', () => {
  it('reports our emulator conformant with a summary of cases, outcomes and decision points', async () => {
    const r = await cli('run', '--seed', '11', '--runs', '200', '--out', outDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CONFORMANT');
    expect(r.stdout).toContain('seed 11');
    expect(r.stdout).toContain('engine impl, profile skylake (built-in), seed 11, 200 runs, at most 40 steps, 2 logical processors');
    expect(r.stdout).toMatch(/differential: 200 cases, [\d,]+ steps/);
    expect(r.stdout).toMatch(/SDM decision points covered: \d+ of \d+/);
    expect(r.stdout).toContain('VMsucceed');
  });

  it('prints a JSON report with --json, recording every option that changes the cases', async () => {
    const r = await cli('run', '--seed', '3', '--runs', '50', '--json', '--profile', 'core2', '--cpus', '3', '--max-steps', '12', '--out', outDir());
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ engine: 'impl', profile: 'core2', profileSource: { builtIn: 'core2' }, seed: 3, runs: 50, cpus: 3, maxSteps: 12, conformant: true, verdict: 'conformant', exitCode: 0 });
    expect(report.stats.cases).toBe(50);
  });

  it('finds, shrinks and saves a divergence of a plug-in, exit code 1', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--seed', '1', '--runs', '300', '--out', out);
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

  it('keeps the case when a plug-in throws, an emulator fault (exit 3)', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('crashing-engine.ts'), '--seed', '5', '--runs', '300', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('segmentation fault in the VMXON handler');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('keeps the case when a plug-in returns garbage', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('garbage-engine.ts'), '--seed', '5', '--runs', '300', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('garbage');
    const caseFile = readdirSync(out).find((f) => f.endsWith('.case.json'));
    expect(caseFile).toBeDefined();
    expect(JSON.parse(readFileSync(join(out, caseFile ?? ''), 'utf8')).operations.length).toBeGreaterThan(0);
  });

  it('stops a plug-in that hangs, reports it, and keeps the case', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('hanging-engine.ts'), '--seed', '5', '--runs', '20', '--step-timeout', '300', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('no answer within 300 ms');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('keeps the case when a plug-in cannot create an engine part-way through a run', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('failing-factory-engine.ts'), '--in-process', '--seed', '1', '--runs', '50', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('out of emulator licences');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('runs a plug-in in the main thread with --in-process', async () => {
    const r = await cli('run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--in-process', '--seed', '1', '--runs', '300', '--out', outDir());
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

describe('vmx-conformance run: the output directory', () => {
  it.each([
    ['a regular file', (dir: string) => { const f = join(dir, 'file'); writeFileSync(f, ''); return f; }],
    ['a dangling link', (dir: string) => { const l = join(dir, 'link'); symlinkSync(join(dir, 'nowhere'), l); return l; }],
    ['a path under /dev/null', () => '/dev/null/x'],
    ['a path under /proc (where recursive mkdir spins)', () => '/proc/vmx-conformance-x'],
  ])('refuses --out that is %s before running anything, exit 2', async (_what, make) => {
    const out = make(outDir());
    const r = await cli('run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--seed', '1', '--runs', '300', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${out}: cannot write failing cases there`);
    expect(r.stdout).toBe('');
  });

  it('names saved files safely when the profile name holds a slash, and writes no temporary files', async () => {
    const dir = outDir();
    const data = JSON.parse(JSON.stringify(loadProfile('skylake').data));
    data.name = 'vendor/part 7';
    const profileFile = join(dir, 'profile.json');
    writeFileSync(profileFile, JSON.stringify(data));
    const out = join(dir, 'out');
    const r = await cli('run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--profile', profileFile, '--seed', '1', '--runs', '300', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`profile vendor/part 7 (file ${profileFile})`);
    expect(readdirSync(out).sort()).toEqual(['wrong-vmptrld-engine-vendor_part_7-seed1.case.json', 'wrong-vmptrld-engine-vendor_part_7-seed1.trace.txt']);
  });
});

describe('vmx-conformance run: partial emulators and metamorphic cases', () => {
  it('ends a case at an unimplemented answer and calls a mostly unimplemented run INCOMPLETE, exit 4', async () => {
    const r = await cli('run', '--emulator', fixture('partial-engine.ts'), '--seed', '2', '--runs', '100', '--json', '--out', outDir());
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('incomplete');
    expect(report.stats.endings['engine-unimplemented']).toBeGreaterThan(5);
    expect(Object.keys(report.stats.unimplemented).sort()).toEqual(['vmread', 'vmwrite']);
  });

  it('saves a snapshot/restore failure as a case that replay re-checks and reports broken, exit 1', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('snapshot-breaking-engine.ts'), '--seed', '1', '--runs', '100', '--out', out);
    expect(r.code).toBe(1);
    const casePath = join(out, readdirSync(out).find((f) => f.endsWith('.case.json')) ?? '');
    const saved = JSON.parse(readFileSync(casePath, 'utf8'));
    expect(saved.format).toBe('vmx-conformance-case/5');
    expect(saved.origin).toMatchObject({ property: 'snapshot-restore-replays', snapshotAt: expect.any(Number) });
    const replay = await cli('replay', casePath, '--emulator', fixture('snapshot-breaking-engine.ts'));
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('The snapshot-restore-replays relation is broken');
    expect((await cli('replay', casePath)).code).toBe(0);
  });
});
