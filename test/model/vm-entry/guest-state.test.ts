/**
 * The guest-state phase over the groups the model implements (model/vm-entry/guest-state.ts).
 * SDM Vol. 3C (December 2023) §27.3.1 "Checks on the Guest State Area": the checks may be
 * performed in any order; a failure is exit reason 33 with qualification 0, or 2 (PDPTEs), 3 (NMI
 * injected under blocking by STI, on some processors), 4 (VMCS link pointer) (§27.8 "VM-Entry
 * Failures During or After Loading Guest State"). The segment-register group is not implemented
 * on this branch, so qualification 0 stays allowed through it.
 */
import { describe, expect, it } from 'vitest';
import { judgeGuestState, qualificationOf } from '../../../model/vm-entry/guest-state.ts';
import { entryCheckById } from '../../../spec/entry-checks/index.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { skylake } from '../helpers.ts';

const env = { profile: skylake(), readMemory32: () => 0 };
const viewOf = (fields: Partial<Record<FieldName, bigint>>) => ({ get: (field: FieldName) => fields[field] });

describe('the guest-state phase', () => {
  it('reports the qualifications the catalogue gives: 2 for PDPTEs, 3 for NMI under STI blocking, 4 for the link pointer', () => {
    const of = (id: string): number => qualificationOf(entryCheckById(id)!);
    expect([of('guest-pdptes.pdpte0-field'), of('guest-non-register-state.sti-blocking-vs-nmi'), of('guest-non-register-state.link-pointer-aligned')]).toEqual([2, 3, 4]);
  });

  it('a misaligned VMCS link pointer fails with 4; checks not decided (fields not given) may be the one reported', () => {
    const { judged, assessment } = judgeGuestState(viewOf({ VMCS_LINK_POINTER: 0x5008n }), env);
    expect(assessment.kind).toBe('fail');
    expect(judged.find((j) => j.rule.id === 'guest-non-register-state.link-pointer-aligned')?.result.kind).toBe('fail');
    expect(assessment.kind === 'fail' && assessment.consequences).toEqual([0, 2, 3, 4]);
  });

  it('with nothing known, the phase is undecided and names missing fields', () => {
    const { assessment } = judgeGuestState(viewOf({}), env);
    expect(assessment.kind === 'undecided' && assessment.missing).toContain('GUEST_CR0');
  });
});
