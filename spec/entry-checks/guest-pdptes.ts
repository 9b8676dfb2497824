/**
 * VM-entry checks on the guest PDPTEs (SDM Vol. 3C "Checks on Guest Page-Directory-Pointer-Table
 * Entries": 26.3.1.6 in 2016, 27.3.1.6 in December 2023). A VM entry to a guest that uses PAE
 * paging (guest CR0.PG = 1, CR4.PAE = 1, "IA-32e mode guest" = 0) checks the four PDPTEs with the
 * checks MOV to CR3 applies under PAE paging: with "enable EPT" = 0 those in memory at guest CR3,
 * with "enable EPT" = 1 the four PDPTE fields of the guest-state area. One check per PDPTE and per
 * source. A failure is a VM-entry failure with exit reason 33 and exit qualification 2.
 *
 * What MOV to CR3 checks is Vol. 3A "PDPTE Registers" (4.4.1): a PDPTE whose P bit (bit 0) is 1
 * must have its reserved bits 2:1, 8:5 and MAXPHYADDR-1..63 clear.
 */
import type { EntryCheck } from './types.ts';
import { PDPTE_FAILURE, TITLE, sdm2016 } from './guest-sources.ts';

const GROUP = 'guest-pdptes';
const READ_2016 = sdm2016('26.3.1.6', TITLE.pdptes);
const PAE_GUEST = 'guest CR0.PG = 1, guest CR4.PAE = 1 and "IA-32e mode guest" = 0';
const RESERVED =
  'if its P bit (bit 0) is 1, its reserved bits (2:1, 8:5, and every bit at or above the physical-address width) are 0';

function inMemory(n: number): EntryCheck {
  return {
    id: `${GROUP}.pdpte${n}-in-memory`,
    group: GROUP,
    condition: `PDPTE${n}, the 8 bytes at physical address (guest CR3 bits 31:5 << 5) + ${8 * n}: ${RESERVED}.`,
    appliesWhen: `${PAE_GUEST} and "enable EPT" = 0; checked when PAE paging was not in use before the entry or CR3 changes, and possibly otherwise`,
    consequence: PDPTE_FAILURE,
    citation: READ_2016,
    december2023Section: '27.3.1.6',
    verification: 'read',
    fields: ['GUEST_CR0', 'GUEST_CR3', 'GUEST_CR4', 'VM_ENTRY_CONTROLS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    alsoReads: [`memory: PDPTE${n} at guest CR3`, 'MAXPHYADDR', 'paging mode and CR3 before the entry'],
    inventoryId: 'G-PDPTE-01',
    note: 'When PAE paging was already in use and CR3 does not change the SDM lets the entry check or not: the model returns both outcomes.',
  };
}

function inVmcs(n: number): EntryCheck {
  return {
    id: `${GROUP}.pdpte${n}-field`,
    group: GROUP,
    condition: `The guest PDPTE${n} field: ${RESERVED}.`,
    appliesWhen: `${PAE_GUEST} and "enable EPT" = 1`,
    consequence: PDPTE_FAILURE,
    citation: READ_2016,
    december2023Section: '27.3.1.6',
    verification: 'read',
    fields: [`GUEST_PDPTE${n}`, 'GUEST_CR0', 'GUEST_CR4', 'VM_ENTRY_CONTROLS', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    alsoReads: ['MAXPHYADDR'],
    inventoryId: 'G-PDPTE-02',
  };
}

/** The guest PDPTE checks: the four PDPTEs in memory (EPT off), then the four fields (EPT on). */
export const GUEST_PDPTES_CHECKS: readonly EntryCheck[] = [
  ...[0, 1, 2, 3].map(inMemory),
  ...[0, 1, 2, 3].map(inVmcs),
];
