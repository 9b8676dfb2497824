/**
 * The framework's handling of checks whose outcome depends on a processor fact the profile does
 * not record (may-fail), and of fields read only when needed (optional). The SDM lets a processor
 * perform the checks of a phase in any order (Vol. 3C §26.2/§26.3.1, 2016; December 2023 §27.2,
 * §27.3.1): with a check failing for certain, a may-fail check's consequence is one more allowed
 * report; with none failing for certain, the phase may pass or report it.
 */
import { describe, expect, it } from 'vitest';
import { assessPhase } from '../../../model/vm-entry/assess.ts';
import type { Judged } from '../../../model/vm-entry/assess.ts';
import { check, evaluate, mayFail, unknown } from '../../../model/vm-entry/check.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { skylake } from '../helpers.ts';

const env = { profile: skylake(), readMemory32: () => 0 };
const view = (fields: Partial<Record<FieldName, bigint>>) => ({ get: (field: FieldName) => fields[field] });

const widthDependent = check('test.may-fail', {
  fields: ['GUEST_FS_BASE'],
  holds: (f) => (f.GUEST_FS_BASE === 0n ? true : f.GUEST_FS_BASE === 1n ? false : mayFail('the linear-address width')),
});

const gatedByMayFail = check('test.gated', {
  when: { fields: ['GUEST_GS_BASE'], test: (f) => (f.GUEST_GS_BASE === 0n ? false : mayFail('a processor fact')) },
  fields: ['GUEST_FS_BASE'],
  holds: (f) => f.GUEST_FS_BASE === 0n,
});

const secondaryOnlyWhenActive = check('test.optional', {
  fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS'],
  optional: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
  holds: (f) => {
    if (f.PRIMARY_PROCESSOR_BASED_CONTROLS === 0n) return true;
    if (f.SECONDARY_PROCESSOR_BASED_CONTROLS === undefined) return unknown('SECONDARY_PROCESSOR_BASED_CONTROLS');
    return f.SECONDARY_PROCESSOR_BASED_CONTROLS === 0n;
  },
});

describe('evaluate: may-fail and optional fields', () => {
  it('a condition that holds on some processors only is may-fail, with its reason and the values read', () => {
    const result = evaluate(widthDependent, view({ GUEST_FS_BASE: 5n }), env);
    expect(result).toEqual({ kind: 'may-fail', why: 'the linear-address width', values: new Map([['GUEST_FS_BASE', 5n]]) });
    expect(evaluate(widthDependent, view({ GUEST_FS_BASE: 0n }), env).kind).toBe('pass');
    expect(evaluate(widthDependent, view({ GUEST_FS_BASE: 1n }), env).kind).toBe('fail');
  });

  it('a condition for applying that may or may not hold: a failing body is may-fail, a holding one passes', () => {
    expect(evaluate(gatedByMayFail, view({ GUEST_GS_BASE: 1n, GUEST_FS_BASE: 1n }), env).kind).toBe('may-fail');
    expect(evaluate(gatedByMayFail, view({ GUEST_GS_BASE: 1n, GUEST_FS_BASE: 0n }), env).kind).toBe('pass');
    expect(evaluate(gatedByMayFail, view({ GUEST_GS_BASE: 0n, GUEST_FS_BASE: 1n }), env).kind).toBe('not-applicable');
  });

  // Bit 31 ("activate secondary controls") set: the secondary field counts (with it clear, an
  // unknown secondary field reads as 0, §25.6.2).
  it('an optional field is read only when the predicate needs it', () => {
    expect(evaluate(secondaryOnlyWhenActive, view({ PRIMARY_PROCESSOR_BASED_CONTROLS: 0n }), env).kind).toBe('pass');
    expect(evaluate(secondaryOnlyWhenActive, view({ PRIMARY_PROCESSOR_BASED_CONTROLS: 0x8000_0000n }), env)).toEqual({
      kind: 'undecided',
      missing: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    });
    const failed = evaluate(secondaryOnlyWhenActive, view({ PRIMARY_PROCESSOR_BASED_CONTROLS: 0x8000_0000n, SECONDARY_PROCESSOR_BASED_CONTROLS: 2n }), env);
    expect(failed.kind === 'fail' && failed.values.get('SECONDARY_PROCESSOR_BASED_CONTROLS')).toBe(2n);
  });
});

describe('assessPhase with may-fail checks', () => {
  const judged = (kind: 'pass' | 'fail' | 'may-fail' | 'undecided', consequence: number): Judged => ({
    rule: widthDependent,
    result:
      kind === 'pass'
        ? { kind }
        : kind === 'undecided'
          ? { kind, missing: ['GUEST_FS_BASE'] }
          : kind === 'fail'
            ? { kind, values: new Map() }
            : { kind, why: 'x', values: new Map() },
    consequences: [consequence],
  });

  it('only may-fail checks: the phase may pass or report any of them', () => {
    expect(assessPhase([judged('pass', 0), judged('may-fail', 4), judged('may-fail', 2)])).toMatchObject({ kind: 'may-fail', consequences: [2, 4] });
  });

  it('with a certain failure, a may-fail check joins the allowed reports', () => {
    expect(assessPhase([judged('fail', 0), judged('may-fail', 4)])).toMatchObject({ kind: 'fail', consequences: [0, 4] });
  });

  it('an undecided check or an unimplemented group still makes the phase undecided', () => {
    expect(assessPhase([judged('may-fail', 4), judged('undecided', 0)])).toMatchObject({ kind: 'undecided', missing: ['GUEST_FS_BASE'] });
    expect(assessPhase([judged('may-fail', 4)], [0])).toMatchObject({ kind: 'undecided', missing: [] });
  });
});
