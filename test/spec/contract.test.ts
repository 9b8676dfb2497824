import { describe, expect, it } from 'vitest';
import { formatCitation, sdm, SDM_EDITION } from '../../spec/citation.ts';
import { canonicalHex, isHex, MAX_U64, parseHex, toHex } from '../../spec/hex.ts';
import { ARITHMETIC_FLAGS, ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import { VMX_INSTRUCTION_KINDS } from '../../spec/operations.ts';

describe('hex values of the engine contract', () => {
  it('accept 1 to 16 hex digits after 0x, in either case', () => {
    expect(isHex('0x0')).toBe(true);
    expect(isHex('0XFFFFFFFFFFFFFFFF')).toBe(true);
    expect(isHex('0x')).toBe(false);
    expect(isHex('0x10000000000000000')).toBe(false);
    expect(isHex(16)).toBe(false);
  });

  it('parse, print and canonicalise', () => {
    expect(parseHex('0x00Ff')).toBe(255n);
    expect(() => parseHex('ff')).toThrow(/not a 64-bit hexadecimal value: "ff"/);
    expect(toHex(MAX_U64)).toBe('0xffffffffffffffff');
    expect(() => toHex(-1n)).toThrow(RangeError);
    expect(() => toHex(MAX_U64 + 1n)).toThrow(RangeError);
    expect(canonicalHex('0x000ABC')).toBe('0xabc');
  });
});

describe('citations', () => {
  it('print volume, section, title and edition', () => {
    expect(formatCitation(sdm('31.4', 'VM Instruction Error Numbers'))).toBe(
      `SDM Vol. 3C §31.4 "VM Instruction Error Numbers" (${SDM_EDITION})`,
    );
    expect(sdm('Appendix B', 'Field Encoding in VMCS', '3D').volume).toBe('3D');
  });
});

describe('observation and operation vocabularies', () => {
  it('use the RFLAGS positions of CF, PF, AF, ZF, SF and OF', () => {
    expect(ARITHMETIC_FLAGS).toEqual({ CF: 1, PF: 4, AF: 16, ZF: 64, SF: 128, OF: 2048 });
    expect(Object.values(ARITHMETIC_FLAGS).reduce((a, b) => a | b, 0)).toBe(ARITHMETIC_FLAGS_MASK);
  });

  it('name the 13 VMX instructions', () => {
    expect(new Set(VMX_INSTRUCTION_KINDS).size).toBe(13);
  });
});
