/**
 * Checks on the guest GDTR and IDTR. Expected outcomes from SDM Vol. 3C §26.3.1.3 "Checks on Guest
 * Descriptor-Table Registers" (2016; December 2023 §27.3.1.3): the base-address fields contain
 * canonical addresses, bits 31:16 of the limit fields are 0. Canonical: Vol. 3A §3.3.7.1, width
 * 48 or 57 (not in the profile: a value that differs between the two may fail).
 */
import { describe, expect, it } from 'vitest';
import { GUEST_DESCRIPTOR_TABLE_RULES } from '../../../model/vm-entry/checks/guest-descriptor-tables.ts';
import { GUEST_DESCRIPTOR_TABLES_CHECKS } from '../../../spec/entry-checks/guest-descriptor-tables.ts';
import { bit, checkCases } from './check-cases.ts';

const S2016 = 'SDM 2016 §26.3.1.3';

describe('guest descriptor-table registers', () => {
  it('has one rule per catalogue entry, in catalogue (SDM) order', () => {
    expect(GUEST_DESCRIPTOR_TABLE_RULES.map((r) => r.id)).toEqual(GUEST_DESCRIPTOR_TABLES_CHECKS.map((c) => c.id));
  });

  for (const table of ['gdtr', 'idtr'] as const) {
    const base = table === 'gdtr' ? 'GUEST_GDTR_BASE' : 'GUEST_IDTR_BASE';
    const limit = table === 'gdtr' ? 'GUEST_GDTR_LIMIT' : 'GUEST_IDTR_LIMIT';
    checkCases(`guest-descriptor-tables.${table}-base-canonical`, `${S2016}: the base holds a canonical address`, [
      { says: 'bit 56 alone (canonical for neither width) fails', fields: { [base]: bit(56) }, outcome: 'fail' },
      { says: 'bits 63:47 all 1 passes', fields: { [base]: 0xffff_8000_0000_1000n }, outcome: 'pass' },
      { says: '0000_8000_0000_0000H (canonical only with 57-bit linear addresses) may fail', fields: { [base]: 0x0000_8000_0000_0000n }, outcome: 'may-fail' },
    ]);
    checkCases(`guest-descriptor-tables.${table}-limit-high-zero`, `${S2016}: bits 31:16 of the limit are 0`, [
      { says: 'a limit of 10000H fails', fields: { [limit]: 0x1_0000n }, outcome: 'fail' },
      { says: 'a limit of FFFFH passes', fields: { [limit]: 0xffffn }, outcome: 'pass' },
    ]);
  }
});
