/**
 * Perturbation providers (perturbation-provider.ts) for the checks on the VM-execution, VM-exit
 * and VM-entry controls: the coordinated changes the one-field search of vmcs-perturb.ts cannot
 * find, as bundles (perturbation-bundles.ts): a feature set up whole and valid is the check's
 * passing side, the bundle with one thing broken its failing side.
 *
 * The conditions are those of SDM Vol. 3C, December 2023, §27.2.1.1 "VM-Execution Control
 * Fields", §27.2.1.2 "VM-Exit Control Fields" and §27.2.1.3 "VM-Entry Control Fields" as the
 * catalogue states them (spec/entry-checks/); the model's rule judges every perturbation before
 * it is used (vmcs-perturb.ts), so a bundle the profile cannot have is dropped, not sent.
 */
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { ENTRY_CONTROL, EXIT_CONTROL, PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL, VMFUNC_CONTROL } from '../../spec/control-bits.ts';
import type { FieldName } from '../../spec/fields.ts';
import { BUNDLE_PAGES, bundle, fromBundle, valueIn, withChange, without, type Controls } from './perturbation-bundles.ts';
import { bit, type FieldChange, type PerturbationProvider, type ProviderContext, type ProviderTable } from './perturbation-provider.ts';

// Bundles, one per feature, each valid on its own.
const tprShadow = (ctx: ProviderContext, more: Controls = {}): FieldChange[] | undefined =>
  bundle(ctx, { ...more, primary: [PRIMARY_CONTROL.USE_TPR_SHADOW, ...(more.primary ?? [])] }, { VIRTUAL_APIC_ADDRESS: BUNDLE_PAGES.virtualApic, TPR_THRESHOLD: 0n });
const x2apicMode = (ctx: ProviderContext): FieldChange[] | undefined => tprShadow(ctx, { secondary: [SECONDARY_CONTROL.VIRTUALIZE_X2APIC_MODE] });
const virtualInterruptDelivery = (ctx: ProviderContext): FieldChange[] | undefined =>
  tprShadow(ctx, { pin: [PIN_CONTROL.EXTERNAL_INTERRUPT_EXITING], secondary: [SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY] });
const postedInterrupts = (ctx: ProviderContext): FieldChange[] | undefined => {
  const base = tprShadow(ctx, {
    pin: [PIN_CONTROL.EXTERNAL_INTERRUPT_EXITING, PIN_CONTROL.PROCESS_POSTED_INTERRUPTS],
    secondary: [SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY],
    exit: [EXIT_CONTROL.ACKNOWLEDGE_INTERRUPT_ON_EXIT],
  });
  const extra = bundle(ctx, {}, { POSTED_INTERRUPT_NOTIFICATION_VECTOR: 0xf2n, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: BUNDLE_PAGES.postedInterruptDescriptor });
  return base === undefined || extra === undefined ? undefined : [...base, ...extra];
};
const virtualNmis = (ctx: ProviderContext, window: boolean): FieldChange[] | undefined =>
  bundle(ctx, { pin: [PIN_CONTROL.NMI_EXITING, PIN_CONTROL.VIRTUAL_NMIS], primary: window ? [PRIMARY_CONTROL.NMI_WINDOW_EXITING] : [] });
