/**
 * Matching observations against what the model expects, and describing expectations, per the
 * observation vocabulary (spec/observations.ts): kind, vector, reason, error, value and flags all
 * count; values compare as numbers; an open value matches anything.
 */
import { describe, expect, it } from 'vitest';
import { ANY_VALUE, describeExpected, matches } from '../../model/index.ts';
import type { Expected } from '../../model/index.ts';
import { CF, ZF } from './helpers.ts';

describe('matches', () => {
  it('compares the kind and the flags of every outcome', () => {
    expect(matches({ kind: 'ok', flags: 0 }, { kind: 'ok', flags: 0 })).toBe(true);
    expect(matches({ kind: 'ok', flags: 0 }, { kind: 'ok', flags: CF })).toBe(false);
    expect(matches({ kind: 'vmfail-invalid', flags: CF }, { kind: 'vmfail-invalid', flags: CF })).toBe(true);
    expect(matches({ kind: 'vmfail-invalid', flags: CF }, { kind: 'vmsucceed', flags: CF })).toBe(false);
    expect(matches({ kind: 'ok', flags: 0 }, { kind: 'unimplemented', flags: 0, what: 'x' })).toBe(false);
  });

  it('compares the vector of a fault, the reason of a VM exit and the error of VMfailValid', () => {
    expect(matches({ kind: 'fault', vector: 'UD', flags: 0 }, { kind: 'fault', vector: 'GP', flags: 0 })).toBe(false);
    expect(matches({ kind: 'fault', vector: 'GP', flags: 0 }, { kind: 'fault', vector: 'GP', flags: 0 })).toBe(true);
    expect(matches({ kind: 'vmexit', reason: 18, flags: 0 }, { kind: 'vmexit', reason: 19, flags: 0 })).toBe(false);
    expect(matches({ kind: 'vmexit', reason: 18, flags: 0 }, { kind: 'vmexit', reason: 18, flags: 0 })).toBe(true);
    expect(matches({ kind: 'vmfail-valid', error: 10, flags: ZF }, { kind: 'vmfail-valid', error: 11, flags: ZF })).toBe(false);
    expect(matches({ kind: 'vmfail-valid', error: 10, flags: ZF }, { kind: 'vmfail-valid', error: 10, flags: ZF })).toBe(true);
  });

  it('compares VMsucceed values numerically, whatever the spelling', () => {
    const expected: Expected = { kind: 'vmsucceed', flags: 0, value: '0x1f' };
    expect(matches(expected, { kind: 'vmsucceed', flags: 0, value: '0X001F' })).toBe(true);
    expect(matches(expected, { kind: 'vmsucceed', flags: 0, value: '0x20' })).toBe(false);
    expect(matches(expected, { kind: 'vmsucceed', flags: 0 })).toBe(false);
    expect(matches(expected, { kind: 'vmsucceed', flags: 0, value: 'nonsense' })).toBe(false);
  });

  it('requires no value when none is expected', () => {
    expect(matches({ kind: 'vmsucceed', flags: 0 }, { kind: 'vmsucceed', flags: 0 })).toBe(true);
    expect(matches({ kind: 'vmsucceed', flags: 0 }, { kind: 'vmsucceed', flags: 0, value: '0x0' })).toBe(false);
  });

  it('accepts any value for an open value and checks only the known bits of a partly known one', () => {
    expect(matches({ kind: 'vmsucceed', flags: 0, value: ANY_VALUE }, { kind: 'vmsucceed', flags: 0, value: '0xffffffffffffffff' })).toBe(true);
    const partly: Expected = { kind: 'vmsucceed', flags: 0, value: { kind: 'partly-known', bits: '0x1200', mask: '0xff00' } };
    expect(matches(partly, { kind: 'vmsucceed', flags: 0, value: '0x12ab' })).toBe(true);
    expect(matches(partly, { kind: 'vmsucceed', flags: 0, value: '0x13ab' })).toBe(false);
  });
});

describe('describeExpected', () => {
  it('names the outcome and the arithmetic flags set', () => {
    expect(describeExpected({ kind: 'vmfail-valid', error: 10, flags: ZF })).toBe('VMfailValid(10), ZF=1');
    expect(describeExpected({ kind: 'vmfail-invalid', flags: CF })).toBe('VMfailInvalid, CF=1');
    expect(describeExpected({ kind: 'vmsucceed', flags: 0 })).toBe('VMsucceed, flags clear');
    expect(describeExpected({ kind: 'fault', vector: 'UD', flags: CF | ZF })).toBe('#UD, CF=1 ZF=1');
    expect(describeExpected({ kind: 'fault', vector: 'GP', flags: 0 })).toBe('#GP(0), flags clear');
    expect(describeExpected({ kind: 'vmexit', reason: 18, flags: 0 })).toBe('VM exit (basic exit reason 18), flags clear');
    expect(describeExpected({ kind: 'ok', flags: 0 })).toBe('ok, flags clear');
  });

  it('describes exact, open and partly known values', () => {
    expect(describeExpected({ kind: 'vmsucceed', flags: 0, value: '0X00FF' })).toBe('VMsucceed, value 0xff, flags clear');
    expect(describeExpected({ kind: 'vmsucceed', flags: 0, value: ANY_VALUE })).toBe('VMsucceed, value any, flags clear');
    expect(describeExpected({ kind: 'vmsucceed', flags: 0, value: { kind: 'partly-known', bits: '0x0', mask: '0xffff0000' } })).toBe(
      'VMsucceed, value 0x0 in the bits of mask 0xffff0000 (others any), flags clear',
    );
  });
});
