/**
 * VM-entry checks on the guest non-register state (SDM Vol. 3C "Checks on Guest Non-Register
 * State": 26.3.1.5 in 2016, 27.3.1.5 in December 2023), in SDM order: activity state,
 * interruptibility state, pending debug exceptions, VMCS link pointer, then a later addition
 * (UINV). Failures are VM-entry failures with exit reason 33; the exit qualification is 0, except
 * 3 for an NMI injected under blocking by STI and 4 for the VMCS link pointer (the list of
 * qualification values was read in the c.2009 edition, §22.7 "VM-Entry Failures During or After
 * Loading Guest State").
 */
import type { EntryCheck } from './types.ts';
import {
  BOCHS_GUEST,
  GUEST_STATE_FAILURE,
  KVM_FRED,
  KVM_GUEST,
  LINK_POINTER_FAILURE,
  NMI_STI_FAILURE,
  TITLE,
  sdm2009,
  sdm2016,
  sdm2023Derived,
} from './guest-sources.ts';

const GROUP = 'guest-non-register-state';
const DEC2023 = '27.3.1.5';
const READ_2016 = sdm2016('26.3.1.5', TITLE.nonRegister);
const READ_2009 = sdm2009('22.3.1.5', TITLE.nonRegister);
const DERIVED = sdm2023Derived(DEC2023, TITLE.nonRegister);
const INJECTING = 'VM-entry interruption information valid (bit 31)';
const LINK_IN_USE = 'VMCS link pointer is not FFFFFFFF_FFFFFFFFH';
const BLOCKING_OR_HLT = 'interruptibility shows blocking by STI or by MOV SS, or the activity state is HLT';

type Draft = Omit<EntryCheck, 'group' | 'id' | 'december2023Section' | 'consequence'> & {
  name: string;
  consequence?: EntryCheck['consequence'];
};

function check(draft: Draft): EntryCheck {
  const { name, consequence, ...rest } = draft;
  const dated = rest.citation.section === DEC2023 ? {} : { december2023Section: DEC2023 };
  return { id: `${GROUP}.${name}`, group: GROUP, consequence: consequence ?? GUEST_STATE_FAILURE, ...dated, ...rest };
}

const ACTIVITY: EntryCheck[] = [
  check({
    name: 'activity-state-supported',
    condition: 'The guest activity state is 0 (active), 1 (HLT), 2 (shutdown) or 3 (wait-for-SIPI) and the processor supports it (IA32_VMX_MISC bits 8:6 for HLT, shutdown, wait-for-SIPI).',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_ACTIVITY_STATE'],
    alsoReads: ['IA32_VMX_MISC'],
    inventoryId: 'G-ACT-01',
  }),
  check({
    name: 'activity-hlt-requires-ss-dpl-0',
    condition: 'If the guest activity state is HLT, the guest SS DPL is 0.',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_ACTIVITY_STATE', 'GUEST_SS_ACCESS_RIGHTS'],
    inventoryId: 'G-ACT-02',
  }),
  check({
    name: 'activity-active-when-blocking',
    condition: 'If the interruptibility state shows blocking by STI (bit 0) or by MOV SS (bit 1), the activity state is active.',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_ACTIVITY_STATE', 'GUEST_INTERRUPTIBILITY_STATE'],
    inventoryId: 'G-ACT-03',
  }),
  check({
    name: 'injection-in-hlt',
    condition: 'The injected event is an external interrupt (type 0), an NMI (type 2), a hardware exception (type 3) with vector 1 (#DB) or 18 (#MC), or type 7 (other event) with vector 0 (pending MTF VM exit).',
    appliesWhen: `${INJECTING} and guest activity state HLT`,
    citation: READ_2009,
    verification: 'read',
    fields: ['VM_ENTRY_INTERRUPTION_INFORMATION', 'GUEST_ACTIVITY_STATE'],
    inventoryId: 'G-ACT-04',
  }),
  check({
    name: 'injection-in-shutdown',
    condition: 'The injected event is an NMI (type 2) or a machine-check exception (type 3, vector 18).',
    appliesWhen: `${INJECTING} and guest activity state shutdown`,
    citation: READ_2009,
    verification: 'read',
    fields: ['VM_ENTRY_INTERRUPTION_INFORMATION', 'GUEST_ACTIVITY_STATE'],
    inventoryId: 'G-ACT-05',
  }),
  check({
    name: 'injection-in-wait-for-sipi',
    condition: 'No event is injected (the valid bit is 0) when the guest activity state is wait-for-SIPI.',
    appliesWhen: 'guest activity state wait-for-SIPI',
    citation: READ_2009,
    verification: 'read',
    fields: ['VM_ENTRY_INTERRUPTION_INFORMATION', 'GUEST_ACTIVITY_STATE'],
    inventoryId: 'G-ACT-06',
  }),
  check({
    name: 'wait-for-sipi-not-entering-smm',
    condition: 'The guest activity state is not wait-for-SIPI.',
    appliesWhen: '"entry to SMM" VM-entry control = 1',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_ACTIVITY_STATE', 'VM_ENTRY_CONTROLS'],
    inventoryId: 'G-ACT-07',
    note: '"entry to SMM" = 1 is allowed only in SMM; unreachable under a profile without SMM.',
  }),
];

