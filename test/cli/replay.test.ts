/** `vmx-conformance replay`: traces, exit codes, and clear errors for malformed case files. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serializeCase } from '../../properties/case.ts';
import { longCase } from '../fixtures/make-long-case.ts';
import { cli, fixture, outDir } from './helpers.ts';

const regressions = resolve(import.meta.dirname, '../../regressions');

function caseFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'vmx-replay-')), 'case.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const vmptrldOfVmxonPointer = {
  format: 'vmx-conformance-case/1',
  profile: 'skylake',
  logicalProcessors: 1,
  operations: [
    { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
    { kind: 'write-memory', cpu: 0, address: '0x2000', value: '0x4' },
    { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
    { kind: 'vmptrld', cpu: 0, pointer: '0x2000' },
    { kind: 'vmptrld', cpu: 0, pointer: '0x1000' },
  ],
};

describe('vmx-conformance replay', () => {
  it('prints a step-by-step trace with the deciding rules and exits 0 for a conforming engine', async () => {
    const r = await cli('replay', caseFile(vmptrldOfVmxonPointer));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('VMfailValid(10)');
    expect(r.stdout).toContain('cpu0 VMXON [0x1000]');
    expect(r.stdout).toContain('Conformant');
  });

  it('prints JSON with --json', async () => {
    const r = await cli('replay', caseFile(vmptrldOfVmxonPointer), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.conformant).toBe(true);
    expect(report.steps).toHaveLength(5);
    expect(report.steps[4].observation).toMatchObject({ kind: 'vmfail-valid', error: 10 });
  });

  it.each([
    ['not JSON', '{ nope', 'not valid JSON'],
    ['a wrong format tag', { ...vmptrldOfVmxonPointer, format: 'something-else' }, 'format'],
    ['an unknown operation', { ...vmptrldOfVmxonPointer, operations: [{ kind: 'vmfoo', cpu: 0 }] }, 'operations.0'],
    ['a malformed pointer', { ...vmptrldOfVmxonPointer, operations: [{ kind: 'vmxon', cpu: 0, pointer: '4096' }] }, 'operations.0.pointer'],
    ['an unaligned memory write', { ...vmptrldOfVmxonPointer, operations: [{ kind: 'write-memory', cpu: 0, address: '0x1002', value: '0x4' }] }, 'aligned'],
    ['a processor the case does not have', { ...vmptrldOfVmxonPointer, operations: [{ kind: 'vmxoff', cpu: 1 }] }, 'operations.0.cpu'],
    ['an unknown profile', { ...vmptrldOfVmxonPointer, profile: 'pentium4' }, 'unknown profile'],
    ['an inconsistent inline profile', { ...vmptrldOfVmxonPointer, profile: { name: 'x' } }, 'profile'],
  ])('rejects a case file with %s, naming the problem, exit code 2', async (_what, content, message) => {
    const r = await cli('replay', caseFile(content));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('rejects a missing case file, exit code 2', async () => {
    const r = await cli('replay', '/no/such/case.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not found');
  });
});

describe('vmx-conformance replay: input and plug-in errors, old formats, long cases', () => {
  it.each(readdirSync(regressions).filter((f) => f.endsWith('.case.json')))('replays the kept case %s in its own format (older ones too) conformant, unchanged', async (file) => {
    const text = readFileSync(join(regressions, file), 'utf8');
    expect(JSON.parse(text).format).toMatch(/^vmx-conformance-case\/[1-5]$/);
    const r = await cli('replay', join(regressions, file));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Conformant');
  });

  it('refuses a directory as the case file with a message, exit 2, no stack trace', async () => {
    const r = await cli('replay', regressions);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read case file ${regressions}`);
  });

  it('refuses a plug-in whose factory throws, exit 2 (as run does)', async () => {
    const factoryThrows = caseFile(vmptrldOfVmxonPointer);
    const plugin = join(mkdtempSync(join(tmpdir(), 'vmx-plugin-')), 'throws.mjs');
    writeFileSync(plugin, "export default () => { throw new Error('no licence'); };\n");
    const r = await cli('replay', factoryThrows, '--emulator', plugin);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('creating the engine failed: Error: no licence');
    expect((await cli('run', '--emulator', plugin, '--runs', '3', '--out', outDir())).code).toBe(2);
  });

  it('reports an emulator that crashes during replay as a fault, exit 3', async () => {
    const r = await cli('replay', caseFile(vmptrldOfVmxonPointer), '--emulator', fixture('exit-in-step-engine.ts'));
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('EMULATOR FAULT: emulator exit-in-step-engine crashed during step vmxon (cpu0): exited with code 7');
  });

  it('ends at a step the engine does not implement, exit 4', async () => {
    const withRead = { ...vmptrldOfVmxonPointer, operations: [...vmptrldOfVmxonPointer.operations.slice(0, 4), { kind: 'vmread', cpu: 0, encoding: '0x4002' }] };
    const r = await cli('replay', caseFile(withRead), '--emulator', fixture('partial-engine.ts'), '--in-process');
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('engine unimplemented, comparison ends');
  });

  it('replays a 100,000-step case as it goes, keeping no step (heap capped at 96 MB)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vmx-long-')), 'long.case.json');
    writeFileSync(file, serializeCase(longCase(100_000)));
    const bin = resolve(import.meta.dirname, '../../bin/vmx-conformance.js');
    const result = spawnSync(process.execPath, ['--max-old-space-size=96', bin, 'replay', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n').filter((l) => l.startsWith('  #')).length).toBe(100_000);
    expect(result.stdout).toContain('Conformant: every step within what the SDM allows.');
  });
});
