/**
 * The example emulator in examples/python-emulator/ plugged in with `--emulator-cmd`: a whole run
 * conformant on what it implements, a deliberately broken copy caught and shrunk, replay, and the
 * usage errors of the option.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

const root = resolve(import.meta.dirname, '../..');
const example = `python3 ${join(root, 'examples/python-emulator/emulator.py')}`;
const wrongVmptrld = `python3 ${join(root, 'test/fixtures/processes/wrong-vmptrld.py')}`;
const outDir = (): string => mkdtempSync(join(tmpdir(), 'vmx-example-'));

describe('the Python example emulator', () => {
  it('runs without a fault and is conformant on the operations it announces', async () => {
    const r = await cli('run', '--emulator-cmd', example, '--runs', '300', '--seed', '1', '--json', '--out', outDir());
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ engine: 'python-example', profile: 'python-example-skylake', conformant: true });
    expect(report.stats.cases).toBe(300);
    // Cases containing VMLAUNCH, INVEPT, ... are cut before them; the rest run to the end or to
    // where the SDM says undefined.
    expect(report.stats.endings.unsupported).toBeGreaterThan(0);
    expect(report.stats.endings.completed).toBeGreaterThan(0);
    expect(report.stats.metamorphicSkipped).toContain('snapshot-restore-replays');
    expect(report.stats.metamorphic).toEqual({ 'vmwrite-vmread-round-trip': 30, 'vmclear-vmptrld-keeps-values': 30 });
    for (const rule of ['vmxon.success', 'vmxoff.success', 'vmclear.success', 'vmptrld.success', 'vmptrst.success', 'vmread.success', 'vmwrite.success']) {
      expect(report.stats.rulesHit[rule], rule).toBeGreaterThan(0);
    }
    expect(report.stats.outcomes['unimplemented']).toBeUndefined();
    expect(r.stderr).toContain('[python3 emulator.py] python-example 1.0 ready (protocol 1)');
  });

  it('says in the text summary that cases were cut and the snapshot property skipped', async () => {
    const r = await cli('run', '--emulator-cmd', example, '--runs', '60', '--seed', '2', '--out', outDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('engine python-example, profile python-example-skylake (announced by the emulator), seed 2');
    expect(r.stdout).toMatch(/[\d,]+ stopped before an operation the engine does not support/);
    expect(r.stdout).toMatch(/metamorphic: {2}vmwrite-vmread-round-trip \d+, vmclear-vmptrld-keeps-values \d+ runs/);
    expect(r.stdout).toContain('metamorphic:  skipped snapshot-restore-replays: the engine runs whole cases and has no snapshot/restore');
    expect(r.stdout).toContain('CONFORMANT');
  });

  it('a broken copy (VMPTRLD of the VMXON pointer answers error 9) is caught, shrunk, saved and replayed', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator-cmd', wrongVmptrld, '--runs', '2000', '--seed', '1', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DIVERGENCE');
    expect(r.stdout).toContain('engine did:   VMfailValid(9)');
    expect(r.stdout).toContain('SDM allows:   VMfailValid(10)');
    expect(r.stdout).toMatch(/shrunk from \d+ to 5 steps/);
    const casePath = join(out, readdirSync(out).find((f) => f.endsWith('.case.json')) ?? '');
    expect(r.stdout).toContain(`--emulator-cmd '${wrongVmptrld}'`);
    const again = await cli('replay', casePath, '--emulator-cmd', wrongVmptrld);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('DIVERGES');
    const fixed = await cli('replay', casePath, '--emulator-cmd', example);
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).not.toContain('warning');
  });

  it('warns when --profile differs from the profile the emulator announced, and uses --profile', async () => {
    const r = await cli('run', '--emulator-cmd', example, '--profile', 'maximal', '--runs', '5', '--seed', '1', '--out', outDir());
    expect(r.stderr).toContain('warning: --profile maximal differs from the profile python-example announced (using --profile maximal)');
    expect(r.stderr).toMatch(/IA32_VMX_PROCBASED_CTLS2: 0x[0-9a-f]+ here, 0x25f7fff00000000 announced/);
    expect(r.stdout).toContain('profile maximal');
  });
});

describe('replay --emulator-cmd', () => {
  it('replays the regression cases of its Skylake profile conformantly', async () => {
    // The example announces a Skylake-class processor; a case kept on another profile (an inline random one) is not its to replay.
    const skylake = (name: string): boolean => JSON.parse(readFileSync(join(root, 'regressions', name), 'utf8')).profile === 'skylake';
    for (const name of readdirSync(join(root, 'regressions')).filter((f) => f.endsWith('.case.json') && skylake(f))) {
      const r = await cli('replay', join(root, 'regressions', name), '--emulator-cmd', example);
      expect(r.code, name).toBe(0);
      expect(r.stdout).toContain('on engine python-example, profile skylake');
    }
  });

  it("warns when the case's profile differs from the announced one, and uses the case's", async () => {
    const source = JSON.parse(readFileSync(join(root, 'regressions/vmptrld-vmxon-pointer-error-10.case.json'), 'utf8'));
    const file = join(outDir(), 'core2.case.json');
    writeFileSync(file, JSON.stringify({ ...source, profile: 'core2' }));
    const r = await cli('replay', file, '--emulator-cmd', example);
    expect(r.stderr).toContain(`warning: the profile of ${file} differs from the profile python-example announced`);
    expect(r.stdout).toContain('profile core2');
  });
});

describe('--emulator-cmd usage errors (exit code 2)', () => {
  it('a program that does not exist', async () => {
    const r = await cli('run', '--emulator-cmd', 'no-such-emulator-program --fast', '--runs', '5', '--out', outDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the emulator command could not be started (no-such-emulator-program --fast)');
  });

  it('more logical processors than the emulator supports', async () => {
    const r = await cli('run', '--emulator-cmd', example, '--cpus', '9', '--runs', '5', '--out', outDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('emulator python-example supports at most 8 logical processor(s); use --cpus 8');
  });

  it('--emulator and --emulator-cmd together', async () => {
    const r = await cli('run', '--emulator', 'x.mjs', '--emulator-cmd', example, '--runs', '5', '--out', outDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give --emulator or --emulator-cmd, not both');
  });

  it('an unclosed quote', async () => {
    const r = await cli('run', '--emulator-cmd', "python3 'emulator.py", '--runs', '5', '--out', outDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unclosed');
  });
});
