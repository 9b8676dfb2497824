/**
 * The output directory of `run`: checked before the run starts (so a divergence found after an
 * hour is never lost to an unwritable `--out`), and files written atomically (a temporary file
 * renamed into place, so a reader never sees half a case).
 */
import { lstatSync, mkdirSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './usage-error.ts';

/** A directory ready for writing; `release` removes it again if it was created and stayed empty. */
export interface OutputDir {
  path: string;
  release(): void;
}

/**
 * Creates `dir` if needed (one level at a time: Node's recursive mkdir can spin on /proc) and
 * proves it writable with a probe file. Throws {@link UsageError} naming the problem.
 */
export function prepareOutputDir(dir: string): OutputDir {
  const path = resolve(dir);
  const created: string[] = [];
  try {
    const missing: string[] = [];
    let at = path;
    while (!exists(at)) {
      missing.unshift(at);
      const up = dirname(at);
      if (up === at) break;
      at = up;
    }
    for (const level of missing) {
      mkdirSync(level);
      created.unshift(level);
    }
    if (!statSync(path).isDirectory()) throw Object.assign(new Error('it exists and is not a directory'), { code: 'ENOTDIR' });
    const probe = join(path, `.vmx-conformance-probe-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOTDIR' || code === 'EEXIST' ? 'it, or a directory above it, is not a directory' : (error as Error).message;
    throw new UsageError(`--out ${dir}: cannot write failing cases there (${reason})`);
  }
  return {
    path,
    release() {
      for (const level of created) {
        try {
          rmdirSync(level);
        } catch {
          return; // not empty: something was saved, keep it
        }
      }
    },
  };
}

/** Writes `text` to `file` through a temporary file in the same directory and a rename. */
export function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/** A file name part made of safe characters only (profile and engine names may hold `/`). */
export function fileNamePart(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || '_';
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

