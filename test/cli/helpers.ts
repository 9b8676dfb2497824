/** Runs the command line in-process, capturing what it writes; fixture and scratch paths. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { vi } from 'vitest';
import { main } from '../../cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `vmx-conformance ...args`, with standard output and error captured. */
export async function cli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The path of a plug-in in test/fixtures. */
export const fixture = (name: string): string => resolve(import.meta.dirname, '../fixtures', name);

/** A fresh empty directory for --out. */
export const outDir = (): string => mkdtempSync(join(tmpdir(), 'vmx-run-'));
