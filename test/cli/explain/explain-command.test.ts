/**
 * `vmx-conformance explain`: every failing check, not only the first; what could not be decided;
 * exit codes 0 (nothing fails), 1 (something fails), 2 (bad input). The expected failures come
 * from the SDM's VM-exit control checks (Vol. 3C §26.2.1.2, 2016; §27.2.1.2, December 2023).
 */
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/dumps/${name}`, import.meta.url));

describe('explain', () => {
  it('lists every failing check with its SDM section, the values and what the processor reports', async () => {
    const { code, stdout } = await cli('explain', fixture('exit-msr-store-misaligned.json'));
    expect(code).toBe(1);
    // 0x436fff sets bit 22 ("save VMX-preemption timer value") without the pin-based timer control,
    // the MSR-store address is not 16-byte aligned, and two MSR-load entries end past 2^46.
    expect(stdout).toContain('exit-controls.save-preemption-timer-needs-timer  ->  VMfailValid(7)');
    expect(stdout).toContain('exit-controls.msr-store-aligned  ->  VMfailValid(7)');
    expect(stdout).toContain('exit-controls.msr-load-last-byte-width  ->  VMfailValid(7)');
    expect(stdout).not.toContain('exit-controls.msr-load-width ');
    expect(stdout).toMatch(/VM_EXIT_MSR_STORE_ADDRESS=0x10008/);
    expect(stdout).toMatch(/SDM Vol\. 3C §26\.2\.1\.2 "VM-Exit Control Fields" \(2016\); December 2023 §27\.2\.1\.2/);
    expect(stdout).toContain('A processor would report: VMfailValid(7)');
  });

  it('gives JSON with the same verdicts', async () => {
    const { code, stdout } = await cli('explain', fixture('exit-msr-store-misaligned.json'), '--json');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { failing: { id: string; values: Record<string, string> }[]; reported: unknown };
    expect(report.failing.map((f) => f.id)).toEqual([
      'exit-controls.save-preemption-timer-needs-timer',
      'exit-controls.msr-store-aligned',
      'exit-controls.msr-load-last-byte-width',
    ]);
    expect(report.reported).toEqual({ kind: 'vmfail-valid', errors: [7] });
  });

  it('says which checks a KVM dump leaves undecided, and why', async () => {
    const { stdout } = await cli('explain', fixture('kvm-invalid-guest.txt'));
    expect(stdout).toMatch(/^explain: KVM dump_vmcs log .*kvm-invalid-guest\.txt, \d+ fields, profile skylake/);
    expect(stdout).toMatch(/exit-controls\.msr-store-aligned: missing VM_EXIT_MSR_STORE_COUNT/);
    expect(stdout).toMatch(/NOT MODELLED YET \(\d+\)/);
  });

  it('reads a Xen dump, and finds the guest-state failure Xen reported (exit reason 80000021H, qualification 0)', async () => {
    // "IA-32e mode guest" (entry control 0x53ff, bit 9) with CR0 = 0x31 (PG clear) and CR4.PAE clear.
    const { code, stdout } = await cli('explain', fixture('xen-vmentry-failure.txt'), '--json');
    // The dump's TR access rights (1008BH) set the unusable bit, which TR must not (SDM §26.3.1.2, 2016).
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ format: 'xen', profile: 'skylake', });
    expect(stdout).toContain('guest-segment-registers.tr-usable');
    expect(stdout).toContain('guest-control-registers.ia32e-requires-cr0-pg');
  });

  it('refuses unreadable or malformed input with a message naming the line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'explain-'));
    const bad = join(dir, 'bad.log');
    writeFileSync(bad, '*** Guest State ***\nCR3 = 0x1000\nbogus line here\n');
    const malformed = await cli('explain', bad);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/bad\.log: line 3: .*"bogus line here"/);
    expect((await cli('explain', join(dir, 'absent.log'))).code).toBe(2);
    expect((await cli('explain', dir)).stderr).toMatch(/is a directory/);
    expect((await cli('explain', fixture('kvm-invalid-guest.txt'), '--profile', 'no-such')).code).toBe(2);
  });
});
