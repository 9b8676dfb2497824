/**
 * VM-entry checks on the guest RIP, RFLAGS and SSP fields (SDM Vol. 3C "Checks on Guest RIP and
 * RFLAGS": 26.3.1.4 in 2016; 27.3.1.4 in December 2023, where the title adds SSP), in SDM order.
 * Every failure is a VM-entry failure with exit reason 33 and exit qualification 0.
 */
import type { EntryCheck } from './types.ts';
import {
  BOCHS_GUEST,
  GUEST_STATE_FAILURE,
  KVM_FRED,
  TITLE,
  sdm2009,
  sdm2016,
  sdm2023Derived,
} from './guest-sources.ts';

const GROUP = 'guest-rip-rflags';
const DEC2023 = '27.3.1.4';
const READ_2016 = sdm2016('26.3.1.4', TITLE.ripRflags);
const READ_2009 = sdm2009('22.3.1.4', TITLE.ripRflags);
/** The December 2023 title as the project's group list names it (not read here). */
const DERIVED = sdm2023Derived(DEC2023, 'Checks on Guest RIP, RFLAGS, and SSP');
const NOT_64_BIT = '"IA-32e mode guest" = 0 or CS.L (CS access rights bit 13) = 0';
const SIXTY_FOUR_BIT = '"IA-32e mode guest" = 1 and CS.L = 1';

type Draft = Omit<EntryCheck, 'group' | 'consequence' | 'id' | 'december2023Section'> & { name: string };

function check(draft: Draft): EntryCheck {
  const { name, ...rest } = draft;
  const dated = rest.citation.section === DEC2023 ? {} : { december2023Section: DEC2023 };
  return { id: `${GROUP}.${name}`, group: GROUP, consequence: GUEST_STATE_FAILURE, ...dated, ...rest };
}

/** The guest RIP, RFLAGS and SSP checks, in SDM order. */
export const GUEST_RIP_RFLAGS_CHECKS: readonly EntryCheck[] = [
  check({
    name: 'rip-high-zero',
    condition: 'Bits 63:32 of the guest RIP field are 0.',
    appliesWhen: NOT_64_BIT,
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_RIP', 'VM_ENTRY_CONTROLS', 'GUEST_CS_ACCESS_RIGHTS'],
    inventoryId: 'G-RIP-01',
  }),
  check({
    name: 'rip-canonical',
    condition: 'Bits 63:N of the guest RIP field are identical, N being the linear-address width (no check when N = 64).',
    appliesWhen: SIXTY_FOUR_BIT,
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_RIP', 'VM_ENTRY_CONTROLS', 'GUEST_CS_ACCESS_RIGHTS'],
    alsoReads: ['linear-address width'],
    inventoryId: 'G-RIP-02',
  }),
  check({
    name: 'rflags-reserved-zero',
    condition: 'Reserved RFLAGS bits 63:22, 15, 5 and 3 are 0 in the guest RFLAGS field.',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_RFLAGS'],
    inventoryId: 'G-RIP-03',
  }),
  check({
    name: 'rflags-bit1-set',
    condition: 'Reserved RFLAGS bit 1 is 1 in the guest RFLAGS field.',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_RFLAGS'],
    inventoryId: 'G-RIP-04',
  }),
  check({
    name: 'rflags-vm-ia32e',
    condition: 'Guest RFLAGS.VM (bit 17) is 0.',
    appliesWhen: '"IA-32e mode guest" = 1',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_RFLAGS', 'VM_ENTRY_CONTROLS'],
    inventoryId: 'G-RIP-05',
  }),
  check({
    name: 'rflags-vm-real-mode',
    condition: 'Guest RFLAGS.VM (bit 17) is 0.',
    appliesWhen: 'guest CR0.PE = 0',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_RFLAGS', 'GUEST_CR0'],
    inventoryId: 'G-RIP-05',
  }),
  check({
    name: 'rflags-if-for-external-interrupt',
    condition: 'Guest RFLAGS.IF (bit 9) is 1.',
    appliesWhen: 'VM-entry interruption information valid (bit 31) with interruption type 0 (external interrupt)',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_RFLAGS', 'VM_ENTRY_INTERRUPTION_INFORMATION'],
    inventoryId: 'G-RIP-06',
  }),
  check({
    name: 'ssp-high-zero',
    condition: 'Bits 63:32 of the guest SSP field are 0.',
    appliesWhen: '"load CET state" VM-entry control = 1 and "IA-32e mode guest" = 0',
    citation: DERIVED,
    verification: 'corroborated',
    basis: BOCHS_GUEST,
    fields: ['GUEST_SSP', 'VM_ENTRY_CONTROLS', 'GUEST_CS_ACCESS_RIGHTS'],
    inventoryId: 'G-RIP-07',
    note: 'The inventory words it as "IA-32e mode guest = 0 or CS.L = 0"; Bochs tests only the IA-32e control.',
  }),
  check({
    name: 'ssp-canonical',
    condition: 'Bits 63:N of the guest SSP field are identical, N being the linear-address width.',
    appliesWhen: '"load CET state" VM-entry control = 1',
    citation: DERIVED,
    verification: 'corroborated',
    basis: BOCHS_GUEST,
    fields: ['GUEST_SSP', 'VM_ENTRY_CONTROLS', 'GUEST_CS_ACCESS_RIGHTS'],
    alsoReads: ['linear-address width'],
    inventoryId: 'G-RIP-08',
    note: 'The inventory limits it to 64-bit mode; Bochs tests canonicality whenever the control is 1.',
  }),
  check({
    name: 'ssp-aligned',
    condition: 'Bits 1:0 of the guest SSP field are 0.',
    appliesWhen: '"load CET state" VM-entry control = 1',
    citation: DERIVED,
    verification: 'corroborated',
    basis: BOCHS_GUEST,
    fields: ['GUEST_SSP', 'VM_ENTRY_CONTROLS'],
    inventoryId: 'G-RIP-09',
  }),
  check({
    name: 'rflags-iopl-fred',
    condition: 'If the guest SS DPL is 3, guest RFLAGS.IOPL (bits 13:12) is 0.',
    appliesWhen: '"IA-32e mode guest" = 1 and guest CR4.FRED = 1',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_GUEST}; ${KVM_FRED}`,
    fields: ['GUEST_RFLAGS', 'GUEST_SS_ACCESS_RIGHTS', 'GUEST_CR4', 'VM_ENTRY_CONTROLS'],
    inventoryId: 'G-RIP-10',
  }),
];
