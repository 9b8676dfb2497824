/**
 * `--emulator-cmd` with emulators that misbehave on purpose (test/fixtures/processes/): each fault
 * gets its own message naming the emulator, the case and what went wrong, exit code 3, and the
 * case that caused it is saved.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, type CliResult } from './helpers.ts';

const fixture = (name: string): string => `python3 ${resolve(import.meta.dirname, '../fixtures/processes', name)}`;
const outDir = (): string => mkdtempSync(join(tmpdir(), 'vmx-fault-'));

async function runWith(name: string, out: string, ...extra: string[]): Promise<CliResult> {
  return cli('run', '--emulator-cmd', fixture(name), '--seed', '1', '--runs', '20', '--out', out, ...extra);
}

function savedCase(out: string): { operations: unknown[]; origin: { note: string } } {
  const file = readdirSync(out).find((f) => f.endsWith('-fault.case.json'));
  expect(file).toBeDefined();
  return JSON.parse(readFileSync(join(out, file ?? ''), 'utf8'));
}

describe('emulator faults (exit code 3, case saved)', () => {
  it('a crash names the signal and quotes the last lines of standard error', async () => {
    const out = outDir();
    const r = await runWith('crash.py', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/emulator crasher \(python3 .*crash\.py\) crashed in case 0 \(\d+ operations\): the emulator was killed by signal SIGSEGV/);
    expect(r.stderr).toContain('    segmentation fault in the VMXON handler');
    expect(r.stderr).toContain('[python3 crash.py] segmentation fault in the VMXON handler');
    expect(savedCase(out).origin.note).toContain('emulator fault (crash)');
  });

  it('an exit with a non-zero status is a crash with that status', async () => {
    const out = outDir();
    const r = await runWith('exit-status.py', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/emulator quitter .* crashed in case 0 .*exited with status 7/);
    expect(r.stderr).toContain('out of emulator licences');
    expect(savedCase(out).operations.length).toBeGreaterThan(0);
  });

  it('a hang is told apart from a crash and names the time limit', async () => {
    const out = outDir();
    const r = await runWith('hang.py', out, '--step-timeout', '800');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/emulator hanger .* hung \(no answer in time\) in case 0 .*no line from the emulator within 800 ms/);
    expect(r.stderr).not.toContain('crashed');
    savedCase(out);
  });

  it('a line that is not JSON is garbage, quoted', async () => {
    const out = outDir();
    const r = await runWith('garbage.py', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('emulator garbler');
    expect(r.stderr).toContain('printed garbage in case 0');
    expect(r.stderr).toContain('a line that is not JSON: "VMXON OK!!! (this is not JSON)"');
    savedCase(out);
  });

  it('JSON that breaks the schema is garbage, with the field at fault', async () => {
    const out = outDir();
    const r = await runWith('bad-observation.py', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('emulator misspeller');
    expect(r.stderr).toContain('printed garbage in case 0');
    expect(r.stderr).toContain('observation.flags');
  });

  it('output that stops mid-line with a clean exit is truncated, not a crash', async () => {
    const out = outDir();
    const r = await runWith('truncated.py', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/emulator truncator .* stopped in the middle of its answer \(truncated output\) in case 0/);
    expect(r.stderr).toContain('exited with status 0 before finishing its answer; its last line has no newline');
    savedCase(out);
  });

  it('another protocol version is refused at the handshake', async () => {
    const r = await runWith('wrong-version.py', outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('speaks another protocol version during the handshake: its hello says protocol 2; this harness speaks protocol 1');
    expect(r.stderr).toContain('wrong-version.py');
  });

  it('a line over 1 MiB is oversized', async () => {
    const out = outDir();
    const r = await runWith('oversized.py', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/emulator flooder .* printed an oversized line in case 0 .*1048576 bytes/);
    savedCase(out);
  });

  it('an error message from the emulator is an emulator fault with its text', async () => {
    const r = await runWith('error.py', outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('emulator reporter');
    expect(r.stderr).toContain('reported an internal error in case 0');
    expect(r.stderr).toContain('VMCS cache corrupted');
  });

  it('replaying a saved fault case reproduces the fault', async () => {
    const out = outDir();
    await runWith('garbage.py', out);
    const file = join(out, readdirSync(out).find((f) => f.endsWith('-fault.case.json')) ?? '');
    const r = await cli('replay', file, '--emulator-cmd', fixture('garbage.py'));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('printed garbage in case 0');
  });
});

describe('time limits', () => {
  it('honours --step-timeout: a hang is stopped soon after the limit', async () => {
    const started = Date.now();
    const r = await runWith('hang.py', outDir(), '--step-timeout', '1500');
    const elapsed = Date.now() - started;
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('within 1500 ms');
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    // The hang, then one more per shrinking round and one to reproduce it (never one per
    // candidate); process start-ups take a few seconds on a busy machine at most.
    const rounds = Number(/in (\d+) rounds on/.exec(r.stderr)?.[1] ?? 0);
    expect(elapsed).toBeLessThan(1500 * (rounds + 2) + 20_000);
  });

  it('honours --handshake-timeout separately from the step limit', async () => {
    const started = Date.now();
    const r = await runWith('silent.py', outDir(), '--handshake-timeout', '1200', '--step-timeout', '60000');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('hung (no answer in time) during the handshake: no line from the emulator within 1200 ms');
    expect(Date.now() - started).toBeLessThan(1200 + 20_000);
  });
});

describe('shrinking a fault (on fresh processes, one per round)', () => {
  it('shrinks a crash that depends on the case to the operation causing it and keeps the original', async () => {
    const out = outDir();
    const r = await runWith('crash-on-vmxon.py', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/shrunk from (\d+) to 1 operations in \d+ rounds on \d+ fresh processes; the case as first found is saved to .*-fault\.original\.case\.json/);
    const shrunk = savedCase(out);
    expect(shrunk.operations).toEqual([expect.objectContaining({ kind: 'vmxon' })]);
    const originalFile = readdirSync(out).find((f) => f.endsWith('-fault.original.case.json')) ?? '';
    const original = JSON.parse(readFileSync(join(out, originalFile), 'utf8')) as { operations: { kind: string }[] };
    expect(original.operations.length).toBeGreaterThan(1);
    expect(original.operations.some((op) => op.kind === 'vmxon')).toBe(true);
  });

  it('shrinks a hang with one step time-out per round, not one per candidate', async () => {
    const out = outDir();
    const r = await runWith('hang-on-vmxon.py', out, '--step-timeout', '1000');
    expect(r.code).toBe(3);
    const m = /shrunk from (\d+) to 1 operations in (\d+) rounds on (\d+) fresh processes/.exec(r.stderr);
    expect(m).not.toBeNull();
    // A process per round, plus the one that reproduced the hang: each hang ends a process.
    expect(Number(m?.[3])).toBe(Number(m?.[2]) + 1);
    expect(savedCase(out).operations).toEqual([expect.objectContaining({ kind: 'vmxon' })]);
  });
});
