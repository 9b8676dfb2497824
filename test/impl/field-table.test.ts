/**
 * impl/'s per-profile field look-up agrees with the profile's own answer (spec/profile.ts
 * `fieldExists`, from Appendix B "Field Encoding in VMCS") for every encoding, and its VMCS
 * region layout fits the region size IA32_VMX_BASIC[44:32] reports.
 */
import { describe, expect, it } from 'vitest';
import {
  ACCESS_16,
  ACCESS_32,
  ACCESS_64,
  ACCESS_HIGH,
  fieldTableFor,
  READ_ONLY,
  REGION_LAUNCH_WORD,
} from '../../impl/field-table.ts';
import { createProfile } from '../../spec/profile.ts';
import { CORE2, hex, MAXIMAL, SKYLAKE, variant } from './fixtures.ts';

describe('field table', () => {
  for (const data of [CORE2, SKYLAKE, MAXIMAL]) {
    it(`has an entry exactly for the encodings that exist on ${data.name}, with their width and type`, () => {
      const profile = createProfile(data);
      const table = fieldTableFor(profile);
      for (let encoding = 0; encoding < 0x8000; encoding++) {
        const entry = table.entry[encoding] as number;
        expect(entry >= 0, hex(encoding)).toBe(profile.fieldExists(encoding));
        if (entry < 0) continue;
        const width = (encoding >> 13) & 3;
        const expected =
          (encoding & 1) === 1 ? ACCESS_HIGH : width === 0 ? ACCESS_16 : width === 2 ? ACCESS_32 : ACCESS_64;
        expect(entry & 3).toBe(expected);
        expect((entry & READ_ONLY) !== 0).toBe(((encoding >> 10) & 3) === 1);
      }
    });

    it(`lays out the fields of ${data.name} inside the VMCS region, after the header, without overlap`, () => {
      const profile = createProfile(data);
      const table = fieldTableFor(profile);
      expect(table.regionWords * 4).toBeLessThanOrEqual(profile.regionSize);
      const owner = new Map<number, number>();
      for (let encoding = 0; encoding < 0x8000; encoding++) {
        const entry = table.entry[encoding] as number;
        if (entry < 0) continue;
        const word = entry >> 3;
        if ((entry & 3) === ACCESS_HIGH) {
          expect(word).toBe((table.entry[encoding - 1] as number) >> 3);
          continue;
        }
        const words = (entry & 3) === ACCESS_64 ? [word, word + 1] : [word];
        for (const w of words) {
          expect(owner.get(w), `${hex(encoding)} overlaps ${hex(owner.get(w) ?? 0)}`).toBeUndefined();
          owner.set(w, encoding);
          expect(w).toBeGreaterThanOrEqual(REGION_LAUNCH_WORD + 2);
          expect(w).toBeLessThan(table.regionWords);
        }
      }
      expect(table.errorWord).toBe((table.entry[0x4400] as number) >> 3);
    });
  }

  it('is built once per profile', () => {
    const profile = createProfile(SKYLAKE);
    expect(fieldTableFor(profile)).toBe(fieldTableFor(profile));
  });

  it('refuses a profile whose VMCS region is too small for impl/ layout, saying so', () => {
    const basic = (BigInt(SKYLAKE.msrs.IA32_VMX_BASIC) & ~(0x1fffn << 32n)) | (0x100n << 32n);
    const small = createProfile(variant(SKYLAKE, 'small-region', { msrs: { IA32_VMX_BASIC: hex(basic) } }));
    expect(() => fieldTableFor(small)).toThrow(/region size of 256 bytes/);
  });

  it('refuses a profile without the VM-instruction error field', () => {
    const profile = createProfile(SKYLAKE);
    const broken = { ...profile, fieldExists: (encoding: number) => encoding !== 0x4400 && profile.fieldExists(encoding) };
    expect(() => fieldTableFor(broken)).toThrow(/VM-instruction error field/);
  });
});