/** EPT on, with the EPTP the builder writes when the options have EPT (WB or UC, 4-level walk). */
const ept = (ctx: ProviderContext, more: Controls = {}, fields: Partial<Record<FieldName, bigint>> = {}): FieldChange[] | undefined => {
  const eptp = ctx.options.ept ? (ctx.values.get('EPT_POINTER') as bigint) : 0x22000n | (3n << 3n) | ((ctx.profile.eptVpidCap & bit(EPT_VPID_CAP.MEMORY_TYPE_WB)) !== 0n ? 6n : 0n);
  return bundle(ctx, { ...more, secondary: [SECONDARY_CONTROL.ENABLE_EPT, ...(more.secondary ?? [])] }, { EPT_POINTER: eptp, ...fields });
};
const PAGE_BREAKS = (field: FieldName) => (ctx: ProviderContext, base: FieldChange[]): FieldChange[][] => {
  const page = valueIn(ctx, base, field);
  const width = BigInt(ctx.profile.data.physicalAddressWidth);
  return [withChange(base, field, page | 0x800n), withChange(base, field, page | 1n), withChange(base, field, page | (1n << width)), withChange(base, field, page | (1n << 63n))];
};
/** An area of `count` 16-byte entries whose last byte is the first byte beyond the physical-address width (`over`), or its last byte (not over). */
const areaAtTop = (ctx: ProviderContext, count: FieldName, address: FieldName, over: boolean): FieldChange[] | undefined => {
  const top = 1n << BigInt(ctx.profile.data.physicalAddressWidth);
  return bundle(ctx, {}, { [count]: over ? 2n : 1n, [address]: top - 16n });
};

