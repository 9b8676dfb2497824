/**
 * A Bochs that is missing, crashes, hangs, prints garbage or stops in the middle of a batch is an
 * emulator fault (exit 3) with a message naming it; the case it was running is saved. The fake
 * `bochs` (fixtures/fake-bochs.sh) misbehaves on purpose; VMX_CONFORMANCE_BOCHS points at it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, outDir } from '../cli/helpers.ts';

const FAKE = resolve(import.meta.dirname, 'fixtures/fake-bochs.sh');
const saved = { ...process.env };

function useFake(mode: string, probeOk = false): void {
  process.env.VMX_CONFORMANCE_BOCHS = FAKE;
  process.env.FAKE_BOCHS_MODE = mode;
  process.env.FAKE_BOCHS_PROBE_OK = probeOk ? '1' : '0';
  process.env.FAKE_BOCHS_STATE = join(outDir(), 'boots');
}

const run = (out: string, ...more: string[]) =>
  cli('run', '--emulator', 'bochs', '--bochs-model', 'corei7_skylake_x', '--runs', '20', '--seed', '3', '--out', out, ...more);

afterEach(() => {
  process.env = { ...saved };
});

describe('Bochs faults', () => {
  it('a missing Bochs is an emulator fault that says how to install it', async () => {
    process.env.VMX_CONFORMANCE_BOCHS = '/nonexistent/bochs';
    const r = await run(outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/could not be started.*apt-get install/);
  });

  it('a Bochs killed by a signal is a crash, not a hang', async () => {
    useFake('crash');
    const r = await run(outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/crashed during the handshake: reading the capability MSRs: Bochs was killed by SIGSEGV/);
  });

  it('a Bochs that does not finish in time is a hang', async () => {
    useFake('hang');
    const started = Date.now();
    const r = await run(outDir(), '--boot-timeout', '1500');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/hung .*did not finish within the time limit/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('output without the agent is garbage', async () => {
    useFake('garbage');
    const r = await run(outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/printed garbage .*no agent marker.*this is not Bochs/);
  });

  it('a Bochs that stops in the middle of a batch faults on the case it was running, which is saved', async () => {
    useFake('mid-batch', true);
    const out = outDir();
    const r = await run(out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/crashed in case \d+ .*before the guest agent finished the batch/);
    expect(r.stderr).toMatch(/replay it with: .*--emulator bochs --bochs-model corei7_skylake_x/);
    const files = readdirSync(out).filter((f) => f.endsWith('-fault.case.json'));
    expect(files).toHaveLength(1);
    expect(existsSync(join(out, files[0] as string))).toBe(true);
  });

  it('a result record the agent never prints is garbage', async () => {
    useFake('bad-record', true);
    const r = await run(outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/printed garbage in case \d+ .*unknown record "Q"/);
  });

  it('--emulator bochs without --bochs-model is a usage error', async () => {
    const r = await cli('run', '--emulator', 'bochs', '--runs', '1', '--out', outDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--bochs-model/);
  });
});

describe('Bochs hangs found early', () => {
  afterEach(() => {
    process.env = { ...saved };
  });

  it('an agent that goes silent in the middle of a batch is a hang after the silence limit, not the boot time limit', async () => {
    useFake('stall', true);
    const started = Date.now();
    const r = await cli('run', '--emulator', 'bochs', '--bochs-model', 'corei7_skylake_x', '--runs', '1', '--seed', '3', '--silence-timeout', '1000', '--out', outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/hung .*the guest agent printed nothing for 1000 ms/);
    // The hang, the run alone that reproduces it, and one per shrinking round (each round is one
    // boot that stops at its first silent candidate); the boot time limit is 120 s.
    const rounds = Number(/in (\d+) batched rounds/.exec(r.stderr)?.[1] ?? 0);
    expect(Date.now() - started).toBeLessThan(1000 * (rounds + 2) + 30_000);
  });
});
