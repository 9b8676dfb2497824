/**
 * The checks on each entry of the VM-entry MSR-load area, in the order of SDM Vol. 3C (December
 * 2023) §27.4 "Loading MSRs" (2016: §26.4; about 2009: §22.4, page 22-22, where the last three
 * were read; the first four as the 2016 edition states them for VM exits, §27.6 "Loading MSRs",
 * and as Bochs, KVM and VirtualBox check them on VM entry). A failure ends the VM entry with exit
 * reason 34 and the entry's 1-based index (../msr-load.ts). The words and citations are in
 * spec/entry-checks/msr-load.ts.
 *
 * What the model knows of MSRs: their indices in spec/, that the VMX capability MSRs are read-only
 * ("an attempt to write them (with WRMSR) produces a general-protection exception", Vol. 3D
 * Appendix A "VMX Capability Reporting Facility"), and that IA32_FEATURE_CONTROL is locked in VMX
 * operation (VMXON requires the lock bit, and WRMSR to it then causes #GP; Vol. 3C §24.7
 * "Enabling and Entering VMX Operation"). Whether WRMSR of other values to other MSRs would
 * succeed, and which MSRs a processor refuses for model-specific reasons, the profile does not
 * say: those entries may fail or load.
 */
import { MSR } from '../../../spec/capability-msrs.ts';
import { mayFail } from '../check.ts';
import type { EntryRule } from '../check.ts';
import { asEntryRule, msrEntryCheck } from '../msr-load.ts';
import type { MsrEntryRule } from '../msr-load.ts';

/** IA32_FS_BASE and IA32_GS_BASE (loaded from the guest-state area instead). */
const IA32_FS_BASE = 0xc000_0100n;
const IA32_GS_BASE = 0xc000_0101n;
/** Bits 31:8 of the MSRs giving access to APIC registers in x2APIC mode (800H-8FFH). */
const X2APIC_RANGE = 0x8n;
/** IA32_SMM_MONITOR_CTL, which only SMM may write; the model assumes no SMM (model/state.ts). */
const IA32_SMM_MONITOR_CTL = 0x9bn;

/** The VMX capability MSRs (IA32_VMX_BASIC .. IA32_VMX_EXIT_CTLS2), read-only. */
const CAPABILITY_MSRS: readonly bigint[] = Object.entries(MSR)
  .filter(([name]) => name.startsWith('IA32_VMX_'))
  .map(([, index]) => BigInt(index));

/** The per-entry checks, in SDM order. */
export const MSR_LOAD_ENTRY_RULES: readonly MsrEntryRule[] = [
  msrEntryCheck('msr-load.not-fs-base', (e) => e.msr !== IA32_FS_BASE),
  msrEntryCheck('msr-load.not-gs-base', (e) => e.msr !== IA32_GS_BASE),
  msrEntryCheck('msr-load.not-x2apic-range', (e) => e.msr >> 8n !== X2APIC_RANGE),
  msrEntryCheck('msr-load.not-smm-only', (e) => e.msr !== IA32_SMM_MONITOR_CTL),
  msrEntryCheck('msr-load.not-model-specific', () => mayFail('which MSRs this processor refuses to load on VM entry (not in the profile)')),
  msrEntryCheck('msr-load.reserved-zero', (e) => e.reserved === 0n),
  msrEntryCheck('msr-load.wrmsr-would-succeed', (e) => {
    if (CAPABILITY_MSRS.includes(e.msr) || e.msr === BigInt(MSR.IA32_FEATURE_CONTROL)) return false;
    return mayFail('whether this processor has the MSR and accepts the value (not in the profile)');
  }),
];

/** The same checks over the whole area, for the registry and `explain`. */
export const MSR_LOAD_RULES: readonly EntryRule[] = MSR_LOAD_ENTRY_RULES.map(asEntryRule);
