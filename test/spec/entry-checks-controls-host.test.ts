import { describe, expect, it } from 'vitest';
import { SDM_EDITION } from '../../spec/citation.ts';
import { ADDRESS_SPACE_SIZE_CHECKS } from '../../spec/entry-checks/address-space-size.ts';
import { BASIC_CHECKS } from '../../spec/entry-checks/basic.ts';
import { ENTRY_CONTROLS_CHECKS } from '../../spec/entry-checks/entry-controls.ts';
import { EVENT_INJECTION_CHECKS } from '../../spec/entry-checks/event-injection.ts';
import { EXECUTION_CONTROLS_CHECKS } from '../../spec/entry-checks/execution-controls.ts';
import { EXIT_CONTROLS_CHECKS } from '../../spec/entry-checks/exit-controls.ts';
import { HOST_CONTROL_REGISTERS_CHECKS } from '../../spec/entry-checks/host-control-registers.ts';
import { HOST_SEGMENT_REGISTERS_CHECKS } from '../../spec/entry-checks/host-segment-registers.ts';
import type { EntryCheck, EntryCheckGroup } from '../../spec/entry-checks/types.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { FIELD } from '../../spec/field-names.ts';

/** The groups of this part of the catalogue, with the number of checks each holds. */
const GROUPS: readonly [EntryCheckGroup, readonly EntryCheck[], number][] = [
  ['basic', BASIC_CHECKS, 12],
  ['execution-controls', EXECUTION_CONTROLS_CHECKS, 56],
  ['exit-controls', EXIT_CONTROLS_CHECKS, 10],
  ['entry-controls', ENTRY_CONTROLS_CHECKS, 8],
  ['event-injection', EVENT_INJECTION_CHECKS, 15],
  ['host-control-registers', HOST_CONTROL_REGISTERS_CHECKS, 33],
  ['host-segment-registers', HOST_SEGMENT_REGISTERS_CHECKS, 22],
  ['address-space-size', ADDRESS_SPACE_SIZE_CHECKS, 8],
];

const ALL = GROUPS.flatMap(([, checks]) => checks);

describe('VM-entry check catalogue: basic, control and host-state groups', () => {
  it.each(GROUPS)('group %s holds the expected number of checks', (group, checks, count) => {
    expect(checks).toHaveLength(count);
    for (const check of checks) expect(check.group).toBe(group);
  });

  it('has unique ids, each prefixed by its group and kebab-case', () => {
    const ids = ALL.map((check) => check.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const check of ALL) expect(check.id).toMatch(new RegExp(`^${check.group}\\.[a-z0-9]+(-[a-z0-9]+)*$`));
  });

  it('names only VMCS fields that FIELD defines', () => {
    for (const check of ALL) {
      for (const field of check.fields) expect(Object.keys(FIELD), `${check.id}: ${field}`).toContain(field);
    }
  });

  it('cites a section, a title and an edition, with the December 2023 number when another edition was read', () => {
    for (const check of ALL) {
      expect(check.citation.section, check.id).not.toBe('');
      expect(check.citation.title, check.id).not.toBe('');
      expect(check.citation.edition, check.id).not.toBe('');
      expect(check.citation.volume, check.id).toMatch(/^3[BCD]$/);
      if (check.citation.edition !== SDM_EDITION) expect(check.december2023Section, check.id).toBeTruthy();
    }
  });

  it('gives a basis exactly for corroborated checks', () => {
    for (const check of ALL) {
      if (check.verification === 'corroborated') expect(check.basis, check.id).toMatch(/\S/);
      else expect(check.basis, check.id).toBeUndefined();
    }
  });

  it('states every condition in words and traces it to the shared inventory', () => {
    for (const check of ALL) {
      expect(check.condition.length, check.id).toBeGreaterThan(15);
      expect(check.inventoryId, check.id).toMatch(/^(B|C-EXEC|C-EXIT|C-ENTRY|C-EVT|H-CR|H-SEG|H-AS)-\d{2}$/);
    }
  });

  // Consequences from the SDM text: §26.2 (2016) says control checks give error 7 and host-state
  // checks error 8; §26.1 and the VMLAUNCH/VMRESUME pseudocode give the basic outcomes.
  it('fails control checks with VMfailValid(7)', () => {
    const controls = [...EXECUTION_CONTROLS_CHECKS, ...EXIT_CONTROLS_CHECKS, ...ENTRY_CONTROLS_CHECKS, ...EVENT_INJECTION_CHECKS];
    for (const check of controls) expect(check.consequence, check.id).toEqual({ kind: 'vmfail-valid', error: 7 });
  });

  it('fails host-state and address-space-size checks with VMfailValid(8)', () => {
    const host = [...HOST_CONTROL_REGISTERS_CHECKS, ...HOST_SEGMENT_REGISTERS_CHECKS, ...ADDRESS_SPACE_SIZE_CHECKS];
    for (const check of host) expect(check.consequence, check.id).toEqual({ kind: 'vmfail-valid', error: 8 });
  });

  it('gives the basic checks the outcomes of §26.1, in order', () => {
    expect(BASIC_CHECKS.map((check) => check.consequence.kind)).toEqual([
      'fault', 'fault', 'fault', 'fault', 'vm-exit', 'fault',
      'vmfail-invalid', 'vmfail-invalid', 'vmfail-valid', 'vmfail-valid', 'vmfail-valid', 'vmfail-valid',
    ]);
    const errors = BASIC_CHECKS.flatMap((check) => (check.consequence.kind === 'vmfail-valid' ? [check.consequence.error] : []));
    expect(errors).toEqual([VM_ERROR.ENTRY_MOV_SS_BLOCKING, 4, 5, 6]);
    expect(BASIC_CHECKS.find((check) => check.id === 'basic.cpl-zero')?.consequence).toEqual({ kind: 'fault', vector: 'GP' });
    expect(BASIC_CHECKS.find((check) => check.id === 'basic.not-in-vmx-non-root')?.consequence).toEqual({ kind: 'vm-exit', reasons: [20, 24] });
  });

  it('records the address-space-size error-number freedom in a note', () => {
    for (const check of ADDRESS_SPACE_SIZE_CHECKS) expect(check.note, check.id).toMatch(/error 7/);
  });
});
