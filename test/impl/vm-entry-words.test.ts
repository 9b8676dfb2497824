/**
 * The helpers phase one of VM entry reads fields and tests addresses with
 * (impl/vm-entry/vmcs-words.ts): absent fields read 0, canonicity for 48-bit linear addresses
 * (SDM Vol. 3A §3.3.7.1 "Canonical Addressing"), and the last byte of an MSR area computed
 * without truncation (SDM Vol. 3C, December 2023, §27.2.1.2 "VM-Exit Control Fields").
 */
import { describe, expect, it } from 'vitest';
import { areaEndBeyond, half, high, low, notCanonical, on } from '../../impl/vm-entry/vmcs-words.ts';

describe('reading VMCS words', () => {
  const words = Int32Array.of(0, 0x1234_5678, -1, 0x7fff_0001);

  it('reads the words of a field the profile has', () => {
    expect(low(words, 1, 0)).toBe(0x1234_5678);
    expect(high(words, 1, 1)).toBe(0x7fff_0001);
    expect(half(words, 1, 0)).toBe(0x5678);
  });

  it('reads a field the profile lacks (word -1) as 0', () => {
    expect([low(words, 1, -1), high(words, 1, -1), half(words, 1, -1)]).toEqual([0, 0, 0]);
  });

  it('tests single bits, bit 31 included', () => {
    expect([on(-1 << 31, 31), on(2, 1), on(2, 0)]).toEqual([true, true, false]);
  });
});

describe('canonical 48-bit addresses', () => {
  it('accepts bits 63:47 all 0 or all 1 and rejects anything else', () => {
    expect(notCanonical(0x0000_7fff)).toBe(false);
    expect(notCanonical(0xffff_8000 | 0)).toBe(false);
    expect(notCanonical(0x0000_8000)).toBe(true);
    expect(notCanonical(0xfffe_8000 | 0)).toBe(true);
  });
});

describe('the last byte of an MSR area', () => {
  const width46 = ~(2 ** 14 - 1); // high-half bits at or above bit 46

  it('carries out of the low half into the high half', () => {
    expect(areaEndBeyond(0xffff_fff0 | 0, 0x3fff, 1, width46)).toBe(false);
    expect(areaEndBeyond(0xffff_fff0 | 0, 0x3fff, 2, width46)).toBe(true);
  });

  it('counts a carry out of bit 63 as beyond any width', () => {
    expect(areaEndBeyond(0xffff_fff0 | 0, -1, 2, 0)).toBe(true);
  });

  it('handles the largest count without losing precision', () => {
    expect(areaEndBeyond(0, 0, 0xffff_ffff, width46)).toBe(false);
    expect(areaEndBeyond(0, 0x3ff0, 0xffff_ffff, width46)).toBe(false);
    expect(areaEndBeyond(0, 0x3ff1, 0xffff_ffff, width46)).toBe(true);
  });
});
