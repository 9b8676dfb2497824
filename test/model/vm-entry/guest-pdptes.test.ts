/**
 * Checks on the guest PDPTEs. Expected outcomes from SDM Vol. 3C §26.3.1.6 "Checks on Guest
 * Page-Directory-Pointer-Table Entries" (2016; December 2023 §27.3.1.6): a VM entry to a guest
 * that uses PAE paging (CR0.PG = 1, CR4.PAE = 1, "IA-32e mode guest" = 0) checks the PDPTEs as
 * MOV to CR3 does (Vol. 3A §4.4.1 "PDPTE Registers": a present PDPTE has bits 2:1, 8:5 and 63:
 * MAXPHYADDR clear). With "enable EPT" = 0 the PDPTEs referenced by guest CR3 are checked "if
 * either (1) PAE paging was not in use before the VM entry; or (2) the value of CR3 is changing",
 * and "may" be checked otherwise; with "enable EPT" = 1 the four PDPTE fields are checked. A guest
 * without PAE paging has no PDPTE check. skylake: MAXPHYADDR 46.
 */
import { describe, expect, it } from 'vitest';
import { GUEST_PDPTE_RULES } from '../../../model/vm-entry/checks/guest-pdptes.ts';
import { ENTRY_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { GUEST_PDPTES_CHECKS } from '../../../spec/entry-checks/guest-pdptes.ts';
import { bit, checkCases } from './check-cases.ts';

const S2016 = 'SDM 2016 §26.3.1.6';
const PAE_GUEST = { GUEST_CR0: 0x8000_0021n, GUEST_CR4: 0x2020n, VM_ENTRY_CONTROLS: 0n };
const EPT_OFF = { PRIMARY_PROCESSOR_BASED_CONTROLS: 0n, SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.ENABLE_EPT) };
const EPT_ON = { PRIMARY_PROCESSOR_BASED_CONTROLS: bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS), SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.ENABLE_EPT) };
/** Guest CR3 with bits 4:0 set (ignored: the table is at CR3 bits 31:5). */
const CR3 = 0x3000n | 0x18n;
const TABLE = 0x3000n;

/** Memory holding PDPTE `n` = `entry` in the table at TABLE, the others 0. */
function table(n: number, entry: bigint): ReadonlyMap<bigint, number> {
  const at = TABLE + 8n * BigInt(n);
  return new Map([
    [at, Number(entry & 0xffff_ffffn)],
    [at + 4n, Number(entry >> 32n)],
  ]);
}

describe('guest PDPTEs', () => {
  it('has one rule per catalogue entry, in catalogue (SDM) order', () => {
    expect(GUEST_PDPTE_RULES.map((r) => r.id)).toEqual(GUEST_PDPTES_CHECKS.map((c) => c.id));
  });

  for (const n of [0, 1, 2, 3]) {
    const fields = { ...PAE_GUEST, ...EPT_OFF, GUEST_CR3: CR3 };
    const wasLongMode = { environment: { paePagingBeforeEntry: false } };
    checkCases(`guest-pdptes.pdpte${n}-in-memory`, `${S2016}, EPT off: the PDPTEs in memory at guest CR3`, [
      { says: 'present with bit 1 set fails when PAE paging was not in use before', fields, outcome: 'fail', setting: { ...wasLongMode, memory: table(n, 0x1000n | 3n) } },
      { says: 'present with bit 46 (MAXPHYADDR 46) fails when PAE paging was not in use before', fields, outcome: 'fail', setting: { ...wasLongMode, memory: table(n, bit(46) | 1n) } },
      { says: 'present with bit 63 fails (no execute-disable in PDPTEs)', fields, outcome: 'fail', setting: { ...wasLongMode, memory: table(n, bit(63) | 1n) } },
      { says: 'present and valid passes', fields, outcome: 'pass', setting: { ...wasLongMode, memory: table(n, 0x1000n | 1n | bit(45)) } },
      { says: 'not present with reserved bits set passes', fields, outcome: 'pass', setting: { ...wasLongMode, memory: table(n, 0x1e6n) } },
      { says: 'an invalid PDPTE may fail when PAE paging may have been in use with the same CR3', fields, outcome: 'may-fail', setting: { environment: { paePagingBeforeEntry: true }, memory: table(n, 0x1000n | 3n) } },
      { says: 'an invalid PDPTE may fail when the paging mode before the entry is not known', fields, outcome: 'may-fail', setting: { memory: table(n, 0x1000n | 3n) } },
      { says: 'an IA-32e guest has no PDPTE check', fields: { ...fields, VM_ENTRY_CONTROLS: bit(ENTRY_CONTROL.IA32E_MODE_GUEST) }, outcome: 'not-applicable' },
      { says: 'a guest without CR4.PAE has no PDPTE check', fields: { ...fields, GUEST_CR4: 0x2000n }, outcome: 'not-applicable' },
      { says: 'with EPT on the memory is not read', fields: { ...fields, ...EPT_ON }, outcome: 'not-applicable' },
    ]);
    const field = `GUEST_PDPTE${n}`;
    checkCases(`guest-pdptes.pdpte${n}-field`, `${S2016}, EPT on: the PDPTE fields of the guest-state area`, [
      { says: 'present with bit 5 set fails', fields: { ...PAE_GUEST, ...EPT_ON, [field]: 0x1000n | 0x21n }, outcome: 'fail' },
      { says: 'present and valid passes', fields: { ...PAE_GUEST, ...EPT_ON, [field]: 0x1000n | 1n }, outcome: 'pass' },
      { says: 'with EPT off the field is not checked', fields: { ...PAE_GUEST, ...EPT_OFF, [field]: 0x21n }, outcome: 'not-applicable' },
      { says: 'a guest without paging has no PDPTE check', fields: { ...PAE_GUEST, ...EPT_ON, GUEST_CR0: 0x21n }, outcome: 'not-applicable' },
    ]);
  }
});
