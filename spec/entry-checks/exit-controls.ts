/**
 * Checks on the VM-exit control fields (VMfailValid(7)), in the order the SDM lists them.
 *
 * Read: SDM 2016 Vol. 3C §26.2.1.2 "VM-Exit Control Fields" (page 26-5) and the 2008-era
 * Vol. 3B §22.2.1.2 (page 22-6) for the MSR-load bullet cut off in the 2016 copy.
 */
import {
  ADDRESS_WIDTH_INPUTS as WIDTH,
  BOCHS_CONTROLS,
  FAIL_CONTROLS,
  SDM_2008,
  SDM_2016,
  SDM_2023,
} from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const BASE = { group: 'exit-controls', consequence: FAIL_CONTROLS } as const;
const READ_2016 = { ...SDM_2016.exit, verification: 'read' } as const;
const READ_2008 = { ...SDM_2008.exit, verification: 'read' } as const;
const EXIT = 'PRIMARY_VM_EXIT_CONTROLS';
const CTLS = ['IA32_VMX_EXIT_CTLS', 'IA32_VMX_TRUE_EXIT_CTLS', 'IA32_VMX_BASIC[55]'] as const;
const LAST_BYTE =
  'the address of the last byte of the area, address + 16 * count - 1 (computed without truncation to the physical-address width), sets no bit at or above the physical-address width (and none in 63:32 if IA32_VMX_BASIC[48] = 1)';

/** The VM-exit control-field checks, in SDM order. */
export const EXIT_CONTROLS_CHECKS: readonly EntryCheck[] = [
  {
    ...BASE, ...READ_2016, id: 'exit-controls.primary-must-be-1',
    condition: 'Every VM-exit control reported as must-be-1 by IA32_VMX_EXIT_CTLS[31:0] (IA32_VMX_TRUE_EXIT_CTLS when IA32_VMX_BASIC[55] = 1) is 1.',
    fields: [EXIT], alsoReads: CTLS, inventoryId: 'C-EXIT-01',
  },
  {
    ...BASE, ...READ_2016, id: 'exit-controls.primary-allowed-1',
    condition: 'No VM-exit control is 1 unless bit 32+X of IA32_VMX_EXIT_CTLS (TRUE MSR when IA32_VMX_BASIC[55] = 1) is 1.',
    fields: [EXIT], alsoReads: CTLS, inventoryId: 'C-EXIT-02',
  },
  {
    ...BASE, citation: SDM_2023.exit, verification: 'corroborated', basis: BOCHS_CONTROLS,
    id: 'exit-controls.secondary-allowed-1',
    condition: 'No secondary VM-exit control bit X is 1 unless bit X of IA32_VMX_EXIT_CTLS2 is 1.',
    appliesWhen: 'VM-exit control bit 31 ("activate secondary controls") = 1; otherwise the secondary VM-exit controls act as all 0',
    fields: [EXIT, 'SECONDARY_VM_EXIT_CONTROLS'], alsoReads: ['IA32_VMX_EXIT_CTLS2'], inventoryId: 'C-EXIT-03',
  },
  {
    ...BASE, ...READ_2016, id: 'exit-controls.save-preemption-timer-needs-timer',
    condition: 'The "save VMX-preemption timer value" VM-exit control is 0 unless the "activate VMX-preemption timer" pin-based control is 1.',
    fields: ['PIN_BASED_CONTROLS', EXIT], inventoryId: 'C-EXIT-04',
  },
  {
    ...BASE, ...READ_2016, id: 'exit-controls.msr-store-aligned',
    condition: 'Bits 3:0 of the VM-exit MSR-store address are 0 (16-byte aligned).',
    appliesWhen: 'the VM-exit MSR-store count is not 0', fields: ['VM_EXIT_MSR_STORE_COUNT', 'VM_EXIT_MSR_STORE_ADDRESS'], inventoryId: 'C-EXIT-05',
  },
  {
    ...BASE, ...READ_2016, id: 'exit-controls.msr-store-width',
    condition: 'The VM-exit MSR-store address sets no bit at or above the physical-address width (and none in 63:32 if IA32_VMX_BASIC[48] = 1).',
    appliesWhen: 'the VM-exit MSR-store count is not 0', fields: ['VM_EXIT_MSR_STORE_COUNT', 'VM_EXIT_MSR_STORE_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXIT-06',
  },
  {
    ...BASE, ...READ_2016, id: 'exit-controls.msr-store-last-byte-width',
    condition: `VM-exit MSR-store area: ${LAST_BYTE}.`,
    appliesWhen: 'the VM-exit MSR-store count is not 0', fields: ['VM_EXIT_MSR_STORE_COUNT', 'VM_EXIT_MSR_STORE_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXIT-07',
  },
  {
    ...BASE, ...READ_2008, id: 'exit-controls.msr-load-aligned',
    condition: 'Bits 3:0 of the VM-exit MSR-load address are 0 (16-byte aligned).',
    appliesWhen: 'the VM-exit MSR-load count is not 0', fields: ['VM_EXIT_MSR_LOAD_COUNT', 'VM_EXIT_MSR_LOAD_ADDRESS'], inventoryId: 'C-EXIT-08',
  },
  {
    ...BASE, ...READ_2008, id: 'exit-controls.msr-load-width',
    condition: 'The VM-exit MSR-load address sets no bit at or above the physical-address width (and none in 63:32 if IA32_VMX_BASIC[48] = 1).',
    appliesWhen: 'the VM-exit MSR-load count is not 0', fields: ['VM_EXIT_MSR_LOAD_COUNT', 'VM_EXIT_MSR_LOAD_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXIT-09',
    note: 'The IA32_VMX_BASIC[48] part is from the 2016 wording of the MSR-store bullet; the 2008-era copy predates it.',
  },
  {
    ...BASE, ...SDM_2008.exit, verification: 'corroborated', basis: BOCHS_CONTROLS,
    id: 'exit-controls.msr-load-last-byte-width',
    condition: `VM-exit MSR-load area: ${LAST_BYTE}.`,
    appliesWhen: 'the VM-exit MSR-load count is not 0', fields: ['VM_EXIT_MSR_LOAD_COUNT', 'VM_EXIT_MSR_LOAD_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXIT-10',
    note: 'Only the first words of this bullet are visible at the foot of page 22-6; it mirrors the MSR-store bullet read in 2016.',
  },
];