/** Providers for the execution-control, exit-control and entry-control checks. */
export const CONTROL_PERTURBATIONS: ProviderTable = {
  'execution-controls.tertiary-allowed-1': {
    failing: (ctx) => {
      const on = bundle(ctx, { primary: [PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS] });
      if (on === undefined) return [];
      const allowed = ctx.profile.controls.tertiary.mayBeOne;
      return [0, 5, 6, 8, 31, 63].filter((n) => (allowed & bit(n)) === 0n).map((n) => ({ changes: withChange(on, 'TERTIARY_PROCESSOR_BASED_CONTROLS', bit(n)) }));
    },
    passing: (ctx) => {
      const on = bundle(ctx, { primary: [PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS] });
      return on === undefined ? [] : [{ changes: on }];
    },
  },
  'execution-controls.tpr-threshold-reserved': fromBundle((ctx) => tprShadow(ctx), (ctx, base) => [withChange(base, 'TPR_THRESHOLD', 0x10n), withChange(base, 'TPR_THRESHOLD', 0x8000_0000n)]),
  'execution-controls.tpr-threshold-vs-vtpr': {
    failing: (ctx) => {
      const base = tprShadow(ctx);
      return base === undefined ? [] : [{ changes: withChange(base, 'TPR_THRESHOLD', 1n) }];
    },
    passing: (ctx) => {
      const base = tprShadow(ctx);
      // VTPR (byte 80H of the virtual-APIC page) 20H: bits 7:4 are 2, not below a threshold of 2.
      return base === undefined ? [] : [{ changes: withChange(base, 'TPR_THRESHOLD', 2n), before: [{ kind: 'write-memory', address: BUNDLE_PAGES.virtualApic + 0x80n, value: 0x20n }] }];
    },
  },
  'execution-controls.x2apic-mode-needs-tpr-shadow': fromBundle(x2apicMode, (ctx, base) => [without(ctx, base, 'PRIMARY_PROCESSOR_BASED_CONTROLS', PRIMARY_CONTROL.USE_TPR_SHADOW)]),
  'execution-controls.apic-register-virtualization-needs-tpr-shadow': fromBundle(
    (ctx) => tprShadow(ctx, { secondary: [SECONDARY_CONTROL.APIC_REGISTER_VIRTUALIZATION] }),
    (ctx, base) => [without(ctx, base, 'PRIMARY_PROCESSOR_BASED_CONTROLS', PRIMARY_CONTROL.USE_TPR_SHADOW)],
  ),
  'execution-controls.virtual-interrupt-delivery-needs-tpr-shadow': fromBundle(virtualInterruptDelivery, (ctx, base) => [without(ctx, base, 'PRIMARY_PROCESSOR_BASED_CONTROLS', PRIMARY_CONTROL.USE_TPR_SHADOW)]),
  'execution-controls.virtual-nmis-need-nmi-exiting': fromBundle((ctx) => virtualNmis(ctx, false), (ctx, base) => [without(ctx, base, 'PIN_BASED_CONTROLS', PIN_CONTROL.NMI_EXITING)]),
  'execution-controls.nmi-window-needs-virtual-nmis': fromBundle((ctx) => virtualNmis(ctx, true), (ctx, base) => [without(ctx, without(ctx, base, 'PIN_BASED_CONTROLS', PIN_CONTROL.VIRTUAL_NMIS), 'PIN_BASED_CONTROLS', PIN_CONTROL.NMI_EXITING)]),
  'execution-controls.x2apic-mode-excludes-apic-accesses': fromBundle(x2apicMode, (ctx) => [
    tprShadow(ctx, { secondary: [SECONDARY_CONTROL.VIRTUALIZE_X2APIC_MODE, SECONDARY_CONTROL.VIRTUALIZE_APIC_ACCESSES] })?.concat([{ field: 'APIC_ACCESS_ADDRESS', value: BUNDLE_PAGES.apicAccess }]),
  ]),
  'execution-controls.virtual-interrupt-delivery-needs-external-interrupt-exiting': fromBundle(virtualInterruptDelivery, (ctx, base) => [without(ctx, base, 'PIN_BASED_CONTROLS', PIN_CONTROL.EXTERNAL_INTERRUPT_EXITING)]),
  'execution-controls.posted-interrupts-need-virtual-interrupt-delivery': fromBundle(postedInterrupts, (ctx, base) => [without(ctx, base, 'SECONDARY_PROCESSOR_BASED_CONTROLS', SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY)]),
  'execution-controls.posted-interrupts-need-acknowledge-on-exit': fromBundle(postedInterrupts, (ctx, base) => [without(ctx, base, 'PRIMARY_VM_EXIT_CONTROLS', EXIT_CONTROL.ACKNOWLEDGE_INTERRUPT_ON_EXIT)]),
  'execution-controls.posted-interrupt-vector-range': fromBundle(postedInterrupts, (_ctx, base) => [withChange(base, 'POSTED_INTERRUPT_NOTIFICATION_VECTOR', 0x1f2n), withChange(base, 'POSTED_INTERRUPT_NOTIFICATION_VECTOR', 0x8000n)]),
  'execution-controls.posted-interrupt-descriptor-aligned': fromBundle(postedInterrupts, (ctx, base) => [withChange(base, 'POSTED_INTERRUPT_DESCRIPTOR_ADDRESS', valueIn(ctx, base, 'POSTED_INTERRUPT_DESCRIPTOR_ADDRESS') | 0x20n)]),
  'execution-controls.posted-interrupt-descriptor-width': fromBundle(postedInterrupts, PAGE_BREAKS('POSTED_INTERRUPT_DESCRIPTOR_ADDRESS')),
  'execution-controls.vpid-nonzero': fromBundle((ctx) => bundle(ctx, { secondary: [SECONDARY_CONTROL.ENABLE_VPID] }, { VPID: 1n }), (_ctx, base) => [withChange(base, 'VPID', 0n)]),
  'execution-controls.eptp-memory-type': fromBundle((ctx) => ept(ctx)),
  'execution-controls.eptp-walk-length': fromBundle((ctx) => ept(ctx)),
  'execution-controls.eptp-accessed-dirty': fromBundle((ctx) => ept(ctx), (ctx, base) => [withChange(base, 'EPT_POINTER', valueIn(ctx, base, 'EPT_POINTER') | bit(6))]),
  'execution-controls.eptp-supervisor-shadow-stack': fromBundle((ctx) => ept(ctx), (ctx, base) => [withChange(base, 'EPT_POINTER', valueIn(ctx, base, 'EPT_POINTER') | bit(7))]),
  'execution-controls.eptp-reserved-low-bits': fromBundle((ctx) => ept(ctx), (ctx, base) => [8, 9, 10, 11].map((n) => withChange(base, 'EPT_POINTER', valueIn(ctx, base, 'EPT_POINTER') | bit(n)))),
  'execution-controls.eptp-width': fromBundle((ctx) => ept(ctx), PAGE_BREAKS('EPT_POINTER')),
  'execution-controls.pml-needs-ept': fromBundle((ctx) => ept(ctx, { secondary: [SECONDARY_CONTROL.ENABLE_PML] }, { PML_ADDRESS: BUNDLE_PAGES.pml }), (ctx, base) => [without(ctx, base, 'SECONDARY_PROCESSOR_BASED_CONTROLS', SECONDARY_CONTROL.ENABLE_EPT)]),
  'execution-controls.pml-address-aligned': fromBundle((ctx) => ept(ctx, { secondary: [SECONDARY_CONTROL.ENABLE_PML] }, { PML_ADDRESS: BUNDLE_PAGES.pml }), PAGE_BREAKS('PML_ADDRESS')),
  'execution-controls.pml-address-width': fromBundle((ctx) => ept(ctx, { secondary: [SECONDARY_CONTROL.ENABLE_PML] }, { PML_ADDRESS: BUNDLE_PAGES.pml }), PAGE_BREAKS('PML_ADDRESS')),
  'execution-controls.mode-based-execute-needs-ept': fromBundle((ctx) => ept(ctx, { secondary: [SECONDARY_CONTROL.MODE_BASED_EXECUTE_CONTROL_FOR_EPT] }), (ctx, base) => [without(ctx, base, 'SECONDARY_PROCESSOR_BASED_CONTROLS', SECONDARY_CONTROL.ENABLE_EPT)]),
  'execution-controls.sub-page-permissions-need-ept': fromBundle(
    (ctx) => ept(ctx, { secondary: [SECONDARY_CONTROL.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT] }, { SUB_PAGE_PERMISSION_TABLE_POINTER: BUNDLE_PAGES.subPagePermissionTable }),
    (ctx, base) => [without(ctx, base, 'SECONDARY_PROCESSOR_BASED_CONTROLS', SECONDARY_CONTROL.ENABLE_EPT)],
  ),
  'execution-controls.sub-page-permission-table-aligned': fromBundle(
    (ctx) => ept(ctx, { secondary: [SECONDARY_CONTROL.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT] }, { SUB_PAGE_PERMISSION_TABLE_POINTER: BUNDLE_PAGES.subPagePermissionTable }),
    PAGE_BREAKS('SUB_PAGE_PERMISSION_TABLE_POINTER'),
  ),
  'execution-controls.sub-page-permission-table-width': fromBundle(
    (ctx) => ept(ctx, { secondary: [SECONDARY_CONTROL.SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT] }, { SUB_PAGE_PERMISSION_TABLE_POINTER: BUNDLE_PAGES.subPagePermissionTable }),
    PAGE_BREAKS('SUB_PAGE_PERMISSION_TABLE_POINTER'),
  ),
  'execution-controls.vm-function-controls-allowed': fromBundle(
    (ctx) => bundle(ctx, { secondary: [SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS] }),
    (ctx, base) => [1, 2, 5, 63].filter((n) => (ctx.profile.controls.vmfunc.mayBeOne & bit(n)) === 0n).map((n) => withChange(base, 'VM_FUNCTION_CONTROLS', bit(n))),
  ),
  'execution-controls.eptp-switching-needs-ept': fromBundle(
    (ctx) => ept(ctx, { vmfunc: [VMFUNC_CONTROL.EPTP_SWITCHING] }, { EPTP_LIST_ADDRESS: BUNDLE_PAGES.eptpList }),
    (ctx, base) => [without(ctx, base, 'SECONDARY_PROCESSOR_BASED_CONTROLS', SECONDARY_CONTROL.ENABLE_EPT)],
  ),
  'execution-controls.eptp-list-aligned': fromBundle((ctx) => ept(ctx, { vmfunc: [VMFUNC_CONTROL.EPTP_SWITCHING] }, { EPTP_LIST_ADDRESS: BUNDLE_PAGES.eptpList }), PAGE_BREAKS('EPTP_LIST_ADDRESS')),
  'execution-controls.eptp-list-width': fromBundle((ctx) => ept(ctx, { vmfunc: [VMFUNC_CONTROL.EPTP_SWITCHING] }, { EPTP_LIST_ADDRESS: BUNDLE_PAGES.eptpList }), PAGE_BREAKS('EPTP_LIST_ADDRESS')),
  'execution-controls.vmread-bitmap-aligned': shadowing('VMREAD_BITMAP_ADDRESS'),
  'execution-controls.vmread-bitmap-width': shadowing('VMREAD_BITMAP_ADDRESS'),
  'execution-controls.vmwrite-bitmap-aligned': shadowing('VMWRITE_BITMAP_ADDRESS'),
  'execution-controls.vmwrite-bitmap-width': shadowing('VMWRITE_BITMAP_ADDRESS'),
  'exit-controls.secondary-allowed-1': {
    failing: (ctx) => {
      const on = bundle(ctx, { exit: [EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS] });
      if (on === undefined) return [];
      const allowed = ctx.profile.controls['secondary-exit'].mayBeOne;
      return [0, 2, 3, 63].filter((n) => (allowed & bit(n)) === 0n).map((n) => ({ changes: withChange(on, 'SECONDARY_VM_EXIT_CONTROLS', bit(n)) }));
    },
    passing: (ctx) => {
      const on = bundle(ctx, { exit: [EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS] });
      return on === undefined ? [] : [{ changes: on }];
    },
  },
  'exit-controls.save-preemption-timer-needs-timer': fromBundle(
    (ctx) => bundle(ctx, { pin: [PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER], exit: [EXIT_CONTROL.SAVE_VMX_PREEMPTION_TIMER_VALUE] }),
    (ctx, base) => [without(ctx, base, 'PIN_BASED_CONTROLS', PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER)],
  ),
  'exit-controls.msr-store-last-byte-width': lastByte('VM_EXIT_MSR_STORE_COUNT', 'VM_EXIT_MSR_STORE_ADDRESS'),
  'exit-controls.msr-load-last-byte-width': lastByte('VM_EXIT_MSR_LOAD_COUNT', 'VM_EXIT_MSR_LOAD_ADDRESS'),
  'entry-controls.msr-load-last-byte-width': lastByte('VM_ENTRY_MSR_LOAD_COUNT', 'VM_ENTRY_MSR_LOAD_ADDRESS'),
  'entry-controls.smm-controls-exclusive': fromBundle(
    (ctx) => bundle(ctx, {}),
    (ctx, base) => [withChange(base, 'VM_ENTRY_CONTROLS', valueIn(ctx, base, 'VM_ENTRY_CONTROLS') | bit(ENTRY_CONTROL.ENTRY_TO_SMM) | bit(ENTRY_CONTROL.DEACTIVATE_DUAL_MONITOR_TREATMENT))],
  ),
};

/** VMCS shadowing with both bitmaps at valid pages; the failing side breaks `field`'s address. */
function shadowing(field: FieldName): PerturbationProvider {
  return fromBundle(
    (ctx) => bundle(ctx, { secondary: [SECONDARY_CONTROL.VMCS_SHADOWING] }, { VMREAD_BITMAP_ADDRESS: BUNDLE_PAGES.vmreadBitmap, VMWRITE_BITMAP_ADDRESS: BUNDLE_PAGES.vmwriteBitmap }),
    PAGE_BREAKS(field),
  );
}

/** An MSR area ending at the last byte inside the physical-address width (passing), or one byte beyond (failing). */
function lastByte(count: FieldName, address: FieldName): PerturbationProvider {
  return {
    passing: (ctx) => {
      const inside = areaAtTop(ctx, count, address, false);
      return inside === undefined ? [] : [{ changes: inside }];
    },
    failing: (ctx) => {
      const over = areaAtTop(ctx, count, address, true);
      return over === undefined ? [] : [{ changes: over }];
    },
  };
}
