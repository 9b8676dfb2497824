/**
 * The phase assessment with checks that may fail. SDM Vol. 3C §27.3.1 "Checks on the Guest State
 * Area" (December 2023): the checks may be performed in any order, so with several failures the
 * consequence of any is allowed; where the SDM leaves a check to the processor (an NMI injected
 * under blocking by STI "may" fail on some processors) or the outcome depends on a fact the
 * profile lacks (the linear-address width), the check may fail or not: its consequence is
 * allowed, and so is going on.
 */
import { describe, expect, it } from 'vitest';
import { assessPhase } from '../../../model/vm-entry/assess.ts';
import type { Judged } from '../../../model/vm-entry/assess.ts';
import { check, evaluate, mayFail } from '../../../model/vm-entry/check.ts';
import type { CheckResult } from '../../../model/vm-entry/check.ts';
import { skylake } from '../helpers.ts';

const rule = check('guest-rip-rflags.rflags-bit1-set', { fields: ['GUEST_RFLAGS'], holds: () => true });
const judged = (result: CheckResult, consequence: number): Judged => ({ rule, result, consequences: [consequence] });
const values = new Map();

describe('may-fail checks in a phase', () => {
  it('a check whose condition may fail evaluates to may-fail with the values it read', () => {
    const open = check('guest-rip-rflags.rflags-bit1-set', { fields: ['GUEST_RFLAGS'], holds: () => mayFail('processor-specific') });
    const result = evaluate(open, { get: () => 2n }, { profile: skylake(), readMemory32: () => 0 });
    expect(result).toEqual({ kind: 'may-fail', why: 'processor-specific', values: new Map([['GUEST_RFLAGS', 2n]]) });
  });

  it('with nothing failing for certain, the phase may fail with the consequences of the may-fail checks (sorted)', () => {
    const assessment = assessPhase([judged({ kind: 'pass' }, 0), judged({ kind: 'may-fail', why: 'x', values }, 3), judged({ kind: 'may-fail', why: 'y', values }, 0)]);
    expect(assessment.kind).toBe('may-fail');
    expect(assessment.kind === 'may-fail' && assessment.consequences).toEqual([0, 3]);
  });

  it('with a certain failure, the consequences of may-fail checks join those allowed', () => {
    const assessment = assessPhase([judged({ kind: 'fail', values }, 4), judged({ kind: 'may-fail', why: 'x', values }, 3)]);
    expect(assessment.kind === 'fail' && assessment.consequences).toEqual([3, 4]);
  });

  it('an undecided check outweighs a may-fail one: the phase cannot be judged', () => {
    const assessment = assessPhase([judged({ kind: 'undecided', missing: ['GUEST_RIP'] }, 0), judged({ kind: 'may-fail', why: 'x', values }, 3)]);
    expect(assessment.kind).toBe('undecided');
  });

  it('passing and not-applicable checks alone pass', () => {
    expect(assessPhase([judged({ kind: 'pass' }, 0), judged({ kind: 'not-applicable' }, 2)]).kind).toBe('pass');
  });
});
