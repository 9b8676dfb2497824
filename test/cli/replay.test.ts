/** `vmx-conformance replay`: traces, exit codes, and clear errors for malformed case files. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

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
