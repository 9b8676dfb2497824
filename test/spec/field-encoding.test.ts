import { describe, expect, it } from 'vitest';
import { decodeFieldEncoding, encodeField, FIELD_ENCODING_CITATION } from '../../spec/field-encoding.ts';

// Expected values come from the encoding layout in SDM Vol. 3C §25.11.2 and the tables of
// Vol. 3D Appendix B (December 2023).
describe('decodeFieldEncoding', () => {
  it('reads 0x2801 as the high half of a 64-bit guest-state field with index 0 (VMCS link pointer)', () => {
    expect(decodeFieldEncoding(0x2801)).toEqual({
      accessHigh: true,
      index: 0,
      type: 'guest',
      width: 64,
      reservedBitsSet: false,
    });
  });

  it('reads 0x4400 (VM-instruction error) as a full 32-bit exit-information field with index 0', () => {
    expect(decodeFieldEncoding(0x4400)).toEqual({
      accessHigh: false,
      index: 0,
      type: 'exit-information',
      width: 32,
      reservedBitsSet: false,
    });
  });

  it('reads 0x0000 (VPID) as a 16-bit control field and 0x6c16 (host RIP) as natural-width host field 11', () => {
    expect(decodeFieldEncoding(0x0000)).toMatchObject({ width: 16, type: 'control', index: 0 });
    expect(decodeFieldEncoding(0x6c16)).toMatchObject({ width: 'natural', type: 'host', index: 11 });
  });

  it('takes the index from bits 9:1 (0x401e, secondary controls, has index 15)', () => {
    expect(decodeFieldEncoding(0x401e).index).toBe(15);
    expect(decodeFieldEncoding(0x03fe).index).toBe(511);
  });

  it('flags bit 12 and bits 31:15 as reserved', () => {
    expect(decodeFieldEncoding(0x1000).reservedBitsSet).toBe(true);
    expect(decodeFieldEncoding(0x8000).reservedBitsSet).toBe(true);
    expect(decodeFieldEncoding(0x8000_0000).reservedBitsSet).toBe(true);
    expect(decodeFieldEncoding(0x6fff).reservedBitsSet).toBe(false);
  });

  it('rejects numbers that are not 32-bit unsigned integers (a caller bug)', () => {
    expect(() => decodeFieldEncoding(-1)).toThrow(RangeError);
    expect(() => decodeFieldEncoding(2 ** 32)).toThrow(RangeError);
    expect(() => decodeFieldEncoding(1.5)).toThrow(RangeError);
  });
});

describe('encodeField', () => {
  it('builds encodings from their parts, inverse of decoding', () => {
    expect(encodeField({ width: 64, type: 'guest', index: 0 })).toBe(0x2800);
    expect(encodeField({ width: 64, type: 'guest', index: 0, accessHigh: true })).toBe(0x2801);
    expect(encodeField({ width: 32, type: 'exit-information', index: 1 })).toBe(0x4402);
    expect(encodeField({ width: 'natural', type: 'guest', index: 15 })).toBe(0x681e);
    for (const encoding of [0x0, 0x2013, 0x4826, 0x6c1c, 0x7fff & ~0x1000]) {
      const d = decodeFieldEncoding(encoding);
      expect(encodeField(d)).toBe(encoding);
    }
  });

  it('rejects an index outside bits 9:1', () => {
    expect(() => encodeField({ width: 16, type: 'control', index: 512 })).toThrow(RangeError);
    expect(() => encodeField({ width: 16, type: 'control', index: -1 })).toThrow(RangeError);
  });

  it('cites the section that defines the layout', () => {
    expect(FIELD_ENCODING_CITATION.section).toBe('25.11.2');
  });
});
