/**
 * Checks on the VM-execution control fields (VMfailValid(7)), in the order the SDM lists them.
 *
 * Read: SDM 2016 Vol. 3C §26.2.1.1 "VM-Execution Control Fields" (pages 26-3 to 26-5, top of
 * each page only), the 2008-era Vol. 3B §22.2.1.1 (pages 22-3 to 22-5) for the bullets cut off
 * in the 2016 copy, and 2016 Vol. 3D §A.11 for the VM-function controls. Checks added after 2016
 * or cut off in both copies are `corroborated` by Bochs.
 */
import {
  ADDRESS_WIDTH_INPUTS as WIDTH,
  BOCHS_CONTROLS,
  BOCHS_EPTP,
  FAIL_CONTROLS,
  SDM_2008,
  SDM_2016,
  SDM_2023,
} from './controls-host-sources.ts';
import type { EntryCheck } from './types.ts';

const BASE = { group: 'execution-controls', consequence: FAIL_CONTROLS } as const;
const READ_2016 = { ...SDM_2016.execution, verification: 'read' } as const;
const READ_2008 = { ...SDM_2008.execution, verification: 'read' } as const;
/** In the 2016 section, but on a part of the page that could not be read. */
const CUT_2016 = { ...SDM_2016.execution, verification: 'corroborated', basis: BOCHS_CONTROLS } as const;
/** Added after the 2016 edition. */
const LATER = { citation: SDM_2023.execution, verification: 'corroborated', basis: BOCHS_CONTROLS } as const;

const PIN = 'PIN_BASED_CONTROLS';
const PRIMARY = 'PRIMARY_PROCESSOR_BASED_CONTROLS';
const SECONDARY = 'SECONDARY_PROCESSOR_BASED_CONTROLS';
const PAGE_ALIGNED = 'bits 11:0 of the address are 0 (4-KByte aligned)';
const IN_WIDTH = 'the address sets no bit at or above the physical-address width (and no bit in 63:32 if IA32_VMX_BASIC[48] = 1)';
const EPT_ON = '"activate secondary controls" = 1 and "enable EPT" = 1';

