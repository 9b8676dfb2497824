/**
 * impl/'s hot files restate some constants as literals (a speed trick, impl/README.md "Constants
 * as literals"): processor-row offsets of impl/cpu-row.ts and segment-table offsets of
 * impl/vm-entry/guest-facts.ts, in `const enum K` blocks and in the local `const` copies of
 * impl/machine/. Each restated value must equal the exported one. (Values restated from spec/
 * are checked by each file itself when it loads, through impl/literals.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as row from '../../impl/cpu-row.ts';
import { assertLiterals } from '../../impl/literals.ts';
import { SEG_ACCESS_RIGHTS, SEG_BASE, SEG_LIMIT, SEG_SELECTOR, SEGMENT } from '../../impl/vm-entry/guest-facts.ts';

const implDir = path.resolve(import.meta.dirname, '../../impl');
const files = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));

const exported: Record<string, number> = {
  ...Object.fromEntries(Object.entries(row).filter(([, v]) => typeof v === 'number')),
  SEG_SELECTOR,
  SEG_BASE,
  SEG_LIMIT,
  SEG_ACCESS_RIGHTS,
  ...Object.fromEntries(Object.entries(SEGMENT).map(([name, v]) => [`SEGMENT_${name}`, v])),
};

/** Every restated (name, value) of a file: `NAME = n,` in an enum and `const NAME = n;` at top level. */
function restated(text: string): [string, number][] {
  const found: [string, number][] = [];
  for (const m of text.matchAll(/^\s+((?:S_|SEG_|SEGMENT_)[A-Z0-9_]+|STRIDE) = (-?\d+),$/gm)) found.push([m[1]!, Number(m[2])]);
  for (const m of text.matchAll(/^const ((?:S_|SEG_|SEGMENT_)[A-Z0-9_]+|STRIDE) = (-?\d+);$/gm)) found.push([m[1]!, Number(m[2])]);
  return found;
}

describe('literal copies in impl/ agree with the modules they copy', () => {
  const all = files(implDir).filter((f) => !f.endsWith('cpu-row.ts') && !f.endsWith('guest-facts.ts'));
  it('finds copies to check (the hot files of VM entry and VM exit have them)', () => {
    const withCopies = all.filter((f) => restated(fs.readFileSync(f, 'utf8')).length > 0).map((f) => path.relative(implDir, f));
    expect(withCopies).toEqual(expect.arrayContaining(['machine/base.ts', 'vm-entry/load-guest.ts', 'vm-exit/save-guest.ts', 'vm-entry/guest-segments.ts']));
  });
  for (const file of all) {
    const copies = restated(fs.readFileSync(file, 'utf8'));
    if (copies.length === 0) continue;
    it(path.relative(implDir, file), () => {
      for (const [name, value] of copies) expect([name, value]).toEqual([name, exported[name]]);
    });
  }
});

describe('assertLiterals (the load-time check of restated spec/ values)', () => {
  it('passes when every literal equals its expression', () => {
    expect(() => assertLiterals('f.ts', [[3, 3], [-1, 0xffff_ffff | 0]])).not.toThrow();
  });
  it('names the file and the literal that differs', () => {
    expect(() => assertLiterals('impl/x.ts', [[1, 1], [9, 13]])).toThrow('impl bug: impl/x.ts: literal 1 of K is 9, its expression is 13');
  });
});
