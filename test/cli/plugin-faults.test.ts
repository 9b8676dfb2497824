/**
 * A harness that never lies or hangs: each fixture misbehaves on purpose (at load time or in a
 * step) and the run must name the emulator and what went wrong, tell a crash from a hang, keep
 * the case, and exit 3 (an emulator fault), never 0 or a stack trace.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../../cli/load-engine.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { cli, fixture, outDir } from './helpers.ts';

const config = { profile: loadProfile('skylake').data, logicalProcessors: 1 };
const vmxon = { kind: 'vmxon', cpu: 0, pointer: '0x1000' } as const;

describe('plug-ins that misbehave while loading', () => {
  it('stops a module whose top level loops, with its own handshake timeout', async () => {
    const started = Date.now();
    const r = await cli('run', '--emulator', fixture('load-loop-engine.ts'), '--handshake-timeout', '3000', '--step-timeout', '600000', '--runs', '5', '--out', outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('emulator load-loop-engine hung during loading the module');
    expect(r.stderr).toContain('--handshake-timeout');
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('keeps what a module prints at load time out of a --json report, in both modes', async () => {
    for (const mode of [[], ['--in-process']]) {
      const r = await cli('run', '--emulator', fixture('load-print-engine.ts'), ...mode, '--json', '--seed', '1', '--runs', '10', '--out', outDir());
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).verdict).toBe('conformant');
      expect(r.stderr).toContain('[load-print-engine] load-print: hello from the top level');
    }
  });

  it('reports a module that calls process.exit(0) at load as a crash, not a pass', async () => {
    const r = await cli('run', '--emulator', fixture('load-exit-engine.ts'), '--runs', '5', '--out', outDir());
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('emulator load-exit-engine crashed during loading the module');
    expect(r.stderr).toContain('exited with code 0');
    expect(r.stdout).not.toContain('CONFORMANT');
  });

  it('never imports the plug-in in the main thread (a top-level process.exit would end the test run)', async () => {
    const engine = await loadEngine(fixture('load-exit-engine.ts'), { handshakeTimeoutMs: 60_000 }).catch((error: Error) => error);
    expect(engine).toBeInstanceOf(Error);
    expect((engine as Error).message).toContain('crashed during loading the module');
  });

  it('loads a TypeScript plug-in in a package that is not an ES-module package', async () => {
    const r = await cli('run', '--emulator', fixture('cjs-package/plugin.ts'), '--seed', '1', '--runs', '10', '--out', outDir());
    expect(r.stderr).not.toContain('failed to load');
    expect(r.code).toBe(0);
    const inProcess = await cli('run', '--emulator', fixture('cjs-package/plugin.ts'), '--in-process', '--seed', '1', '--runs', '10', '--out', outDir());
    expect(inProcess.code).toBe(0);
  });
});

describe('plug-ins that misbehave in a step', () => {
  it('reports process.exit in a step as a crash at once (no timeout waited), saves and shrinks the case, exit 3', async () => {
    const out = outDir();
    const started = Date.now();
    const r = await cli('run', '--emulator', fixture('exit-in-step-engine.ts'), '--seed', '1', '--runs', '100', '--step-timeout', '600000', '--out', out);
    // With a 600 s step timeout, finishing at all proves no attempt waited for it.
    expect(Date.now() - started).toBeLessThan(300_000);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('EMULATOR FAULT (crash)');
    expect(r.stdout).toContain('emulator exit-in-step-engine crashed during step vmxon (cpu0): exited with code 7');
    const saved = readdirSync(out).find((f) => f.endsWith('.case.json')) ?? '';
    const ops = JSON.parse(readFileSync(join(out, saved), 'utf8')).operations;
    expect(ops).toEqual([expect.objectContaining({ kind: 'vmxon' })]);
  });

  it('tells a crash from running out of memory from a hang', async () => {
    const oom = await loadEngine(fixture('oom-engine.ts'), { maxOldGenerationSizeMb: 48 });
    try {
      expect(() => oom.factory(config).step(vmxon)).toThrow(/oom-engine crashed during step vmxon \(cpu0\): ran out of memory/);
      expect(oom.lastFault()?.kind).toBe('crash');
    } finally {
      oom.dispose();
    }
    const hang = await loadEngine(fixture('hanging-engine.ts'), { stepTimeoutMs: 500 });
    try {
      expect(() => hang.factory(config).step(vmxon)).toThrow(/hanging-engine hung during step vmxon \(cpu0\): no answer within 500 ms/);
      expect(hang.lastFault()?.kind).toBe('hang');
    } finally {
      hang.dispose();
    }
  });

  it('shows console output of a step on stderr under the plug-in name, in both modes, never on stdout', async () => {
    for (const mode of [[], ['--in-process']]) {
      const r = await cli('run', '--emulator', fixture('chatty-engine.ts'), ...mode, '--json', '--seed', '1', '--runs', '20', '--out', outDir());
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).verdict).toBe('conformant');
      expect(r.stderr).toMatch(/\[chatty-engine\] chatty: VMXON on cpu\d/);
    }
  });

  it('reports process.exit in a step with --in-process as a crash, with the case saved', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('exit-in-step-engine.ts'), '--in-process', '--seed', '1', '--runs', '50', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('called process.exit(7)');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('reports garbage as an emulator fault, exit 3, with the case kept', async () => {
    const out = outDir();
    const r = await cli('run', '--emulator', fixture('garbage-engine.ts'), '--seed', '5', '--runs', '300', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('EMULATOR FAULT (garbage)');
    expect(r.stdout).toContain('is not an observation');
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });

  it('reports an oversized answer as its own fault, exit 3', async () => {
    const plugin = await loadEngine(fixture('oversized-engine.ts'));
    try {
      const engine = plugin.factory(config);
      for (const op of [
        { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x4' },
        { kind: 'write-memory', cpu: 0, address: '0x2000', value: '0x4' },
        vmxon,
        { kind: 'vmptrld', cpu: 0, pointer: '0x2000' },
      ] as const) engine.step(op);
      expect(() => engine.step({ kind: 'vmread', cpu: 0, encoding: '0x4002' })).toThrow(/oversized-engine sent an oversized answer during step vmread \(cpu0\): an answer of \d+ characters/);
      expect(plugin.lastFault()?.kind).toBe('oversized');
    } finally {
      plugin.dispose();
    }
  });
});
