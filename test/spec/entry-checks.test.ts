/**
 * The VM-entry check catalogue as a whole: every group present in SDM order, ids unique across
 * groups, at least 300 checks, and the CLI prints it.
 */
import { describe, expect, it } from 'vitest';
import { ENTRY_CHECK_GROUPS, ENTRY_CHECKS, ENTRY_CHECKS_BY_GROUP, entryCheckById } from '../../spec/entry-checks/index.ts';
import { cli } from '../cli/helpers.ts';

describe('the VM-entry check catalogue', () => {
  it('has at least 300 checks, every group non-empty, ids unique across groups', () => {
    expect(ENTRY_CHECKS.length).toBeGreaterThanOrEqual(300);
    for (const group of ENTRY_CHECK_GROUPS) expect(ENTRY_CHECKS_BY_GROUP[group].length, group).toBeGreaterThan(0);
    const ids = ENTRY_CHECKS.map((check) => check.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists the groups in the order the SDM performs them', () => {
    expect(Object.keys(ENTRY_CHECKS_BY_GROUP)).toEqual([...ENTRY_CHECK_GROUPS]);
    expect(ENTRY_CHECKS[0]?.group).toBe('basic');
    expect(ENTRY_CHECKS.at(-1)?.group).toBe('msr-load');
  });

  it('finds a check by id', () => {
    expect(entryCheckById('exit-controls.msr-store-aligned')?.consequence).toEqual({ kind: 'vmfail-valid', error: 7 });
    expect(entryCheckById('no-such.check')).toBeUndefined();
  });

  it('gives each consequence the shape of its group', () => {
    for (const check of ENTRY_CHECKS) {
      const kind = check.consequence.kind;
      if (check.group.startsWith('guest-')) expect(kind, check.id).toBe('entry-failure-guest-state');
      else if (check.group === 'msr-load') expect(kind, check.id).toBe('entry-failure-msr-load');
      else if (check.group !== 'basic') expect(kind, check.id).toBe('vmfail-valid');
    }
  });

  it('is printed by `spec checks`, as text and as JSON with every entry', async () => {
    const text = await cli('spec', 'checks');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^exit-controls\.msr-store-aligned\s+VMfailValid\(7\)\s+§26\.2\.1\.2 \(2016; 2023 §27\.2\.1\.2\)\s+read$/m);
    const json = await cli('spec', 'checks', '--json');
    const rows = (JSON.parse(json.stdout) as { rows: { id: string; citation: { title: string } }[] }).rows;
    expect(rows).toHaveLength(ENTRY_CHECKS.length);
    expect(rows.every((row) => row.citation.title.length > 0)).toBe(true);
  });
});
