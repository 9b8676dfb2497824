/**
 * The assessment of one phase of VM entry (model/vm-entry/assess.ts): the SDM lets the checks on
 * the controls and host state run "in any order" (SDM Vol. 3C §26.2, 2016; December 2023 §27.2),
 * so every failing check's consequence is allowed; a check the SDM lets fail or not (`may-fail`)
 * adds its consequence without being a certain failure.
 */
import { describe, expect, it } from 'vitest';
import { assessPhase } from '../../../model/vm-entry/assess.ts';
import type { Judged } from '../../../model/vm-entry/assess.ts';
import type { CheckResult } from '../../../model/vm-entry/check.ts';

const judged = (id: string, result: CheckResult, consequences: number[]): Judged => ({
  rule: { id, fields: [], holds: () => true },
  result,
  consequences,
});

const values = new Map();
const fail7 = judged('a', { kind: 'fail', values }, [7]);
const fail8 = judged('b', { kind: 'fail', values }, [8]);
const mayFail7 = judged('c', { kind: 'may-fail', why: 'editions differ', values }, [7]);
const undecided8 = judged('d', { kind: 'undecided', missing: ['HOST_CR0'] }, [8]);
const pass = judged('e', { kind: 'pass' }, [8]);

describe('assessPhase', () => {
  it('nothing fails: pass', () => {
    expect(assessPhase([pass])).toEqual({ kind: 'pass' });
  });

  it('a certain failure: its consequence, and those of every other failing check (any order)', () => {
    expect(assessPhase([fail8, fail7, pass])).toMatchObject({ kind: 'fail', consequences: [7, 8] });
  });

  it('only a check the SDM lets fail: the processor may report it or go on (may-fail)', () => {
    expect(assessPhase([mayFail7, pass])).toEqual({ kind: 'may-fail', consequences: [7], mayFail: [mayFail7] });
  });

  it('a may-fail check beside a certain failure of another kind: both consequences are allowed', () => {
    expect(assessPhase([fail8, mayFail7])).toMatchObject({ kind: 'fail', consequences: [7, 8], failing: [fail8], mayFail: [mayFail7] });
  });

  it('a may-fail check beside an undecided one: the phase cannot be judged', () => {
    expect(assessPhase([mayFail7, undecided8])).toMatchObject({ kind: 'undecided', missing: ['HOST_CR0'] });
  });

  it('a may-fail check while a group is not modelled yet: undecided, with nothing missing', () => {
    expect(assessPhase([mayFail7], [8])).toMatchObject({ kind: 'undecided', missing: [] });
  });
});
