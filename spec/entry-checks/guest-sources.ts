/**
 * Shared pieces of the guest-state and MSR-load check catalogues: the SDM editions read for
 * them, citation builders for those editions, and the consequences that recur. Only data and
 * tiny constructors: the checks themselves live in one file per group.
 *
 * Editions read (see spec/entry-checks/README-guest.md for the page addresses):
 * - the 2016 Vol. 3C "VM Entries" chapter 26 (pages 26-8 .. 26-14), order number not visible;
 * - an earlier Vol. 3B edition whose "VM Entries" chapter is 22 (about 2009: it has the
 *   VMX-preemption timer and EPT but no "unrestricted guest"), order number not visible.
 * The VMX chapters are the 2016 numbers + 1 in December 2023, and the older chapter 22 became
 * chapter 27 of Vol. 3C.
 */
import { sdm, type Citation } from '../citation.ts';
import type { EntryCheckConsequence } from './types.ts';

/** The 2016 edition as mirrored page by page (Vol. 3C); the order number is not visible there. */
export const EDITION_2016 = '2016';
/** The older Vol. 3B edition (VMX in chapters 19-24), about 2009; the order number is not visible. */
export const EDITION_2009 = 'about 2009 (Vol. 3B, VMX chapters 19-24; order number not visible)';

/** A section of the 2016 edition's Vol. 3C. */
export function sdm2016(section: string, title: string): Citation {
  return { volume: '3C', section, title, edition: EDITION_2016 };
}

/** A section of the about-2009 edition's Vol. 3B. */
export function sdm2009(section: string, title: string): Citation {
  return { volume: '3B', section, title, edition: EDITION_2009 };
}

/** A December 2023 section whose number is derived (2016 + 1), for checks corroborated in code. */
export function sdm2023Derived(section: string, title: string): Citation {
  return sdm(section, title);
}

/** Titles of the subsections of "Checks on the Guest State Area", as printed in 2016. */
export const TITLE = {
  controlRegisters: 'Checks on Guest Control Registers, Debug Registers, and MSRs',
  segmentRegisters: 'Checks on Guest Segment Registers',
  descriptorTables: 'Checks on Guest Descriptor-Table Registers',
  ripRflags: 'Checks on Guest RIP and RFLAGS',
  nonRegister: 'Checks on Guest Non-Register State',
  pdptes: 'Checks on Guest Page-Directory-Pointer-Table Entries',
  loadingMsrs: 'Loading MSRs',
} as const;

/** VM-entry failure due to invalid guest state, exit qualification 0. */
export const GUEST_STATE_FAILURE: EntryCheckConsequence = {
  kind: 'entry-failure-guest-state',
  qualification: 0,
};
/** VM-entry failure due to invalid guest state, exit qualification 2 (loading PDPTEs). */
export const PDPTE_FAILURE: EntryCheckConsequence = {
  kind: 'entry-failure-guest-state',
  qualification: 2,
};
/** VM-entry failure due to invalid guest state, exit qualification 3 (NMI injection vs. STI blocking). */
export const NMI_STI_FAILURE: EntryCheckConsequence = {
  kind: 'entry-failure-guest-state',
  qualification: 3,
};
/** VM-entry failure due to invalid guest state, exit qualification 4 (VMCS link pointer). */
export const LINK_POINTER_FAILURE: EntryCheckConsequence = {
  kind: 'entry-failure-guest-state',
  qualification: 4,
};
/** VM-entry failure due to MSR loading (exit reason 34, qualification = 1-based entry index). */
export const MSR_LOAD_FAILURE: EntryCheckConsequence = { kind: 'entry-failure-msr-load' };

/** What backs checks that came after 2016 and were seen only in Bochs. */
export const BOCHS_GUEST = 'Bochs cpu/vmx.cc (commit 783b58f), BX_CPU_C::VMenterLoadCheckGuestState';
/** What backs checks seen in KVM's nested VMX code. */
export const KVM_GUEST = 'Linux arch/x86/kvm/vmx/nested.c, nested_vmx_check_guest_state';
/** What backs the FRED checks besides Bochs: the KVM nested-FRED patches (2025). */
export const KVM_FRED = 'KVM nested FRED patch series (2025), hunk adding FRED checks to nested_vmx_check_guest_state';
/** VirtualBox's VMX emulation, which also implements these checks (file of the 2023 sources). */
export const VBOX_GUEST =
  'VirtualBox src/VBox/VMM/VMMAll/IEMAllCImplVmxInstr.cpp (2023), iemVmxVmentryCheckGuestSegRegs / iemVmxVmentryCheckGuestControlRegsMsrs';
/** VirtualBox's VM-entry MSR-load loop. */
export const VBOX_MSR_LOAD = 'VirtualBox src/VBox/VMM/VMMAll/IEMAllCImplVmxInstr.cpp (2023), iemVmxVmentryLoadGuestAutoMsrs';
