/**
 * impl/'s BigInt-free hex reading and writing agrees with spec/hex.ts on every 64-bit value and
 * rejects what spec/hex.ts rejects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { halvesOf, hexOf, parseHexInto } from '../../impl/hex-halves.ts';
import { isHex, toHex } from '../../spec/hex.ts';

const join = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

describe('hex halves', () => {
  it('parse any 64-bit value, in any case and with leading zeros, into the right halves', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean(), fc.nat(4), (value, upper, zeros) => {
        const digits = value.toString(16).padStart(Math.min(16, value.toString(16).length + zeros), '0');
        const text = `0${upper ? 'X' : 'x'}${upper ? digits.toUpperCase() : digits}`;
        const out = new Int32Array(2);
        parseHexInto(text, out, 0, 'test');
        expect(join(out[0] as number, out[1] as number)).toBe(value);
      }),
      { seed: 1 },
    );
  });

  it('print the canonical spelling of spec/hex.ts', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (value) => {
        const [lo, hi] = halvesOf(value);
        expect(hexOf(lo, hi)).toBe(toHex(value));
      }),
      { seed: 2 },
    );
    expect(hexOf(0, 0)).toBe('0x0');
    expect(hexOf(-1, -1)).toBe('0xffffffffffffffff');
    expect(hexOf(1, 1)).toBe('0x100000001');
  });

  it('reject exactly what spec/hex.ts rejects', () => {
    const texts = ['', '0', '0x', '0X', 'x12', '00x1', '0x 1', '0x-1', '0x1g', '0xg00000000', '0x12345678123456789', '1x10', '0x٣', '0xＡ', '0x1İ', '0xŁ', '0x\u0161'];
    for (const text of texts) {
      expect(isHex(text)).toBe(false);
      expect(() => parseHexInto(text, new Int32Array(2), 0, 'field')).toThrow(/field: not a 64-bit hexadecimal value/);
    }
    expect(() => parseHexInto(12, new Int32Array(2), 0, 'field')).toThrow(RangeError);
    expect(() => parseHexInto(undefined, new Int32Array(2), 0, 'field')).toThrow(RangeError);
  });

  it('agree with spec/hex.ts on random strings after 0x (digits mixed with look-alike code units)', () => {
    // Code units whose low byte is a digit or letter test that the parser looks at whole units.
    const unit = fc.constantFrom(...'0123456789abcdefABCDEFgxX -_\u0130\u0141\u0161\u0663\uff21\u0030\u0230');
    fc.assert(
      fc.property(fc.constantFrom('0x', '0X'), fc.array(unit, { maxLength: 20 }), (prefix, units) => {
        const text = prefix + units.join('');
        const out = new Int32Array(2);
        if (isHex(text)) {
          parseHexInto(text, out, 0, 'field');
          expect([out[0], out[1]]).toEqual(halvesOf(BigInt(text)));
        } else {
          expect(() => parseHexInto(text, out, 0, 'field')).toThrow(RangeError);
        }
      }),
      { seed: 3, numRuns: 2000 },
    );
  });
});

