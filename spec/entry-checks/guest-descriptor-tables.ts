/**
 * VM-entry checks on the guest GDTR and IDTR fields (SDM Vol. 3C "Checks on Guest
 * Descriptor-Table Registers": 26.3.1.3 in 2016, 27.3.1.3 in December 2023), in SDM order. Every
 * failure is a VM-entry failure with exit reason 33 and exit qualification 0.
 */
import type { EntryCheck } from './types.ts';
import { GUEST_STATE_FAILURE, TITLE, sdm2016 } from './guest-sources.ts';

const GROUP = 'guest-descriptor-tables';
const READ_2016 = sdm2016('26.3.1.3', TITLE.descriptorTables);

function tableCheck(name: string, condition: string, field: string, inventoryId: string, width: boolean): EntryCheck {
  return {
    id: `${GROUP}.${name}`,
    group: GROUP,
    condition,
    consequence: GUEST_STATE_FAILURE,
    citation: READ_2016,
    december2023Section: '27.3.1.3',
    verification: 'read',
    fields: [field],
    ...(width ? { alsoReads: ['linear-address width'] } : {}),
    inventoryId,
  };
}

/** The guest descriptor-table-register checks, in SDM order. */
export const GUEST_DESCRIPTOR_TABLES_CHECKS: readonly EntryCheck[] = [
  tableCheck('gdtr-base-canonical', 'The guest GDTR base holds a canonical address.', 'GUEST_GDTR_BASE', 'G-DT-01', true),
  tableCheck('idtr-base-canonical', 'The guest IDTR base holds a canonical address.', 'GUEST_IDTR_BASE', 'G-DT-02', true),
  tableCheck('gdtr-limit-high-zero', 'Bits 31:16 of the guest GDTR limit are 0.', 'GUEST_GDTR_LIMIT', 'G-DT-03', false),
  tableCheck('idtr-limit-high-zero', 'Bits 31:16 of the guest IDTR limit are 0.', 'GUEST_IDTR_LIMIT', 'G-DT-04', false),
];
