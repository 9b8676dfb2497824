/**
 * Builds the guest agent (bochs/agent/*.asm) with nasm into a cache directory, keyed by a hash of
 * its sources, so a run assembles it at most once. Nothing built is committed. Also runnable as a
 * script: `npm run build:bochs` prints the path of the built image.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../usage-error.ts';

/** nasm missing or failing: the run cannot start (exit 2, with what to install). */
export class BochsSetupError extends UsageError {}

/** Where the agent's sources are. */
export const AGENT_SOURCE_DIR = fileURLToPath(new URL('../../bochs/agent/', import.meta.url));

/** The cache directory: `$VMX_CONFORMANCE_CACHE`, else `$XDG_CACHE_HOME/vmx-conformance`, else `~/.cache/vmx-conformance`. */
export function cacheDir(): string {
  const env = process.env.VMX_CONFORMANCE_CACHE;
  if (env) return env;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vmx-conformance');
}

/** Assembles the agent if its cached image is missing or stale; returns the image's bytes. */
export function buildAgent(): Buffer {
  const sources = readdirSync(AGENT_SOURCE_DIR).filter((f) => f.endsWith('.asm') || f.endsWith('.inc')).sort();
  const hash = createHash('sha256');
  for (const file of sources) hash.update(file).update(readFileSync(join(AGENT_SOURCE_DIR, file)));
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(cacheDir(), 'bochs');
  const target = join(dir, `agent-${key}.bin`);
  if (!existsSync(target)) {
    mkdirSync(dir, { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    const result = spawnSync('nasm', ['-f', 'bin', '-o', temporary, 'image.asm'], { cwd: AGENT_SOURCE_DIR, encoding: 'utf8' });
    if (result.error !== undefined) {
      throw new BochsSetupError(`cannot assemble the Bochs guest agent: nasm could not be started (${result.error.message}); install it: apt-get install -y nasm`);
    }
    if (result.status !== 0) throw new BochsSetupError(`nasm failed on bochs/agent/image.asm:\n${result.stderr}`);
    renameSync(temporary, target);
  }
  return readFileSync(target);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildAgent();
  process.stdout.write(`${join(cacheDir(), 'bochs')}\n`);
}
