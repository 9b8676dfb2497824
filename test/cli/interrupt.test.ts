/**
 * Ctrl-C (SIGINT) during a run whose main thread waits (Bochs boots, `--jobs` workers): the run
 * stops its child processes, says how far it got and where files go, and exits with 130.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outDir } from './helpers.ts';

const BIN = resolve(import.meta.dirname, '../../bin/vmx-conformance.js');
const FAKE_BOCHS = resolve(import.meta.dirname, '../bochs/fixtures/fake-bochs.sh');

/** Starts the CLI, waits until `ready()` holds (polled), sends SIGINT; resolves with its status and output. */
function interrupt(args: string[], env: NodeJS.ProcessEnv, ready: (stderr: string, pid: number) => boolean): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.stdout.resume();
    const poll = setInterval(() => {
      if (ready(stderr, child.pid as number)) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 200);
    const limit = setTimeout(() => {
      clearInterval(poll);
      child.kill('SIGKILL');
      fail(new Error(`no exit within the limit; stderr: ${stderr}`));
    }, 90_000);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(limit);
      done({ code, stderr });
    });
  });
}

/** Whether `pid` still runs: a killed child whose parent has exited may linger as a zombie (state Z) until reaped. */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
};

describe('Ctrl-C', () => {
  it('stops a Bochs run: kills the Bochs it waits for, says how far it got, exits 130', async () => {
    const dir = outDir();
    const pidFile = join(dir, 'bochs.pid');
    const r = await interrupt(
      ['run', '--emulator', 'bochs', '--bochs-model', 'corei7_skylake_x', '--runs', '20', '--seed', '3', '--jobs', '1', '--out', join(dir, 'out')],
      { VMX_CONFORMANCE_BOCHS: FAKE_BOCHS, FAKE_BOCHS_MODE: 'hang', FAKE_BOCHS_PROBE_OK: '1', FAKE_BOCHS_STATE: join(dir, 'boots'), FAKE_BOCHS_PIDFILE: pidFile },
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(stopped 1 child process\): 0 of 20 cases judged \(seed 3\); no new divergence so far/);
    expect(r.stderr).toMatch(/nothing was saved in .*out/);
    expect(alive(Number(readFileSync(pidFile, 'utf8').trim()))).toBe(false);
  });

  it('stops a run on emulator processes in --jobs workers and kills the processes', async () => {
    const hang = resolve(import.meta.dirname, '../fixtures/processes/hang.py');
    const r = await interrupt(
      ['run', '--emulator-cmd', `python3 ${hang}`, '--runs', '400', '--seed', '1', '--jobs', '2', '--out', outDir()],
      {},
      (_stderr, pid) => {
        // The main thread's emulator (its hello gave the profile) and one per worker.
        const found = children(pid);
        if (found.length >= 3) emulators = found;
        return found.length >= 3;
      },
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(stopped 3 child processes\): 0 of \d+ cases run \(seed 1\); no divergence or fault found so far/);
    for (const pid of emulators) expect(alive(pid)).toBe(false);
  });
});

let emulators: number[] = [];

/** The pids of `pid`'s child processes. */
function children(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

describe('the SIGINT handler', () => {
  it('turns the cursor and line wrap back on when standard error is a terminal, stops the run, and exits 130', async () => {
    const { handleInterrupt, RESTORE_TERMINAL } = await import('../../cli/interrupt.ts');
    const written: string[] = [];
    const write = process.stderr.write;
    const tty = process.stderr.isTTY;
    let stopped = false;
    let code: number | undefined;
    process.stderr.isTTY = true;
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    const remove = handleInterrupt({ stop: () => void (stopped = true), describe: () => '7 of 9 cases run' }, (c) => void (code = c));
    try {
      process.emit('SIGINT');
    } finally {
      remove();
      process.stderr.write = write;
      process.stderr.isTTY = tty;
    }
    expect(stopped).toBe(true);
    expect(code).toBe(130);
    expect(written.join('')).toContain(RESTORE_TERMINAL);
    expect(written.join('')).toMatch(/interrupted: 7 of 9 cases run/);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