const INTERRUPTIBILITY: EntryCheck[] = [
  check({
    name: 'interruptibility-reserved',
    condition: 'Reserved bits of the guest interruptibility state are 0: bits 31:5 where bit 4 (enclave interruption) exists, bits 31:4 otherwise.',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    alsoReads: ['CPUID.(EAX=07H,ECX=0):EBX.SGX[bit 2]'],
    inventoryId: 'G-INT-01',
    note: 'Read as bits 31:4 in the c.2009 edition (before the enclave-interruption bit); the 2016 wording was not visible.',
  }),
  check({
    name: 'sti-and-mov-ss-exclusive',
    condition: 'Blocking by STI (bit 0) and blocking by MOV SS (bit 1) are not both 1.',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    inventoryId: 'G-INT-02',
  }),
  check({
    name: 'sti-blocking-requires-if',
    condition: 'If guest RFLAGS.IF (bit 9) is 0, blocking by STI (bit 0) is 0.',
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'GUEST_RFLAGS'],
    inventoryId: 'G-INT-03',
  }),
  check({
    name: 'sti-blocking-vs-external-interrupt',
    condition: 'Blocking by STI (bit 0) is 0.',
    appliesWhen: `${INJECTING} with interruption type 0 (external interrupt)`,
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'VM_ENTRY_INTERRUPTION_INFORMATION'],
    inventoryId: 'G-INT-04',
  }),
  check({
    name: 'mov-ss-blocking-vs-external-interrupt',
    condition: 'Blocking by MOV SS (bit 1) is 0.',
    appliesWhen: `${INJECTING} with interruption type 0 (external interrupt)`,
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'VM_ENTRY_INTERRUPTION_INFORMATION'],
    inventoryId: 'G-INT-04',
  }),
  check({
    name: 'mov-ss-blocking-vs-nmi',
    condition: 'Blocking by MOV SS (bit 1) is 0.',
    appliesWhen: `${INJECTING} with interruption type 2 (NMI)`,
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'VM_ENTRY_INTERRUPTION_INFORMATION'],
    inventoryId: 'G-INT-05',
  }),
  check({
    name: 'smi-blocking-outside-smm',
    condition: 'Blocking by SMI (bit 2) is 0.',
    appliesWhen: 'the processor is not in SMM',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    alsoReads: ['whether the logical processor is in SMM'],
    inventoryId: 'G-INT-06',
  }),
  check({
    name: 'smi-blocking-entering-smm',
    condition: 'Blocking by SMI (bit 2) is 1.',
    appliesWhen: '"entry to SMM" VM-entry control = 1',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'VM_ENTRY_CONTROLS'],
    inventoryId: 'G-INT-07',
    note: 'Unreachable under a profile without SMM ("entry to SMM" = 1 fails the control checks outside SMM).',
  }),
  check({
    name: 'sti-blocking-vs-nmi',
    condition: 'Blocking by STI (bit 0) is 0 - on processors that require it; others accept the entry.',
    appliesWhen: `${INJECTING} with interruption type 2 (NMI)`,
    consequence: NMI_STI_FAILURE,
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'VM_ENTRY_INTERRUPTION_INFORMATION'],
    inventoryId: 'G-INT-08',
    note: 'Processor-specific: the model allows both outcomes (entry goes on, or exit reason 33 with qualification 3); a profile may pin one.',
  }),
  check({
    name: 'nmi-blocking-vs-virtual-nmi',
    condition: 'Blocking by NMI (bit 3) is 0.',
    appliesWhen: `"virtual NMIs" = 1 and ${INJECTING} with interruption type 2 (NMI)`,
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'VM_ENTRY_INTERRUPTION_INFORMATION', 'PIN_BASED_CONTROLS'],
    inventoryId: 'G-INT-09',
    note: 'No such requirement when "virtual NMIs" = 0.',
  }),
  check({
    name: 'enclave-interruption-vs-mov-ss',
    condition: 'If enclave interruption (bit 4) is 1, blocking by MOV SS (bit 1) is 0.',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    inventoryId: 'G-INT-10',
  }),
  check({
    name: 'enclave-interruption-requires-sgx',
    condition: 'If enclave interruption (bit 4) is 1, the processor supports SGX (CPUID.(EAX=07H,ECX=0):EBX bit 2 = 1).',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_INTERRUPTIBILITY_STATE'],
    alsoReads: ['CPUID.(EAX=07H,ECX=0):EBX.SGX[bit 2]'],
    inventoryId: 'G-INT-11',
  }),
  check({
    name: 'sti-blocking-fred',
    condition: 'If the guest SS DPL is 3, blocking by STI (bit 0) is 0.',
    appliesWhen: '"IA-32e mode guest" = 1 and guest CR4.FRED = 1',
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_GUEST}; ${KVM_FRED}`,
    fields: ['GUEST_INTERRUPTIBILITY_STATE', 'GUEST_SS_ACCESS_RIGHTS', 'GUEST_CR4', 'VM_ENTRY_CONTROLS'],
    inventoryId: 'G-INT-12',
  }),
];

const PENDING_DEBUG: EntryCheck[] = [
  check({
    name: 'pending-debug-reserved',
    condition: 'Bits 11:4, 13, 15 and 63:17 of the guest pending-debug-exceptions field are 0.',
    citation: READ_2016,
    verification: 'read',
    fields: ['GUEST_PENDING_DEBUG_EXCEPTIONS'],
    inventoryId: 'G-PDE-01',
    note: 'The c.2009 edition reserved bits 63:15 (no RTM bit 16).',
  }),
  check({
    name: 'pending-debug-bs-set',
    condition: 'If guest RFLAGS.TF (bit 8) is 1 and guest IA32_DEBUGCTL.BTF (bit 1) is 0, pending-debug BS (bit 14) is 1.',
    appliesWhen: BLOCKING_OR_HLT,
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_PENDING_DEBUG_EXCEPTIONS', 'GUEST_RFLAGS', 'GUEST_IA32_DEBUGCTL', 'GUEST_INTERRUPTIBILITY_STATE', 'GUEST_ACTIVITY_STATE'],
    inventoryId: 'G-PDE-02',
  }),
  check({
    name: 'pending-debug-bs-clear',
    condition: 'If guest RFLAGS.TF (bit 8) is 0 or guest IA32_DEBUGCTL.BTF (bit 1) is 1, pending-debug BS (bit 14) is 0.',
    appliesWhen: BLOCKING_OR_HLT,
    citation: READ_2009,
    verification: 'read',
    fields: ['GUEST_PENDING_DEBUG_EXCEPTIONS', 'GUEST_RFLAGS', 'GUEST_IA32_DEBUGCTL', 'GUEST_INTERRUPTIBILITY_STATE', 'GUEST_ACTIVITY_STATE'],
    inventoryId: 'G-PDE-03',
  }),
];

const LINK_POINTER: EntryCheck[] = [
  check({
    name: 'link-pointer-aligned',
    condition: 'Bits 11:0 of the VMCS link pointer are 0.',
    appliesWhen: LINK_IN_USE,
    consequence: LINK_POINTER_FAILURE,
    citation: READ_2009,
    verification: 'read',
    fields: ['VMCS_LINK_POINTER'],
    inventoryId: 'G-LINK-01',
  }),
  check({
    name: 'link-pointer-physical-width',
    condition: 'The VMCS link pointer sets no bit at or above the physical-address width (nor in 63:32 when IA32_VMX_BASIC[48] = 1).',
    appliesWhen: LINK_IN_USE,
    consequence: LINK_POINTER_FAILURE,
    citation: READ_2009,
    verification: 'read',
    fields: ['VMCS_LINK_POINTER'],
    alsoReads: ['MAXPHYADDR', 'IA32_VMX_BASIC'],
    inventoryId: 'G-LINK-02',
    note: 'The bits 63:32 limit for IA32_VMX_BASIC[48] = 1 is from the footnote convention of the other pointer checks; the footnote itself was not visible.',
  }),
  check({
    name: 'link-pointer-revision',
    condition: 'Bits 30:0 of the first 32 bits of the region the VMCS link pointer references hold the processor\'s VMCS revision identifier.',
    appliesWhen: LINK_IN_USE,
    consequence: LINK_POINTER_FAILURE,
    citation: DERIVED,
    verification: 'corroborated',
    basis: `${BOCHS_GUEST}; ${KVM_GUEST} (nested_vmx_check_vmcs_link_ptr)`,
    fields: ['VMCS_LINK_POINTER'],
    alsoReads: ['memory: first 32 bits of the referenced region', 'IA32_VMX_BASIC'],
    inventoryId: 'G-LINK-03',
  }),
  check({
    name: 'link-pointer-shadow-indicator',
    condition: 'Bit 31 of the first 32 bits of the referenced region equals the "VMCS shadowing" VM-execution control (a shadow VMCS exactly when shadowing is on).',
    appliesWhen: LINK_IN_USE,
    consequence: LINK_POINTER_FAILURE,
    citation: READ_2016,
    verification: 'read',
    fields: ['VMCS_LINK_POINTER', 'PRIMARY_PROCESSOR_BASED_CONTROLS', 'SECONDARY_PROCESSOR_BASED_CONTROLS'],
    alsoReads: ['memory: first 32 bits of the referenced region'],
    inventoryId: 'G-LINK-04',
  }),
  check({
    name: 'link-pointer-not-current-vmcs',
    condition: 'The VMCS link pointer differs from the current-VMCS pointer.',
    appliesWhen: `${LINK_IN_USE}, and the processor is not in SMM or "entry to SMM" = 1`,
    consequence: LINK_POINTER_FAILURE,
    citation: READ_2016,
    verification: 'read',
    fields: ['VMCS_LINK_POINTER', 'VM_ENTRY_CONTROLS'],
    alsoReads: ['current-VMCS pointer'],
    inventoryId: 'G-LINK-05',
  }),
  check({
    name: 'link-pointer-not-executive-vmcs',
    condition: 'The VMCS link pointer differs from the executive-VMCS pointer.',
    appliesWhen: `${LINK_IN_USE}, the processor is in SMM and "entry to SMM" = 0`,
    consequence: LINK_POINTER_FAILURE,
    citation: READ_2016,
    verification: 'read',
    fields: ['VMCS_LINK_POINTER', 'VM_ENTRY_CONTROLS', 'EXECUTIVE_VMCS_POINTER'],
    inventoryId: 'G-LINK-06',
    note: 'Unreachable under a profile without SMM. The c.2009 edition compared with the VMXON pointer here; Bochs still does (inventory G-LINK-07, merged into this check).',
  }),
];

const LATER_ADDITIONS: EntryCheck[] = [
  check({
    name: 'uinv-high-zero',
    condition: 'Bits 15:8 of the guest UINV field are 0.',
    appliesWhen: '"load UINV" VM-entry control = 1',
    citation: DERIVED,
    verification: 'corroborated',
    basis: BOCHS_GUEST,
    fields: ['GUEST_UINV', 'VM_ENTRY_CONTROLS'],
    inventoryId: 'G-NR-01',
    note: 'The exact Dec-2023 subsection holding this check was not seen.',
  }),
];

/** The guest non-register-state checks, in SDM order. */
export const GUEST_NON_REGISTER_STATE_CHECKS: readonly EntryCheck[] = [
  ...ACTIVITY,
  ...INTERRUPTIBILITY,
  ...PENDING_DEBUG,
  ...LINK_POINTER,
  ...LATER_ADDITIONS,
];
