/**
 * Profiles from files and their warnings on the command line: `run` and `replay` print a
 * profile's warnings on standard error and in the JSON report; `spec profiles --json` rows load
 * as `--profile` files.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

const dir = (): string => mkdtempSync(join(tmpdir(), 'vmx-profiles-'));
/** A real part whose MSRs allow secondary control 29, which this project does not know yet. */
const ICE_LAKE = resolve(import.meta.dirname, '../fixtures/real-profiles/ice-lake-i7-1065g7.json');

describe('profile warnings on the command line', () => {
  it('run accepts a real part with warnings, prints them on stderr and in the JSON report', async () => {
    const r = await cli('run', '--profile', ICE_LAKE, '--seed', '5', '--runs', '30', '--json', '--out', dir());
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/vmx-conformance: profile ice-lake-i7-1065g7: warning: Secondary processor-based .* control bit 29/);
    const report = JSON.parse(r.stdout);
    expect(report.conformant).toBe(true);
    expect(report.profileWarnings).toEqual(expect.arrayContaining([expect.stringMatching(/control bit 29/)]));
  });

  it('run prints no warning for a built-in profile', async () => {
    const r = await cli('run', '--profile', 'skylake', '--seed', '5', '--runs', '5', '--json', '--out', dir());
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning');
    expect(JSON.parse(r.stdout).profileWarnings).toEqual([]);
  });

  it('replay prints the warnings of a profile embedded in a case', async () => {
    const path = join(dir(), 'case.json');
    const testCase = {
      format: 'vmx-conformance-case/1',
      profile: JSON.parse(readFileSync(ICE_LAKE, 'utf8')),
      logicalProcessors: 1,
      operations: [{ kind: 'vmxon', cpu: 0, pointer: '0x1000' }],
    };
    writeFileSync(path, JSON.stringify(testCase));
    const r = await cli('replay', path, '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*control bit 29/);
    expect(JSON.parse(r.stdout).profileWarnings).toHaveLength(2);
  });
});

describe('vmx-conformance spec profiles --json', () => {
  it('prints each profile as the data of a profile file, and every row loads with --profile', async () => {
    const r = await cli('spec', 'profiles', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout).rows as { name: string; msrs: Record<string, string> }[];
    expect(rows.slice(0, 3).map((row) => row.name)).toEqual(['core2', 'skylake', 'maximal']);
    const out = dir();
    for (const row of rows) {
      const file = join(out, `${row.name}.json`);
      writeFileSync(file, JSON.stringify(row));
      const run = await cli('run', '--profile', file, '--seed', '1', '--runs', '3', '--json', '--out', out);
      expect(run.code, `${row.name}: ${run.stderr}`).toBe(0);
      expect(JSON.parse(run.stdout).profile).toBe(row.name);
    }
  });

  it('summarises as text with what follows from the MSRs and how many warnings each has', async () => {
    const r = await cli('spec', 'profiles');
    expect(r.stdout).toMatch(/^name\s+revisionId\s+physicalAddressWidth\s+vmwriteAnyField\s+secondaryControls\s+warnings\s+description/m);
    expect(r.stdout).toMatch(/^core2\s+13\s+36\s+false\s+false\s+0\s+Core 2/m);
  });
});
