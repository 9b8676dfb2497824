/**
 * Checks on the guest GDTR and IDTR, in the order of SDM Vol. 3C (December 2023) §27.3.1.3
 * "Checks on Guest Descriptor-Table Registers" (2016: §26.3.1.3, the edition the catalogue read).
 * A failure is a VM-entry failure, exit reason 33, qualification 0. Each rule is named by its
 * catalogue id; the condition in words and the citation are in
 * spec/entry-checks/guest-descriptor-tables.ts.
 *
 * A base that is canonical for 57-bit but not for 48-bit linear addresses may fail or not: the
 * profile does not record the linear-address width (linear-addresses.ts).
 */
import { check } from '../check.ts';
import type { EntryRule } from '../check.ts';
import { canonical as canonicalAddress } from '../linear-addresses.ts';

/** The guest descriptor-table-register checks, in SDM order. */
export const GUEST_DESCRIPTOR_TABLE_RULES: readonly EntryRule[] = [
  check('guest-descriptor-tables.gdtr-base-canonical', {
    fields: ['GUEST_GDTR_BASE'],
    holds: (f) => canonicalAddress(f.GUEST_GDTR_BASE),
  }),
  check('guest-descriptor-tables.idtr-base-canonical', {
    fields: ['GUEST_IDTR_BASE'],
    holds: (f) => canonicalAddress(f.GUEST_IDTR_BASE),
  }),
  check('guest-descriptor-tables.gdtr-limit-high-zero', {
    fields: ['GUEST_GDTR_LIMIT'],
    holds: (f) => f.GUEST_GDTR_LIMIT >> 16n === 0n,
  }),
  check('guest-descriptor-tables.idtr-limit-high-zero', {
    fields: ['GUEST_IDTR_LIMIT'],
    holds: (f) => f.GUEST_IDTR_LIMIT >> 16n === 0n,
  }),
];
