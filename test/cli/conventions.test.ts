/** The command line as a new user meets it: version, help, exit codes of usage errors, exact seeds. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, outDir } from './helpers.ts';

const version = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('vmx-conformance conventions', () => {
  it('prints its version with --version, exit 0', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('exits 2 with no arguments, printing usage on stderr', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: vmx-conformance');
    expect(r.stdout).toBe('');
  });

  it('exits 2 for help on an unknown command, 0 for help on a known one', async () => {
    const unknown = await cli('help', 'bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no command "bogus"');
    expect((await cli('help', 'run')).code).toBe(0);
  });

  it('takes the largest 32-bit seed exactly and refuses one above 32 bits', async () => {
    const top = await cli('run', '--seed', '4294967295', '--runs', '5', '--out', outDir());
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('seed 4294967295');
    const above = await cli('run', '--seed', '4294967296', '--runs', '5', '--out', outDir());
    expect(above.code).toBe(2);
    expect(above.stderr).toContain('--seed must be an integer from -2147483648 to 4294967295');
    expect((await cli('run', '--seed', '123456789012345678901234', '--runs', '5')).code).toBe(2);
  });

  it.each(['0', '-5'])('refuses --step-timeout %s and --handshake-timeout %s as usage errors', async (value) => {
    const step = await cli('run', '--step-timeout', value, '--runs', '5');
    expect(step.code).toBe(2);
    expect(step.stderr).toContain('must be a positive number of milliseconds');
    expect((await cli('replay', 'x.json', '--handshake-timeout', value)).code).toBe(2);
  });
});

describe('vmx-conformance in a pipeline', () => {
  it('ends quietly when the reader of standard output goes away (run | head -1)', async () => {
    const bin = resolve(import.meta.dirname, '../../bin/vmx-conformance.js');
    const child = spawn(process.execPath, [bin, 'run', '--seed', '1', '--runs', '30', '--out', outDir()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += String(chunk);
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).not.toContain('    at ');
    expect(code).toBe(0);
  });
});
