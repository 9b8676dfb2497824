/**
 * Checks on the VM-entry control fields other than event injection (VMfailValid(7)), in the order
 * the SDM lists them (the event-injection bullet sits between the reserved-bit check and the
 * MSR-load checks; it is the group `event-injection`).
 *
 * Read: SDM 2016 Vol. 3C §26.2.1.3 "VM-Entry Control Fields" (page 26-6) and the 2008-era
 * Vol. 3B §22.2.1.3 (pages 22-7 and 22-8) for the bullets cut off in the 2016 copy.
 */
import {
  ADDRESS_WIDTH_INPUTS as WIDTH,
  BOCHS_CONTROLS,
  FAIL_CONTROLS,
  SDM_2008,
  SDM_2016,
} from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const BASE = { group: 'entry-controls', consequence: FAIL_CONTROLS } as const;
const READ_2016 = { ...SDM_2016.entry, verification: 'read' } as const;
const READ_2008 = { ...SDM_2008.entry, verification: 'read' } as const;
const ENTRY = 'VM_ENTRY_CONTROLS';
const CTLS = ['IA32_VMX_ENTRY_CTLS', 'IA32_VMX_TRUE_ENTRY_CTLS', 'IA32_VMX_BASIC[55]'] as const;
const MSR_LOAD = ['VM_ENTRY_MSR_LOAD_COUNT', 'VM_ENTRY_MSR_LOAD_ADDRESS'];

/** The VM-entry control-field checks (without event injection), in SDM order. */
export const ENTRY_CONTROLS_CHECKS: readonly EntryCheck[] = [
  {
    ...BASE, ...READ_2016, id: 'entry-controls.must-be-1',
    condition: 'Every VM-entry control reported as must-be-1 by IA32_VMX_ENTRY_CTLS[31:0] (IA32_VMX_TRUE_ENTRY_CTLS when IA32_VMX_BASIC[55] = 1) is 1.',
    fields: [ENTRY], alsoReads: CTLS, inventoryId: 'C-ENTRY-01',
  },
  {
    ...BASE, ...READ_2016, id: 'entry-controls.allowed-1',
    condition: 'No VM-entry control is 1 unless bit 32+X of IA32_VMX_ENTRY_CTLS (TRUE MSR when IA32_VMX_BASIC[55] = 1) is 1.',
    fields: [ENTRY], alsoReads: CTLS, inventoryId: 'C-ENTRY-02',
  },
  {
    ...BASE, ...READ_2008, id: 'entry-controls.msr-load-aligned',
    condition: 'Bits 3:0 of the VM-entry MSR-load address are 0 (16-byte aligned).',
    appliesWhen: 'the VM-entry MSR-load count is not 0', fields: MSR_LOAD, inventoryId: 'C-ENTRY-03',
  },
  {
    ...BASE, ...READ_2008, id: 'entry-controls.msr-load-width',
    condition: 'The VM-entry MSR-load address sets no bit at or above the physical-address width (and none in 63:32 if IA32_VMX_BASIC[48] = 1).',
    appliesWhen: 'the VM-entry MSR-load count is not 0', fields: MSR_LOAD, alsoReads: WIDTH, inventoryId: 'C-ENTRY-04',
    note: 'The IA32_VMX_BASIC[48] part follows the 2016 wording of the corresponding VM-exit bullet; the 2008-era copy predates it.',
  },
  {
    ...BASE, ...SDM_2008.entry, verification: 'corroborated', basis: BOCHS_CONTROLS,
    id: 'entry-controls.msr-load-last-byte-width',
    condition: 'The address of the last byte of the VM-entry MSR-load area, address + 16 * count - 1 (computed without truncation), sets no bit at or above the physical-address width (and none in 63:32 if IA32_VMX_BASIC[48] = 1).',
    appliesWhen: 'the VM-entry MSR-load count is not 0', fields: MSR_LOAD, alsoReads: WIDTH, inventoryId: 'C-ENTRY-05',
    note: 'The bullet falls between the visible ends of pages 22-7 and 22-8; it mirrors the VM-exit MSR-store bullet read in 2016.',
  },
  {
    ...BASE, ...READ_2008, id: 'entry-controls.entry-to-smm-only-in-smm',
    condition: 'The "entry to SMM" VM-entry control is 0 when the logical processor is not in SMM.',
    fields: [ENTRY], alsoReads: ['SMM state of the logical processor'], inventoryId: 'C-ENTRY-06',
  },
  {
    ...BASE, ...READ_2008, id: 'entry-controls.deactivate-dual-monitor-only-in-smm',
    condition: 'The "deactivate dual-monitor treatment" VM-entry control is 0 when the logical processor is not in SMM.',
    fields: [ENTRY], alsoReads: ['SMM state of the logical processor'], inventoryId: 'C-ENTRY-07',
  },
  {
    ...BASE, ...READ_2008, id: 'entry-controls.smm-controls-exclusive',
    condition: '"entry to SMM" and "deactivate dual-monitor treatment" are not both 1.',
    fields: [ENTRY], inventoryId: 'C-ENTRY-08',
  },
];
