/**
 * impl/'s VM-entry and VM-exit files read most VMCS fields straight from the region,
 * `v[base + w.NAME]`, without the "0 when the profile lacks the field" test of
 * impl/vm-entry/vmcs-words.ts (a speed trick, impl/README.md). That is exact only for fields
 * every processor has: those spec/fields.ts lists with no requirement (SDM Vol. 3D, Appendix B
 * "Field Encoding in VMCS"). Every direct read must name such a field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIELD, VMCS_FIELDS } from '../../spec/fields.ts';

const implDir = path.resolve(import.meta.dirname, '../../impl');
const dirs = ['vm-entry', 'vm-exit'];
const always = new Set(
  Object.entries(FIELD)
    .filter(([, encoding]) => VMCS_FIELDS.find((f) => f.encoding === encoding)?.requires.length === 0)
    .map(([name]) => name),
);

describe('direct VMCS field reads in impl/ name fields every processor has', () => {
  const files = dirs.flatMap((d) => fs.readdirSync(path.join(implDir, d)).map((f) => path.join(implDir, d, f)));
  it('the set of always-present fields is the one the SDM gives every processor (guest CR0 yes, EPT pointer no)', () => {
    expect([always.has('GUEST_CR0'), always.has('GUEST_TR_ACCESS_RIGHTS'), always.has('EPT_POINTER'), always.has('GUEST_IA32_PAT')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const reads = [...text.matchAll(/\(v\[base \+ [a-z]+(?:\.words)?\.([A-Z0-9_]+)(?: \+ 1)?\] as number\)/g)].map((m) => m[1]!);
    if (reads.length === 0) continue;
    it(path.relative(implDir, file), () => {
      expect(reads.filter((name) => !always.has(name))).toEqual([]);
    });
  }
});
