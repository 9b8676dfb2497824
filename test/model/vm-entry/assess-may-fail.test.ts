/**
 * The assessment of one phase of VM entry from its checks' results (model/vm-entry/assess.ts).
 * The SDM performs the checks on the controls and the host-state area "in any order" (SDM Vol. 3C,
 * December 2023, §27.2 "Checks on VMX Controls and Host-State Area"): with several failures, any
 * one of their consequences may be reported. A check that may fail (it fails on some processors
 * and not on others, by a fact the profile does not record, such as the linear-address width of
 * §27.2.3's canonical base addresses) adds its consequence without being a certain failure.
 */
import { describe, expect, it } from 'vitest';
import type { Judged } from '../../../model/vm-entry/assess.ts';
import { assessPhase } from '../../../model/vm-entry/assess.ts';
import type { CheckResult, EntryRule } from '../../../model/vm-entry/check.ts';
import { check, evaluate, mayFail } from '../../../model/vm-entry/check.ts';
import { skylake } from '../helpers.ts';

const rule = (id: string): EntryRule => check(id, { fields: [], holds: () => true });
const values = new Map();
const PASS: CheckResult = { kind: 'pass' };
const FAIL: CheckResult = { kind: 'fail', values };
const MAY_FAIL: CheckResult = { kind: 'may-fail', values, why: 'the linear-address width' };
const UNDECIDED: CheckResult = { kind: 'undecided', missing: ['HOST_CR0'] };
const judged = (id: string, result: CheckResult, ...consequences: number[]): Judged => ({ rule: rule(id), result, consequences });

describe('a check that may fail', () => {
  it('evaluates to may-fail, with the fact it depends on, when its condition says so', () => {
    const env = { profile: skylake(), readMemory32: () => undefined };
    const view = { get: () => 0n };
    const result = evaluate(check('x.may', { fields: ['HOST_RIP'], holds: () => mayFail('the linear-address width') }), view, env);
    expect(result).toEqual({ kind: 'may-fail', values: new Map([['HOST_RIP', 0n]]), why: 'the linear-address width' });
  });

  it('alone: the phase may report its consequence or pass (not a certain failure)', () => {
    expect(assessPhase([judged('a', PASS, 7), judged('b', MAY_FAIL, 8)])).toMatchObject({ kind: 'may-fail', consequences: [8] });
  });

  it('beside a certain failure: its consequence joins the allowed set', () => {
    const assessment = assessPhase([judged('a', FAIL, 7), judged('b', MAY_FAIL, 8)]);
    expect(assessment).toMatchObject({ kind: 'fail', consequences: [7, 8] });
    expect(assessment.kind === 'fail' && assessment.mayFail.map((each) => each.rule.id)).toEqual(['b']);
  });

  it('beside an undecided check and no certain failure: the phase stays undecided (an unknown field decides)', () => {
    expect(assessPhase([judged('a', UNDECIDED, 7), judged('b', MAY_FAIL, 8)])).toMatchObject({ kind: 'undecided', missing: ['HOST_CR0'] });
  });

  it('beside a group the model does not implement yet: undecided, with nothing missing', () => {
    expect(assessPhase([judged('b', MAY_FAIL, 8)], [7])).toMatchObject({ kind: 'undecided', missing: [] });
  });

  it('every check passing still passes', () => {
    expect(assessPhase([judged('a', PASS, 7), judged('b', { kind: 'not-applicable' }, 8)])).toEqual({ kind: 'pass' });
  });
});
