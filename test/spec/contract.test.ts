import { describe, expect, it } from 'vitest';
import { formatCitation, sdm, SDM_EDITION } from '../../spec/citation.ts';
import { canonicalHex, isHex, MAX_U64, parseHex, toHex } from '../../spec/hex.ts';
import { ARITHMETIC_FLAGS, ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import { initialProcessorState } from '../../spec/initial-state.ts';
import { VMX_INSTRUCTION_KINDS } from '../../spec/operations.ts';
import { observationSchema, operationSchema } from '../../spec/schemas.ts';

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

describe('the set operation (spec/schemas.ts)', () => {
  const parse = (what: string, value: number) => operationSchema.safeParse({ kind: 'set', cpu: 0, what, value }).success;

  it('takes 0 or 1 for the flags, IA32_EFER.LME included, 0 to 3 for cpl, and CR3 bits 31:0 for cr3', () => {
    expect(parse('efer.lme', 1)).toBe(true);
    expect(parse('efer.lme', 2)).toBe(false);
    expect(parse('cpl', 3)).toBe(true);
    expect(parse('cs.l', 3)).toBe(false);
    expect(parse('cr3', 0xffff_ffff)).toBe(true);
    expect(parse('cr3', 0x1_0000_0000)).toBe(false);
    expect(parse('cr3', 4096.5)).toBe(false);
    expect(parse('cr2', 0)).toBe(false);
  });

  it('every processor starts with IA32_EFER.LME = LMA = 1 (64-bit mode needs both) and CR3 = 0', () => {
    expect(initialProcessorState).toMatchObject({ eferLme: 1, eferLma: 1, cr3: 0n });
  });
});

describe('the inactive observation (spec/schemas.ts)', () => {
  const parse = (obs: unknown) => observationSchema.safeParse(obs).success;

  it('names one of the three inactive activity states of the guest activity-state field (HLT, shutdown, wait-for-SIPI)', () => {
    for (const activity of ['hlt', 'shutdown', 'wait-for-sipi']) expect(parse({ kind: 'inactive', activity, flags: 0 })).toBe(true);
    expect(parse({ kind: 'inactive', activity: 'active', flags: 0 })).toBe(false);
    expect(parse({ kind: 'inactive', flags: 0 })).toBe(false);
    expect(parse({ kind: 'inactive', activity: 'hlt', flags: 0, what: 'x' })).toBe(false);
  });
});
