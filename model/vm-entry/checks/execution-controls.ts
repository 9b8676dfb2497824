/**
 * Checks on the VM-execution control fields, in the order of SDM Vol. 3C (December 2023)
 * §27.2.1.1 "VM-Execution Control Fields" (2016: §26.2.1.1; the catalogue read the 2016 edition,
 * the 2008-era §22.2.1.1 where 2016 pages were cut off, and Vol. 3D §A.11 "VM Functions"). A
 * failure is VMfailValid(7). Each rule is named by its catalogue id; the condition in words, the
 * citation and what backs the checks added after 2016 are in spec/entry-checks/execution-controls.ts.
 *
 * The secondary, tertiary and VM-function controls read here are those in effect (derived.ts):
 * 0 when the control that activates them is 0, so "'activate secondary controls' = 1 and X = 1"
 * is written `secondaryOn(X)`.
 *
 * Decisions where the catalogue notes a later edition than the one it read:
 * - CR3-target count: the limit is the number IA32_VMX_MISC[24:16] reports (the SDM states 4 and
 *   says future processors may report another number there; every profile here reports 4).
 * - TPR threshold: both checks apply only with "virtual-interrupt delivery" = 0, as later editions
 *   qualify them (the 2008-era text predates that control).
 * - EPTP: the page-walk length may be 4 levels (bits 5:3 = 3, IA32_VMX_EPT_VPID_CAP[6]) or 5
 *   levels (4, capability bit 7); bit 7 may be 1 only with capability bit 23; bits 11:8 are
 *   reserved. This is the December 2023 list model/instructions/invept.ts follows too.
 */
import { EPT_VPID_CAP } from '../../../spec/capability-msrs.ts';
import { EPT_MEMORY_TYPE, EPT_WALK_LENGTH_MINUS_1, POSTED_INTERRUPT_VECTOR_BITS, TPR_THRESHOLD, VIRTUAL_APIC } from '../../../spec/control-field-formats.ts';
import { EXIT_CONTROL, PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL, VMFUNC_CONTROL } from '../../../spec/control-bits.ts';
import type { FieldName } from '../../../spec/fields.ts';
import { bitOf } from '../../non-root.ts';
import { aligned, withinPhysicalWidth } from '../addresses.ts';
import { mustBeOnesSet, onlyAllowedOnes } from '../allowed.ts';
import { check, unknown } from '../check.ts';
import type { CheckEnvironment, EntryRule, Truth } from '../check.ts';
import { bits, cr3TargetValuesSupported, eptpParts, pageAligned } from '../derived.ts';
import type { BitGate } from '../gates.ts';
import { bitOn, pinOn, primaryOn, secondaryOn } from '../gates.ts';

const P = PRIMARY_CONTROL;
const S = SECONDARY_CONTROL;

/** Bits 5:0 of the posted-interrupt descriptor address must be 0 (64-byte aligned). */
const POSTED_INTERRUPT_DESCRIPTOR_ALIGNMENT_BITS = 6;

/** A control-field address that must be 4-KByte aligned when `when` holds. */
function pageAlignedAddress<W extends FieldName, A extends FieldName>(id: string, when: BitGate<W>, address: A): EntryRule {
  return check(id, { when, fields: [address], holds: (f) => pageAligned(f[address]) });
}

/** A control-field address that must set no bit beyond the physical-address width when `when` holds. */
function addressWithinWidth<W extends FieldName, A extends FieldName>(id: string, when: BitGate<W>, address: A): EntryRule {
  return check(id, { when, fields: [address], holds: (f, env) => withinPhysicalWidth(f[address], env) });
}

/**
 * Bits 3:0 of the TPR threshold do not exceed bits 7:4 of VTPR, byte 80H of the virtual-APIC
 * page; unknown where the memory is not known (as for `explain`).
 */
