/**
 * `vmx-conformance profile import` and `profile capture`: profile files from the dumps people
 * have, validated, with what was missing or inferred said on standard error; bad input is exit 2
 * with the line named.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';
import { ALDER_LAKE_AIDA64, CONROE_AIDA64, SANDY_BRIDGE_RDMSR, writeCpuidImage, writeMsrImage } from './profile-import/samples.ts';

const made: string[] = [];
const dir = (): string => {
  const path = mkdtempSync(join(tmpdir(), 'vmx-profile-'));
  made.push(path);
  return path;
};
afterAll(() => {
  for (const path of made) rmSync(path, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir(), name);
  writeFileSync(path, content);
  return path;
}

/** Sandy Bridge's MSRs as the rdmsr sample lists them, by index. */
function sandyBridgeMsrs(): Record<number, bigint> {
  const msrs: Record<number, bigint> = {};
  for (const line of SANDY_BRIDGE_RDMSR.split('\n')) {
    const match = /^(?:0x)?([0-9a-f]+)h?\s*[:=]?\s*(?:0x)?([0-9a-f]+)$/i.exec(line.trim());
    if (match) msrs[Number.parseInt(match[1] as string, 16)] = BigInt(`0x${match[2]}`);
  }
  return msrs;
}

describe('vmx-conformance profile import', () => {
  it('writes a profile from an AIDA64 dump to standard output, with notes and warnings on stderr', async () => {
    const r = await cli('profile', 'import', file('Conroe_CPUID.txt', CONROE_AIDA64));
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data).toMatchObject({ name: 'conroe-cpuid', physicalAddressWidth: 36, featureControl: '0x5', inferred: ['featureControl'] });
    expect(data.description).toBe('Imported from Conroe_CPUID.txt (aida64 dump)');
    expect(r.stderr).toMatch(/note: IA32_FEATURE_CONTROL \(3AH\) is missing from the dump/);
    expect(r.stderr).toMatch(/warning: IA32_VMX_MISC \(485H\): bit 9 set/);
  });

  it('reads a report of a few hundred KB, as AIDA64 writes for many-core parts', async () => {
    const padding = 'CPU Clock = 3200.00 MHz / TSC Clock = 3200.00 MHz / CPU Mul = 32.00x\n'.repeat(4_000);
    const r = await cli('profile', 'import', file('GenuineIntel0090672_AlderLake_CPUID.txt', padding + ALDER_LAKE_AIDA64 + padding));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'genuineintel0090672-alderlake-cpuid', physicalAddressWidth: 46 });
  });

  it('writes --out, named --name, and the file runs conformant with --profile', async () => {
    const out = join(dir(), 'sandy.json');
    const r = await cli('profile', 'import', file('dump.txt', SANDY_BRIDGE_RDMSR), '--name', 'sandy', '--out', out, '--physical-address-width', '36');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`profile sandy written to ${out}`);
    expect(r.stderr).toMatch(/warning: IA32_VMX_VMCS_ENUM \(48AH\): bits 9:1 report 21/);
    expect(JSON.parse(readFileSync(out, 'utf8')).name).toBe('sandy');
    const run = await cli('run', '--profile', out, '--seed', '7', '--runs', '40', '--json', '--out', dir());
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).conformant).toBe(true);
  });

  it('reads an MSR image file, by content or with --format msr-file', async () => {
    const image = join(dir(), 'cpu0.msr');
    writeMsrImage(image, sandyBridgeMsrs());
    for (const extra of [[], ['--format', 'msr-file']]) {
      const r = await cli('profile', 'import', image, ...extra);
      expect(r.code).toBe(0);
      const data = JSON.parse(r.stdout);
      expect(data.msrs.IA32_VMX_BASIC).toBe('0xda040000000010');
      expect(data.description).toContain('(msr-file dump)');
    }
  });

  it('names the line of a malformed dump, exit 2, and writes nothing', async () => {
    const out = join(dir(), 'never.json');
    const r = await cli('profile', 'import', file('bad.txt', '0x480 0xda040000000010\nvalue of 481 is 0x7f00000016\n'), '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.txt: line 2: "value of 481 is 0x7f00000016" is not an MSR line/);
    expect(existsSync(out)).toBe(false);
    const aida = await cli('profile', 'import', file('bad-aida.txt', 'MSR 00000480: 00DA-0400\n'));
    expect(aida.code).toBe(2);
    expect(aida.stderr).toMatch(/line 1: "MSR 00000480: 00DA-0400" is not an AIDA64 CPUID or MSR line/);
  });

  it('refuses a dump lacking a required MSR, a profile with problems, and bad options, exit 2', async () => {
    const lacking = await cli('profile', 'import', file('short.txt', '0x480 0xda040000000010\n'));
    expect(lacking.code).toBe(2);
    expect(lacking.stderr).toMatch(/the dump lacks IA32_VMX_PINBASED_CTLS \(481H\)/);
    // CR4.VMXE not fixed to 1: a problem, so no profile.
    const broken = await cli('profile', 'import', file('broken.txt', SANDY_BRIDGE_RDMSR.replace('488 2000', '488 0')));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/do not make a usable profile \(1 problem\(s\)\); no file written:\n {2}- IA32_VMX_CR4_FIXED0 \(488H\): bit 13/);
    expect((await cli('profile', 'import', join(dir(), 'missing.txt'))).stderr).toMatch(/dump file not found/);
    expect((await cli('profile', 'import', file('d.txt', SANDY_BRIDGE_RDMSR), '--format', 'csv')).stderr).toMatch(/--format must be one of aida64, rdmsr, msr-file/);
    expect((await cli('profile', 'import', file('d.txt', SANDY_BRIDGE_RDMSR), '--physical-address-width', '60')).code).toBe(2);
  });
});

describe('vmx-conformance profile capture', () => {
  it('reads a file laid out like /dev/cpu/N/msr and /dev/cpu/N/cpuid', async () => {
    const msr = join(dir(), 'msr');
    const cpuid = join(dir(), 'cpuid');
    writeMsrImage(msr, sandyBridgeMsrs());
    writeCpuidImage(cpuid, 0x3024);
    const r = await cli('profile', 'capture', '--msr-file', msr, '--cpuid-file', cpuid, '--cpu', '3');
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data).toMatchObject({ name: 'captured-cpu3', physicalAddressWidth: 36, featureControl: '0x5' });
    expect(data.inferred).toBeUndefined();
    expect(data.source).toBe(`vmx-conformance profile capture (${msr})`);
  });

  it('says when the CPUID file cannot be read and defaults MAXPHYADDR', async () => {
    const msr = join(dir(), 'msr');
    writeMsrImage(msr, sandyBridgeMsrs());
    const r = await cli('profile', 'capture', '--msr-file', msr, '--cpuid-file', join(dir(), 'none'), '--name', 'host');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: .*none could not be read \(modprobe cpuid\)/);
    expect(r.stderr).toMatch(/MAXPHYADDR assumed 36/);
  });

  it('explains what to do when the MSR device cannot be read, exit 2', async () => {
    const r = await cli('profile', 'capture', '--msr-file', join(dir(), 'no-such-msr'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read .*no-such-msr \(ENOENT\); on Linux load the msr module \(modprobe msr\) and run as root/);
  });
});
