/**
 * The checks VM entry makes on each entry of the VM-entry MSR-load area (SDM "Loading MSRs":
 * 22.4 in the c.2009 Vol. 3B, 26.4 in 2016, 27.4 in December 2023). Entries are processed in
 * order, each 16 bytes: MSR index in bits 31:0, reserved bits 63:32, data in bits 127:64. The
 * first entry that fails ends the VM entry with exit reason 34 and the 1-based index of that entry
 * as exit qualification; entries before it have been loaded.
 */
import type { EntryCheck } from './types.ts';
import { MSR_LOAD_FAILURE, TITLE, VBOX_MSR_LOAD, sdm2009, sdm2023Derived } from './guest-sources.ts';

const GROUP = 'msr-load';
const DEC2023 = '27.4';
/** Read on page 22-22; the heading "22.4 Loading MSRs" is on the page before, which was not visible. */
const READ_2009 = sdm2009('22.4', TITLE.loadingMsrs);
const DERIVED = sdm2023Derived(DEC2023, TITLE.loadingMsrs);
const FIELDS = ['VM_ENTRY_MSR_LOAD_COUNT', 'VM_ENTRY_MSR_LOAD_ADDRESS'];
const AREA = 'memory: the VM-entry MSR-load area entry';
const WHEN = 'each entry below the VM-entry MSR-load count, in order';
const KVM_MSR = 'Linux arch/x86/kvm/vmx/nested.c, nested_vmx_load_msr_check';
const BOCHS_MSR = 'Bochs cpu/vmx.cc (commit 783b58f), BX_CPU_C::LoadMSRs';
const EXIT_LIST =
  'the 2016 edition\'s VM-exit list (27.6 "Loading MSRs") states the same rule, which was read; the VM-entry page was not visible';

type Draft = Omit<EntryCheck, 'group' | 'consequence' | 'id' | 'fields' | 'appliesWhen'> & { name: string };

function check(draft: Draft): EntryCheck {
  const { name, ...rest } = draft;
  const dated = rest.citation.section === DEC2023 ? {} : { december2023Section: DEC2023 };
  return {
    id: `${GROUP}.${name}`,
    group: GROUP,
    appliesWhen: WHEN,
    consequence: MSR_LOAD_FAILURE,
    fields: FIELDS,
    ...dated,
    ...rest,
  };
}

/** The per-entry MSR-load checks, in SDM order. */
export const MSR_LOAD_CHECKS: readonly EntryCheck[] = [
  check({
    name: 'not-fs-base',
    condition: 'The entry\'s MSR index is not C0000100H (IA32_FS_BASE).',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_MSR}; ${KVM_MSR}; ${VBOX_MSR_LOAD}; ${EXIT_LIST}`,
    alsoReads: [AREA],
    inventoryId: 'M-01',
  }),
  check({
    name: 'not-gs-base',
    condition: 'The entry\'s MSR index is not C0000101H (IA32_GS_BASE).',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_MSR}; ${KVM_MSR}; ${VBOX_MSR_LOAD}; ${EXIT_LIST}`,
    alsoReads: [AREA],
    inventoryId: 'M-02',
  }),
  check({
    name: 'not-x2apic-range',
    condition: 'Bits 31:8 of the entry\'s MSR index are not 000008H (the x2APIC register range 800H-8FFH).',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_MSR}; ${VBOX_MSR_LOAD}; ${KVM_MSR} (only while the local APIC is in x2APIC mode); ${EXIT_LIST}`,
    alsoReads: [AREA],
    inventoryId: 'M-03',
    note: 'Bochs, VirtualBox and the SDM exit-list wording make it unconditional; KVM applies it only in x2APIC mode.',
  }),
  check({
    name: 'not-smm-only',
    condition: 'The entry\'s MSR index does not name an MSR writable only in SMM (for example IA32_SMM_MONITOR_CTL, 9BH) while the entry does not start in SMM.',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${KVM_MSR} and ${VBOX_MSR_LOAD} (both reject IA32_SMM_MONITOR_CTL); ${EXIT_LIST}`,
    alsoReads: [AREA, 'whether the logical processor is in SMM'],
    inventoryId: 'M-04',
  }),
  check({
    name: 'not-model-specific',
    condition: 'The entry\'s MSR index does not name an MSR that this processor refuses to load on VM entry for model-specific reasons.',
    citation: READ_2009,
    verification: 'read',
    alsoReads: [AREA, 'the processor\'s list of MSRs not loadable on VM entry'],
    inventoryId: 'M-05',
    note: 'Processor-specific: a profile must list these MSRs (KVM refuses the microcode MSRs 79H and 8BH).',
  }),
  check({
    name: 'reserved-zero',
    condition: 'Bits 63:32 of the entry are 0.',
    citation: READ_2009,
    verification: 'read',
    alsoReads: [AREA],
    inventoryId: 'M-06',
  }),
  check({
    name: 'wrmsr-would-succeed',
    condition: 'Writing the entry\'s bits 127:64 to the MSR it names with WRMSR at CPL 0 would not cause #GP.',
    citation: READ_2009,
    verification: 'read',
    alsoReads: [AREA, 'the MSR\'s writable bits and value checks'],
    inventoryId: 'M-07',
  }),
];