function thresholdWithinVtpr(threshold: bigint, virtualApic: bigint, env: CheckEnvironment): Truth {
  const vtprAddress = virtualApic + VIRTUAL_APIC.VTPR_OFFSET;
  const word = env.readMemory32(vtprAddress & ~3n);
  if (word === undefined) return unknown('VTPR, byte 80H of the virtual-APIC page');
  const vtpr = (BigInt(word) >> ((vtprAddress & 3n) * 8n)) & 0xffn;
  return bits(threshold, TPR_THRESHOLD.THRESHOLD_BITS - 1, 0) <= vtpr >> BigInt(VIRTUAL_APIC.VTPR_PRIORITY_CLASS);
}

/** The VM-execution control checks, in SDM order. */
export const EXECUTION_CONTROL_RULES: readonly EntryRule[] = [
  check('execution-controls.pin-based-must-be-1', {
    fields: ['PIN_BASED_CONTROLS'],
    holds: (f, env) => mustBeOnesSet(f.PIN_BASED_CONTROLS, env.profile.controls.pin),
  }),
  check('execution-controls.pin-based-allowed-1', {
    fields: ['PIN_BASED_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.PIN_BASED_CONTROLS, env.profile.controls.pin),
  }),
  check('execution-controls.primary-must-be-1', {
    fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f, env) => mustBeOnesSet(f.PRIMARY_PROCESSOR_BASED_CONTROLS, env.profile.controls.primary),
  }),
  check('execution-controls.primary-allowed-1', {
    fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.PRIMARY_PROCESSOR_BASED_CONTROLS, env.profile.controls.primary),
  }),
  check('execution-controls.secondary-allowed-1', {
    when: primaryOn(P.ACTIVATE_SECONDARY_CONTROLS),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.SECONDARY_PROCESSOR_BASED_CONTROLS, env.profile.controls.secondary),
  }),
  check('execution-controls.tertiary-allowed-1', {
    when: primaryOn(P.ACTIVATE_TERTIARY_CONTROLS),
    fields: ['TERTIARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.TERTIARY_PROCESSOR_BASED_CONTROLS, env.profile.controls.tertiary),
  }),
  check('execution-controls.cr3-target-count', {
    fields: ['CR3_TARGET_COUNT'],
    holds: (f, env) => f.CR3_TARGET_COUNT <= cr3TargetValuesSupported(env.profile),
  }),
  pageAlignedAddress('execution-controls.io-bitmap-a-aligned', primaryOn(P.USE_IO_BITMAPS), 'IO_BITMAP_A_ADDRESS'),
  addressWithinWidth('execution-controls.io-bitmap-a-width', primaryOn(P.USE_IO_BITMAPS), 'IO_BITMAP_A_ADDRESS'),
  pageAlignedAddress('execution-controls.io-bitmap-b-aligned', primaryOn(P.USE_IO_BITMAPS), 'IO_BITMAP_B_ADDRESS'),
  addressWithinWidth('execution-controls.io-bitmap-b-width', primaryOn(P.USE_IO_BITMAPS), 'IO_BITMAP_B_ADDRESS'),
  pageAlignedAddress('execution-controls.msr-bitmap-aligned', primaryOn(P.USE_MSR_BITMAPS), 'MSR_BITMAPS_ADDRESS'),
  addressWithinWidth('execution-controls.msr-bitmap-width', primaryOn(P.USE_MSR_BITMAPS), 'MSR_BITMAPS_ADDRESS'),
  pageAlignedAddress('execution-controls.virtual-apic-aligned', primaryOn(P.USE_TPR_SHADOW), 'VIRTUAL_APIC_ADDRESS'),
  addressWithinWidth('execution-controls.virtual-apic-width', primaryOn(P.USE_TPR_SHADOW), 'VIRTUAL_APIC_ADDRESS'),
  check('execution-controls.tpr-threshold-reserved', {
    when: {
      fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
      test: (f) => bitOf(f.PRIMARY_PROCESSOR_BASED_CONTROLS, P.USE_TPR_SHADOW) && !bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.VIRTUAL_INTERRUPT_DELIVERY),
    },
    fields: ['TPR_THRESHOLD'],
    holds: (f) => f.TPR_THRESHOLD >> BigInt(TPR_THRESHOLD.THRESHOLD_BITS) === 0n,
  }),
  check('execution-controls.tpr-threshold-vs-vtpr', {
    when: {
      fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
      test: (f) =>
        bitOf(f.PRIMARY_PROCESSOR_BASED_CONTROLS, P.USE_TPR_SHADOW) &&
        !bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.VIRTUALIZE_APIC_ACCESSES) &&
        !bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.VIRTUAL_INTERRUPT_DELIVERY),
    },
    fields: ['TPR_THRESHOLD', 'VIRTUAL_APIC_ADDRESS'],
    holds: (f, env) => thresholdWithinVtpr(f.TPR_THRESHOLD, f.VIRTUAL_APIC_ADDRESS, env),
  }),
  check('execution-controls.x2apic-mode-needs-tpr-shadow', {
    when: secondaryOn(S.VIRTUALIZE_X2APIC_MODE),
    fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.PRIMARY_PROCESSOR_BASED_CONTROLS, P.USE_TPR_SHADOW),
  }),
  check('execution-controls.apic-register-virtualization-needs-tpr-shadow', {
    when: secondaryOn(S.APIC_REGISTER_VIRTUALIZATION),
    fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.PRIMARY_PROCESSOR_BASED_CONTROLS, P.USE_TPR_SHADOW),
  }),
  check('execution-controls.virtual-interrupt-delivery-needs-tpr-shadow', {
    when: secondaryOn(S.VIRTUAL_INTERRUPT_DELIVERY),
    fields: ['PRIMARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.PRIMARY_PROCESSOR_BASED_CONTROLS, P.USE_TPR_SHADOW),
  }),
  check('execution-controls.virtual-nmis-need-nmi-exiting', {
    when: pinOn(PIN_CONTROL.VIRTUAL_NMIS),
    fields: ['PIN_BASED_CONTROLS'],
    holds: (f) => bitOf(f.PIN_BASED_CONTROLS, PIN_CONTROL.NMI_EXITING),
  }),
  check('execution-controls.nmi-window-needs-virtual-nmis', {
    when: primaryOn(P.NMI_WINDOW_EXITING),
    fields: ['PIN_BASED_CONTROLS'],
    holds: (f) => bitOf(f.PIN_BASED_CONTROLS, PIN_CONTROL.VIRTUAL_NMIS),
  }),
  pageAlignedAddress('execution-controls.apic-access-aligned', secondaryOn(S.VIRTUALIZE_APIC_ACCESSES), 'APIC_ACCESS_ADDRESS'),
  addressWithinWidth('execution-controls.apic-access-width', secondaryOn(S.VIRTUALIZE_APIC_ACCESSES), 'APIC_ACCESS_ADDRESS'),
  check('execution-controls.x2apic-mode-excludes-apic-accesses', {
    when: secondaryOn(S.VIRTUALIZE_X2APIC_MODE),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => !bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.VIRTUALIZE_APIC_ACCESSES),
  }),
  check('execution-controls.virtual-interrupt-delivery-needs-external-interrupt-exiting', {
    when: secondaryOn(S.VIRTUAL_INTERRUPT_DELIVERY),
    fields: ['PIN_BASED_CONTROLS'],
    holds: (f) => bitOf(f.PIN_BASED_CONTROLS, PIN_CONTROL.EXTERNAL_INTERRUPT_EXITING),
  }),
  check('execution-controls.posted-interrupts-need-virtual-interrupt-delivery', {
    when: pinOn(PIN_CONTROL.PROCESS_POSTED_INTERRUPTS),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.VIRTUAL_INTERRUPT_DELIVERY),
  }),
  check('execution-controls.posted-interrupts-need-acknowledge-on-exit', {
    when: pinOn(PIN_CONTROL.PROCESS_POSTED_INTERRUPTS),
    fields: ['PRIMARY_VM_EXIT_CONTROLS'],
    holds: (f) => bitOf(f.PRIMARY_VM_EXIT_CONTROLS, EXIT_CONTROL.ACKNOWLEDGE_INTERRUPT_ON_EXIT),
  }),
  check('execution-controls.posted-interrupt-vector-range', {
    when: pinOn(PIN_CONTROL.PROCESS_POSTED_INTERRUPTS),
    fields: ['POSTED_INTERRUPT_NOTIFICATION_VECTOR'],
    holds: (f) => f.POSTED_INTERRUPT_NOTIFICATION_VECTOR >> BigInt(POSTED_INTERRUPT_VECTOR_BITS) === 0n,
  }),
  check('execution-controls.posted-interrupt-descriptor-aligned', {
    when: pinOn(PIN_CONTROL.PROCESS_POSTED_INTERRUPTS),
    fields: ['POSTED_INTERRUPT_DESCRIPTOR_ADDRESS'],
    holds: (f) => aligned(f.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, POSTED_INTERRUPT_DESCRIPTOR_ALIGNMENT_BITS),
  }),
  addressWithinWidth('execution-controls.posted-interrupt-descriptor-width', pinOn(PIN_CONTROL.PROCESS_POSTED_INTERRUPTS), 'POSTED_INTERRUPT_DESCRIPTOR_ADDRESS'),
  check('execution-controls.vpid-nonzero', {
    when: secondaryOn(S.ENABLE_VPID),
    fields: ['VPID'],
    holds: (f) => f.VPID !== 0n,
  }),
  check('execution-controls.eptp-memory-type', {
    when: secondaryOn(S.ENABLE_EPT),
    fields: ['EPT_POINTER'],
    holds: (f, env) => {
      const { memoryType } = eptpParts(f.EPT_POINTER);
      if (memoryType === EPT_MEMORY_TYPE.UC) return bitOf(env.profile.eptVpidCap, EPT_VPID_CAP.MEMORY_TYPE_UC);
      if (memoryType === EPT_MEMORY_TYPE.WB) return bitOf(env.profile.eptVpidCap, EPT_VPID_CAP.MEMORY_TYPE_WB);
      return false;
    },
  }),
  check('execution-controls.eptp-walk-length', {
    when: secondaryOn(S.ENABLE_EPT),
    fields: ['EPT_POINTER'],
    holds: (f, env) => {
      const { walkLengthMinus1 } = eptpParts(f.EPT_POINTER);
      if (walkLengthMinus1 === EPT_WALK_LENGTH_MINUS_1.FOUR_LEVEL) return bitOf(env.profile.eptVpidCap, EPT_VPID_CAP.PAGE_WALK_LENGTH_4);
      if (walkLengthMinus1 === EPT_WALK_LENGTH_MINUS_1.FIVE_LEVEL) return bitOf(env.profile.eptVpidCap, EPT_VPID_CAP.PAGE_WALK_LENGTH_5);
      return false;
    },
  }),
  check('execution-controls.eptp-accessed-dirty', {
    when: secondaryOn(S.ENABLE_EPT),
    fields: ['EPT_POINTER'],
    holds: (f, env) => !eptpParts(f.EPT_POINTER).accessedDirty || bitOf(env.profile.eptVpidCap, EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS),
  }),
  check('execution-controls.eptp-supervisor-shadow-stack', {
    when: secondaryOn(S.ENABLE_EPT),
    fields: ['EPT_POINTER'],
    holds: (f, env) => !eptpParts(f.EPT_POINTER).supervisorShadowStack || bitOf(env.profile.eptVpidCap, EPT_VPID_CAP.SUPERVISOR_SHADOW_STACK),
  }),
  check('execution-controls.eptp-reserved-low-bits', {
    when: secondaryOn(S.ENABLE_EPT),
    fields: ['EPT_POINTER'],
    holds: (f) => eptpParts(f.EPT_POINTER).reservedLow === 0n,
  }),
  check('execution-controls.eptp-width', {
    when: secondaryOn(S.ENABLE_EPT),
    fields: ['EPT_POINTER'],
    holds: (f, env) => f.EPT_POINTER >> BigInt(env.profile.data.physicalAddressWidth) === 0n,
  }),
  check('execution-controls.pml-needs-ept', {
    when: secondaryOn(S.ENABLE_PML),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.ENABLE_EPT),
  }),
  pageAlignedAddress('execution-controls.pml-address-aligned', secondaryOn(S.ENABLE_PML), 'PML_ADDRESS'),
  addressWithinWidth('execution-controls.pml-address-width', secondaryOn(S.ENABLE_PML), 'PML_ADDRESS'),
  check('execution-controls.unrestricted-guest-needs-ept', {
    when: secondaryOn(S.UNRESTRICTED_GUEST),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.ENABLE_EPT),
  }),
  check('execution-controls.mode-based-execute-needs-ept', {
    when: secondaryOn(S.MODE_BASED_EXECUTE_CONTROL_FOR_EPT),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.ENABLE_EPT),
  }),
  check('execution-controls.sub-page-permissions-need-ept', {
    when: secondaryOn(S.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.ENABLE_EPT),
  }),
  pageAlignedAddress('execution-controls.sub-page-permission-table-aligned', secondaryOn(S.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT), 'SUB_PAGE_PERMISSION_TABLE_POINTER'),
  addressWithinWidth('execution-controls.sub-page-permission-table-width', secondaryOn(S.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT), 'SUB_PAGE_PERMISSION_TABLE_POINTER'),
  check('execution-controls.vm-function-controls-allowed', {
    when: secondaryOn(S.ENABLE_VM_FUNCTIONS),
    fields: ['VM_FUNCTION_CONTROLS'],
    holds: (f, env) => onlyAllowedOnes(f.VM_FUNCTION_CONTROLS, env.profile.controls.vmfunc),
  }),
  check('execution-controls.eptp-switching-needs-ept', {
    when: bitOn('VM_FUNCTION_CONTROLS', VMFUNC_CONTROL.EPTP_SWITCHING),
    fields: ['SECONDARY_PROCESSOR_BASED_CONTROLS'],
    holds: (f) => bitOf(f.SECONDARY_PROCESSOR_BASED_CONTROLS, S.ENABLE_EPT),
  }),
  pageAlignedAddress('execution-controls.eptp-list-aligned', bitOn('VM_FUNCTION_CONTROLS', VMFUNC_CONTROL.EPTP_SWITCHING), 'EPTP_LIST_ADDRESS'),
  addressWithinWidth('execution-controls.eptp-list-width', bitOn('VM_FUNCTION_CONTROLS', VMFUNC_CONTROL.EPTP_SWITCHING), 'EPTP_LIST_ADDRESS'),
  pageAlignedAddress('execution-controls.vmread-bitmap-aligned', secondaryOn(S.VMCS_SHADOWING), 'VMREAD_BITMAP_ADDRESS'),
  addressWithinWidth('execution-controls.vmread-bitmap-width', secondaryOn(S.VMCS_SHADOWING), 'VMREAD_BITMAP_ADDRESS'),
  pageAlignedAddress('execution-controls.vmwrite-bitmap-aligned', secondaryOn(S.VMCS_SHADOWING), 'VMWRITE_BITMAP_ADDRESS'),
  addressWithinWidth('execution-controls.vmwrite-bitmap-width', secondaryOn(S.VMCS_SHADOWING), 'VMWRITE_BITMAP_ADDRESS'),
  pageAlignedAddress('execution-controls.ve-information-aligned', secondaryOn(S.EPT_VIOLATION_VE), 'VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS'),
  addressWithinWidth('execution-controls.ve-information-width', secondaryOn(S.EPT_VIOLATION_VE), 'VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS'),
];
