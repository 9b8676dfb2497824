/**
 * Checks on the guest segment registers: selectors, base addresses, limits. Expected outcomes from
 * SDM Vol. 3C §26.3.1.2 "Checks on Guest Segment Registers" (2016, pages 26-9/26-10; December 2023
 * §27.3.1.2) and, for the selector rules, the about-2009 §22.3.1.2 (page 22-11) with the
 * "unrestricted guest" exemption of the 2016 edition; canonicality against a 48- or 57-bit
 * linear-address width (5-level paging white paper, §1.2 "Linear-Address Width and VMX
 * Transitions").
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../model/vm-entry/check.ts';
import { MODEL_ENTRY_RULES } from '../../../model/vm-entry/rules.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { GUEST_SEGMENT_REGISTERS_CHECKS } from '../../../spec/entry-checks/guest-segment-registers.ts';
import { MSR_LOAD_CHECKS } from '../../../spec/entry-checks/msr-load.ts';
import { skylake } from '../helpers.ts';
import { expectCheck } from './check-helpers.ts';
import { accessRights, bit, FLAT_64, SECONDARY_ON, UNRESTRICTED, UNUSABLE, V8086, withFields } from './guest-segment-fixtures.ts';

const ID = 'guest-segment-registers';

describe('the model follows the catalogue', () => {
  it.each([
    ['guest-segment-registers', GUEST_SEGMENT_REGISTERS_CHECKS],
    ['msr-load', MSR_LOAD_CHECKS],
  ] as const)('%s: one rule per catalogue entry, in catalogue order, reading exactly the fields the entry names', (group, catalogue) => {
    const rules = MODEL_ENTRY_RULES[group] ?? [];
    expect(rules.map((rule) => rule.id)).toEqual(catalogue.map((entry) => entry.id));
    rules.forEach((rule, i) => {
      const read = new Set([...(rule.when?.fields ?? []), ...rule.fields, ...(rule.optional ?? [])]);
      expect([...read].sort(), rule.id).toEqual([...new Set(catalogue[i]?.fields)].sort());
    });
  });
});

describe('the fixtures satisfy every segment-register check', () => {
  it.each([
    ['a flat 64-bit guest', FLAT_64],
    ['a virtual-8086 guest', V8086],
  ])('%s: each check passes or does not apply', (_, fields) => {
    const env = { profile: skylake(), readMemory32: () => 0 };
    for (const rule of MODEL_ENTRY_RULES[ID] ?? []) {
      const result = evaluate(rule, { get: (field: FieldName) => fields[field] }, env);
      expect(['pass', 'not-applicable'], rule.id).toContain(result.kind);
    }
  });
});

describe('selector fields', () => {
  it('TR: the TI flag (bit 2) must be 0', () => {
    expectCheck(`${ID}.tr-selector-ti`, FLAT_64, 'pass');
    expectCheck(`${ID}.tr-selector-ti`, withFields(FLAT_64, { GUEST_TR_SELECTOR: 0x1cn }), 'fail');
  });

  it('LDTR: if usable, the TI flag must be 0; an unusable LDTR is not checked', () => {
    const ldt = accessRights({ type: 2, s: false });
    expectCheck(`${ID}.ldtr-selector-ti`, withFields(FLAT_64, { GUEST_LDTR_SELECTOR: 0x24n }), 'not-applicable');
    expectCheck(`${ID}.ldtr-selector-ti`, withFields(FLAT_64, { GUEST_LDTR_ACCESS_RIGHTS: ldt, GUEST_LDTR_SELECTOR: 0x20n }), 'pass');
    expectCheck(`${ID}.ldtr-selector-ti`, withFields(FLAT_64, { GUEST_LDTR_ACCESS_RIGHTS: ldt, GUEST_LDTR_SELECTOR: 0x24n }), 'fail');
  });

  it('SS: not virtual-8086 and "unrestricted guest" 0: SS RPL must equal CS RPL', () => {
    const mismatched = withFields(FLAT_64, { GUEST_SS_SELECTOR: 0x13n });
    expectCheck(`${ID}.ss-rpl-equals-cs-rpl`, FLAT_64, 'pass');
    expectCheck(`${ID}.ss-rpl-equals-cs-rpl`, mismatched, 'fail');
    // The secondary controls count only with "activate secondary controls" = 1; unknown otherwise is fine.
    expect(mismatched.SECONDARY_PROCESSOR_BASED_CONTROLS).toBeUndefined();
    expectCheck(`${ID}.ss-rpl-equals-cs-rpl`, withFields(mismatched, { SECONDARY_PROCESSOR_BASED_CONTROLS: UNRESTRICTED }), 'fail');
    expectCheck(`${ID}.ss-rpl-equals-cs-rpl`, withFields(mismatched, { PRIMARY_PROCESSOR_BASED_CONTROLS: SECONDARY_ON }), 'undecided');
    expectCheck(
      `${ID}.ss-rpl-equals-cs-rpl`,
      withFields(mismatched, { PRIMARY_PROCESSOR_BASED_CONTROLS: SECONDARY_ON, SECONDARY_PROCESSOR_BASED_CONTROLS: UNRESTRICTED }),
      'not-applicable',
    );
    expectCheck(`${ID}.ss-rpl-equals-cs-rpl`, withFields(V8086, { GUEST_SS_SELECTOR: 0x103n }), 'not-applicable');
  });
});

describe('base-address fields', () => {
  describe.each(['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const)('%s', (reg) => {
    const id = `${ID}.${reg.toLowerCase()}-base-v8086`;
    it('virtual-8086: the base must be the selector shifted left 4 bits', () => {
      expectCheck(id, V8086, 'pass');
      expectCheck(id, withFields(V8086, { [`GUEST_${reg}_BASE`]: (V8086[`GUEST_${reg}_BASE`] ?? 0n) + 1n }), 'fail');
      expectCheck(id, withFields(V8086, { [`GUEST_${reg}_SELECTOR`]: 0x2345n, [`GUEST_${reg}_BASE`]: 0x23450n }), 'pass');
    });
    it('not virtual-8086: not checked', () => {
      expectCheck(id, withFields(FLAT_64, { [`GUEST_${reg}_BASE`]: 0x1234n }), 'not-applicable');
    });
  });

  describe.each(['TR', 'FS', 'GS', 'LDTR'] as const)('%s base canonical', (reg) => {
    const id = `${ID}.${reg.toLowerCase()}-base-canonical`;
    const usableLdt = reg === 'LDTR' ? { GUEST_LDTR_ACCESS_RIGHTS: accessRights({ type: 2, s: false }) } : {};
    const base = (value: bigint) => withFields(FLAT_64, { ...usableLdt, [`GUEST_${reg}_BASE`]: value });
    it('canonical for 48 bits (low and high halves) passes', () => {
      expectCheck(id, base(0x0000_7fff_ffff_f000n), 'pass');
      expectCheck(id, base(0xffff_8000_0000_0000n), 'pass');
    });
    it('canonical for neither 48 nor 57 bits fails', () => {
      expectCheck(id, base(0x8000_0000_0000_0000n), 'fail');
      expectCheck(id, base(0x0100_0000_0000_0000n), 'fail');
    });
    it('canonical for 57 bits only: depends on the linear-address width, which the profile does not give', () => {
      expectCheck(id, base(0x0000_8000_0000_0000n), 'may-fail');
      expectCheck(id, base(0xff00_0000_0000_0000n), 'may-fail');
    });
  });

  it('LDTR base: checked only when LDTR is usable', () => {
    expectCheck(`${ID}.ldtr-base-canonical`, withFields(FLAT_64, { GUEST_LDTR_BASE: 0x8000_0000_0000_0000n }), 'not-applicable');
  });

  it('CS: bits 63:32 of the base must be 0, whatever the mode', () => {
    expectCheck(`${ID}.cs-base-high-zero`, withFields(FLAT_64, { GUEST_CS_BASE: 0xffff_f000n }), 'pass');
    expectCheck(`${ID}.cs-base-high-zero`, withFields(FLAT_64, { GUEST_CS_BASE: bit(32) }), 'fail');
  });

  describe.each(['SS', 'DS', 'ES'] as const)('%s base bits 63:32', (reg) => {
    const id = `${ID}.${reg.toLowerCase()}-base-high-zero`;
    it('must be 0 when the register is usable', () => {
      expectCheck(id, withFields(FLAT_64, { [`GUEST_${reg}_BASE`]: 0xffff_f000n }), 'pass');
      expectCheck(id, withFields(FLAT_64, { [`GUEST_${reg}_BASE`]: bit(63) }), 'fail');
    });
    it('are not checked when the register is unusable', () => {
      expectCheck(id, withFields(FLAT_64, { [`GUEST_${reg}_BASE`]: bit(63), [`GUEST_${reg}_ACCESS_RIGHTS`]: UNUSABLE }), 'not-applicable');
    });
  });
});

describe('limit fields', () => {
  it.each(['CS', 'SS', 'DS', 'ES', 'FS', 'GS'] as const)('%s: virtual-8086 requires 0000FFFFH; otherwise not checked', (reg) => {
    const id = `${ID}.${reg.toLowerCase()}-limit-v8086`;
    expectCheck(id, V8086, 'pass');
    expectCheck(id, withFields(V8086, { [`GUEST_${reg}_LIMIT`]: 0xfffen }), 'fail');
    expectCheck(id, withFields(V8086, { [`GUEST_${reg}_LIMIT`]: 0x1ffffn }), 'fail');
    expectCheck(id, FLAT_64, 'not-applicable');
  });
});