/** The VM-execution control-field checks, in SDM order. */
export const EXECUTION_CONTROLS_CHECKS: readonly EntryCheck[] = [
  {
    ...BASE, ...READ_2008, id: 'execution-controls.pin-based-must-be-1',
    condition: 'Every pin-based control that the capability MSR reports as must-be-1 (bit X of IA32_VMX_PINBASED_CTLS[31:0], or of IA32_VMX_TRUE_PINBASED_CTLS when IA32_VMX_BASIC[55] = 1, is 1) is 1.',
    fields: [PIN], alsoReads: ['IA32_VMX_PINBASED_CTLS', 'IA32_VMX_TRUE_PINBASED_CTLS', 'IA32_VMX_BASIC[55]'], inventoryId: 'C-EXEC-01',
    note: 'The SDM says "reserved bits must be set properly" (Appendix A.3.1); this check and the next split that into its two testable halves.',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.pin-based-allowed-1',
    condition: 'No pin-based control is 1 unless the capability MSR allows it (bit 32+X of IA32_VMX_PINBASED_CTLS, or of the TRUE MSR when IA32_VMX_BASIC[55] = 1, is 1).',
    fields: [PIN], alsoReads: ['IA32_VMX_PINBASED_CTLS', 'IA32_VMX_TRUE_PINBASED_CTLS', 'IA32_VMX_BASIC[55]'], inventoryId: 'C-EXEC-02',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.primary-must-be-1',
    condition: 'Every primary processor-based control reported as must-be-1 by IA32_VMX_PROCBASED_CTLS[31:0] (IA32_VMX_TRUE_PROCBASED_CTLS when IA32_VMX_BASIC[55] = 1) is 1.',
    fields: [PRIMARY], alsoReads: ['IA32_VMX_PROCBASED_CTLS', 'IA32_VMX_TRUE_PROCBASED_CTLS', 'IA32_VMX_BASIC[55]'], inventoryId: 'C-EXEC-03',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.primary-allowed-1',
    condition: 'No primary processor-based control is 1 unless bit 32+X of IA32_VMX_PROCBASED_CTLS (TRUE MSR when IA32_VMX_BASIC[55] = 1) is 1.',
    fields: [PRIMARY], alsoReads: ['IA32_VMX_PROCBASED_CTLS', 'IA32_VMX_TRUE_PROCBASED_CTLS', 'IA32_VMX_BASIC[55]'], inventoryId: 'C-EXEC-04',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.secondary-allowed-1',
    condition: 'No secondary processor-based control is 1 unless bit 32+X of IA32_VMX_PROCBASED_CTLS2 is 1.',
    appliesWhen: '"activate secondary controls" (primary bit 31) = 1; otherwise the secondary controls are not checked and act as all 0',
    fields: [PRIMARY, SECONDARY], alsoReads: ['IA32_VMX_PROCBASED_CTLS2'], inventoryId: 'C-EXEC-05',
    note: 'Every later check that names a secondary control reads it as 0 when "activate secondary controls" is 0.',
  },
  {
    ...BASE, ...LATER, id: 'execution-controls.tertiary-allowed-1',
    condition: 'No tertiary processor-based control is 1 unless bit X of IA32_VMX_PROCBASED_CTLS3 is 1.',
    appliesWhen: '"activate tertiary controls" (primary bit 17) = 1; otherwise the tertiary controls act as all 0',
    fields: [PRIMARY, 'TERTIARY_PROCESSOR_BASED_CONTROLS'], alsoReads: ['IA32_VMX_PROCBASED_CTLS3'], inventoryId: 'C-EXEC-06',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.cr3-target-count',
    condition: 'The CR3-target count is at most 4 (the number of CR3-target values the processor supports, IA32_VMX_MISC[24:16]).',
    fields: ['CR3_TARGET_COUNT'], alsoReads: ['IA32_VMX_MISC[24:16]'], inventoryId: 'C-EXEC-07',
    note: 'The SDM states the limit as 4 and says future processors may support another number, reported in IA32_VMX_MISC.',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.io-bitmap-a-aligned',
    condition: `I/O-bitmap A address: ${PAGE_ALIGNED}.`, appliesWhen: '"use I/O bitmaps" = 1',
    fields: [PRIMARY, 'IO_BITMAP_A_ADDRESS'], inventoryId: 'C-EXEC-08',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.io-bitmap-a-width',
    condition: `I/O-bitmap A address: ${IN_WIDTH}.`, appliesWhen: '"use I/O bitmaps" = 1',
    fields: [PRIMARY, 'IO_BITMAP_A_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-09',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.io-bitmap-b-aligned',
    condition: `I/O-bitmap B address: ${PAGE_ALIGNED}.`, appliesWhen: '"use I/O bitmaps" = 1',
    fields: [PRIMARY, 'IO_BITMAP_B_ADDRESS'], inventoryId: 'C-EXEC-10',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.io-bitmap-b-width',
    condition: `I/O-bitmap B address: ${IN_WIDTH}.`, appliesWhen: '"use I/O bitmaps" = 1',
    fields: [PRIMARY, 'IO_BITMAP_B_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-11',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.msr-bitmap-aligned',
    condition: `MSR-bitmap address: ${PAGE_ALIGNED}.`, appliesWhen: '"use MSR bitmaps" = 1',
    fields: [PRIMARY, 'MSR_BITMAPS_ADDRESS'], inventoryId: 'C-EXEC-12',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.msr-bitmap-width',
    condition: `MSR-bitmap address: ${IN_WIDTH}.`, appliesWhen: '"use MSR bitmaps" = 1',
    fields: [PRIMARY, 'MSR_BITMAPS_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-13',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.virtual-apic-aligned',
    condition: `Virtual-APIC address: ${PAGE_ALIGNED}.`, appliesWhen: '"use TPR shadow" = 1',
    fields: [PRIMARY, 'VIRTUAL_APIC_ADDRESS'], inventoryId: 'C-EXEC-14',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.virtual-apic-width',
    condition: `Virtual-APIC address: ${IN_WIDTH}.`, appliesWhen: '"use TPR shadow" = 1',
    fields: [PRIMARY, 'VIRTUAL_APIC_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-15',
    note: 'Side effect, not a check: once the checks up to here pass with "use TPR shadow" = 1, bytes 3:1 of VTPR (virtual-APIC page offset 80H) may be cleared, even if the VM entry fails later.',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.tpr-threshold-reserved',
    condition: 'Bits 31:4 of the TPR threshold are 0.',
    appliesWhen: '"use TPR shadow" = 1 and "virtual-interrupt delivery" = 0',
    fields: [PRIMARY, SECONDARY, 'TPR_THRESHOLD'], inventoryId: 'C-EXEC-16',
    note: 'The 2008-era text (before virtual-interrupt delivery existed) has no "virtual-interrupt delivery" = 0 condition; that qualifier is from later editions, quoted in KVM commit 15fe455dd1a0 and implemented by Bochs VMenterLoadCheckVmControls.',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.tpr-threshold-vs-vtpr',
    condition: 'Bits 3:0 of the TPR threshold are not greater than bits 7:4 of VTPR (byte 80H of the virtual-APIC page).',
    appliesWhen: '"use TPR shadow" = 1, "virtualize APIC accesses" = 0 and "virtual-interrupt delivery" = 0',
    fields: [PRIMARY, SECONDARY, 'TPR_THRESHOLD', 'VIRTUAL_APIC_ADDRESS'], alsoReads: ['VTPR (virtual-APIC page byte 80H)'], inventoryId: 'C-EXEC-17',
    note: 'The "virtual-interrupt delivery" = 0 qualifier is from later editions (Bochs checks the threshold only without virtual-interrupt delivery).',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.x2apic-mode-needs-tpr-shadow',
    condition: '"virtualize x2APIC mode" is 0 unless "use TPR shadow" is 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-18',
    note: 'The 2008-era text states it as "virtualize x2APIC mode = 1 requires use TPR shadow = 1"; later editions group it with the next two checks under "use TPR shadow" = 0.',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.apic-register-virtualization-needs-tpr-shadow',
    condition: '"APIC-register virtualization" is 0 unless "use TPR shadow" is 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-19',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.virtual-interrupt-delivery-needs-tpr-shadow',
    condition: '"virtual-interrupt delivery" is 0 unless "use TPR shadow" is 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-20',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.virtual-nmis-need-nmi-exiting',
    condition: '"virtual NMIs" is 0 unless "NMI exiting" is 1.',
    fields: [PIN], inventoryId: 'C-EXEC-21',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.nmi-window-needs-virtual-nmis',
    condition: '"NMI-window exiting" is 0 unless "virtual NMIs" is 1.',
    fields: [PIN, PRIMARY], inventoryId: 'C-EXEC-22',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.apic-access-aligned',
    condition: `APIC-access address: ${PAGE_ALIGNED}.`, appliesWhen: '"virtualize APIC accesses" = 1',
    fields: [PRIMARY, SECONDARY, 'APIC_ACCESS_ADDRESS'], inventoryId: 'C-EXEC-23',
  },
  {
    ...BASE, ...READ_2008, id: 'execution-controls.apic-access-width',
    condition: `APIC-access address: ${IN_WIDTH}.`, appliesWhen: '"virtualize APIC accesses" = 1',
    fields: [PRIMARY, SECONDARY, 'APIC_ACCESS_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-24',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.x2apic-mode-excludes-apic-accesses',
    condition: '"virtualize x2APIC mode" and "virtualize APIC accesses" are not both 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-25',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.virtual-interrupt-delivery-needs-external-interrupt-exiting',
    condition: '"external-interrupt exiting" is 1 when "virtual-interrupt delivery" is 1.',
    fields: [PIN, PRIMARY, SECONDARY], inventoryId: 'C-EXEC-26',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.posted-interrupts-need-virtual-interrupt-delivery',
    condition: '"virtual-interrupt delivery" is 1 when "process posted interrupts" is 1.',
    fields: [PIN, PRIMARY, SECONDARY], inventoryId: 'C-EXEC-27',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.posted-interrupts-need-acknowledge-on-exit',
    condition: 'The "acknowledge interrupt on exit" VM-exit control is 1 when "process posted interrupts" is 1.',
    fields: [PIN, 'PRIMARY_VM_EXIT_CONTROLS'], inventoryId: 'C-EXEC-28',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.posted-interrupt-vector-range',
    condition: 'Bits 15:8 of the posted-interrupt notification vector are 0 (the vector is 0-255).',
    appliesWhen: '"process posted interrupts" = 1',
    fields: [PIN, 'POSTED_INTERRUPT_NOTIFICATION_VECTOR'], inventoryId: 'C-EXEC-29',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.posted-interrupt-descriptor-aligned',
    condition: 'Bits 5:0 of the posted-interrupt descriptor address are 0 (64-byte aligned).',
    appliesWhen: '"process posted interrupts" = 1',
    fields: [PIN, 'POSTED_INTERRUPT_DESCRIPTOR_ADDRESS'], inventoryId: 'C-EXEC-30',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.posted-interrupt-descriptor-width',
    condition: `Posted-interrupt descriptor address: ${IN_WIDTH}.`, appliesWhen: '"process posted interrupts" = 1',
    fields: [PIN, 'POSTED_INTERRUPT_DESCRIPTOR_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-31',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.vpid-nonzero',
    condition: 'The VPID field is not 0000H.', appliesWhen: '"activate secondary controls" = 1 and "enable VPID" = 1',
    fields: [PRIMARY, SECONDARY, 'VPID'], inventoryId: 'C-EXEC-32',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.eptp-memory-type',
    condition: 'EPTP bits 2:0 name a memory type IA32_VMX_EPT_VPID_CAP reports as supported: 0 (UC) needs bit 8, 6 (WB) needs bit 14; other values fail.',
    appliesWhen: EPT_ON, fields: [PRIMARY, SECONDARY, 'EPT_POINTER'], alsoReads: ['IA32_VMX_EPT_VPID_CAP[8]', 'IA32_VMX_EPT_VPID_CAP[14]'], inventoryId: 'C-EXEC-33',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.eptp-walk-length',
    condition: 'EPTP bits 5:3 (page-walk length minus 1) are 3 (4-level EPT).',
    appliesWhen: EPT_ON, fields: [PRIMARY, SECONDARY, 'EPT_POINTER'], alsoReads: ['IA32_VMX_EPT_VPID_CAP[6]', 'IA32_VMX_EPT_VPID_CAP[7]'], inventoryId: 'C-EXEC-34',
    note: 'The 2016 text allows only 3. Later editions also accept 4 (5-level EPT) when IA32_VMX_EPT_VPID_CAP[7] = 1; that part was not read here (KVM nested_vmx_check_eptp accepts it).',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.eptp-accessed-dirty',
    condition: 'EPTP bit 6 (accessed and dirty flags for EPT) is 0 when IA32_VMX_EPT_VPID_CAP[21] is 0.',
    appliesWhen: EPT_ON, fields: [PRIMARY, SECONDARY, 'EPT_POINTER'], alsoReads: ['IA32_VMX_EPT_VPID_CAP[21]'], inventoryId: 'C-EXEC-35',
  },
  {
    ...BASE, citation: SDM_2023.execution, verification: 'corroborated', basis: BOCHS_EPTP,
    id: 'execution-controls.eptp-supervisor-shadow-stack',
    condition: 'EPTP bit 7 (supervisor shadow-stack control) is 0 unless the processor supports it.',
    appliesWhen: EPT_ON, fields: [PRIMARY, SECONDARY, 'EPT_POINTER'], alsoReads: ['CET support (CPUID.(EAX=07H,ECX=0):ECX[7])'], inventoryId: 'C-EXEC-36',
    note: 'Bit 7 was reserved in 2016 (bits 11:7). Bochs ties it to CET support; the enumeration the current SDM names was not read.',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.eptp-reserved-low-bits',
    condition: 'EPTP bits 11:8 are 0 (bits 11:7 on processors without supervisor shadow-stack control).',
    appliesWhen: EPT_ON, fields: [PRIMARY, SECONDARY, 'EPT_POINTER'], inventoryId: 'C-EXEC-37',
    note: 'The 2016 text reserves bits 11:7; bit 7 later became the supervisor shadow-stack control (previous check).',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.eptp-width',
    condition: 'EPTP bits 63:N are 0, N being the physical-address width.',
    appliesWhen: EPT_ON, fields: [PRIMARY, SECONDARY, 'EPT_POINTER'], alsoReads: ['MAXPHYADDR (CPUID.80000008H:EAX[7:0])'], inventoryId: 'C-EXEC-37',
    note: 'Split from the same SDM bullet as the previous check: separately testable bits.',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.pml-needs-ept',
    condition: '"enable EPT" is 1 when "enable PML" is 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-38',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.pml-address-aligned',
    condition: `PML address: ${PAGE_ALIGNED}.`, appliesWhen: '"enable PML" = 1',
    fields: [PRIMARY, SECONDARY, 'PML_ADDRESS'], inventoryId: 'C-EXEC-39',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.pml-address-width',
    condition: `PML address: ${IN_WIDTH}.`, appliesWhen: '"enable PML" = 1',
    fields: [PRIMARY, SECONDARY, 'PML_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-40',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.unrestricted-guest-needs-ept',
    condition: '"enable EPT" is 1 when "unrestricted guest" is 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-41',
  },
  {
    ...BASE, ...LATER, id: 'execution-controls.mode-based-execute-needs-ept',
    condition: '"enable EPT" is 1 when "mode-based execute control for EPT" is 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-42',
  },
  {
    ...BASE, ...LATER, id: 'execution-controls.sub-page-permissions-need-ept',
    condition: '"enable EPT" is 1 when "sub-page write permissions for EPT" is 1.',
    fields: [PRIMARY, SECONDARY], inventoryId: 'C-EXEC-43',
  },
  {
    ...BASE, ...LATER, id: 'execution-controls.sub-page-permission-table-aligned',
    condition: `Sub-page-permission-table pointer: ${PAGE_ALIGNED}.`, appliesWhen: '"sub-page write permissions for EPT" = 1',
    fields: [PRIMARY, SECONDARY, 'SUB_PAGE_PERMISSION_TABLE_POINTER'], inventoryId: 'C-EXEC-44',
  },
  {
    ...BASE, ...LATER, id: 'execution-controls.sub-page-permission-table-width',
    condition: `Sub-page-permission-table pointer: ${IN_WIDTH}.`, appliesWhen: '"sub-page write permissions for EPT" = 1',
    fields: [PRIMARY, SECONDARY, 'SUB_PAGE_PERMISSION_TABLE_POINTER'], alsoReads: WIDTH, inventoryId: 'C-EXEC-45',
  },
  {
    ...BASE, ...SDM_2016.vmFunctions, verification: 'read', id: 'execution-controls.vm-function-controls-allowed',
    condition: 'No VM-function control bit X is 1 unless bit X of IA32_VMX_VMFUNC is 1.',
    appliesWhen: '"activate secondary controls" = 1 and "enable VM functions" = 1 (otherwise the VM-function controls are not checked)',
    fields: [PRIMARY, SECONDARY, 'VM_FUNCTION_CONTROLS'], alsoReads: ['IA32_VMX_VMFUNC'], inventoryId: 'C-EXEC-46',
    note: 'Read in Appendix A.11; §26.2.1.1 (page 26-5) confirms that nothing is checked when "enable VM functions" is 0.',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.eptp-switching-needs-ept',
    condition: '"enable EPT" is 1 when the "EPTP switching" VM-function control is 1.',
    appliesWhen: '"enable VM functions" = 1', fields: [PRIMARY, SECONDARY, 'VM_FUNCTION_CONTROLS'], inventoryId: 'C-EXEC-47',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.eptp-list-aligned',
    condition: `EPTP-list address: ${PAGE_ALIGNED}.`, appliesWhen: '"enable VM functions" = 1 and the "EPTP switching" VM-function control = 1',
    fields: [PRIMARY, SECONDARY, 'VM_FUNCTION_CONTROLS', 'EPTP_LIST_ADDRESS'], inventoryId: 'C-EXEC-48',
    note: 'Page 26-5 of the 2016 copy opens with the two address conditions of this and the next check; the line naming the EPTP-list address is on the unreadable end of page 26-4.',
  },
  {
    ...BASE, ...CUT_2016, id: 'execution-controls.eptp-list-width',
    condition: `EPTP-list address: ${IN_WIDTH}.`, appliesWhen: '"enable VM functions" = 1 and the "EPTP switching" VM-function control = 1',
    fields: [PRIMARY, SECONDARY, 'VM_FUNCTION_CONTROLS', 'EPTP_LIST_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-49',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.vmread-bitmap-aligned',
    condition: `VMREAD-bitmap address: ${PAGE_ALIGNED}.`, appliesWhen: '"VMCS shadowing" = 1',
    fields: [PRIMARY, SECONDARY, 'VMREAD_BITMAP_ADDRESS'], inventoryId: 'C-EXEC-50',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.vmread-bitmap-width',
    condition: `VMREAD-bitmap address: ${IN_WIDTH}.`, appliesWhen: '"VMCS shadowing" = 1',
    fields: [PRIMARY, SECONDARY, 'VMREAD_BITMAP_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-51',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.vmwrite-bitmap-aligned',
    condition: `VMWRITE-bitmap address: ${PAGE_ALIGNED}.`, appliesWhen: '"VMCS shadowing" = 1',
    fields: [PRIMARY, SECONDARY, 'VMWRITE_BITMAP_ADDRESS'], inventoryId: 'C-EXEC-52',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.vmwrite-bitmap-width',
    condition: `VMWRITE-bitmap address: ${IN_WIDTH}.`, appliesWhen: '"VMCS shadowing" = 1',
    fields: [PRIMARY, SECONDARY, 'VMWRITE_BITMAP_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-53',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.ve-information-aligned',
    condition: `Virtualization-exception information address: ${PAGE_ALIGNED}.`, appliesWhen: '"EPT-violation #VE" = 1',
    fields: [PRIMARY, SECONDARY, 'VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS'], inventoryId: 'C-EXEC-54',
  },
  {
    ...BASE, ...READ_2016, id: 'execution-controls.ve-information-width',
    condition: `Virtualization-exception information address: ${IN_WIDTH}.`, appliesWhen: '"EPT-violation #VE" = 1',
    fields: [PRIMARY, SECONDARY, 'VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS'], alsoReads: WIDTH, inventoryId: 'C-EXEC-55',
  },
];
