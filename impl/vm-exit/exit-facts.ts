/**
 * What a VM exit (SDM Vol. 3C, December 2023, chapter 28 "VM Exits") needs from a profile,
 * decoded once per profile into int32 form: the word offsets of every field it reads or writes in
 * impl/'s VMCS layout (impl/field-table.ts), and the few capability facts it tests.
 *
 * Trick: as in impl/vm-entry/facts.ts, the offsets are one object literal (a fixed V8 shape, so
 * a field's offset is a property load, not a hash look-up), built once and cached per Profile.
 * A field the profile lacks has offset -1: it is never written and reads as 0.
 */
import { ENTRY_CONTROL, EXIT_CONTROL } from '../../spec/control-bits.ts';
import { MSR, type CapabilityMsrName } from '../../spec/capability-msrs.ts';
import type { Profile } from '../../spec/profile.ts';
import { fieldTableFor, wordLocator } from '../field-table.ts';
import { halvesOf } from '../hex-halves.ts';
import { guestFactsFor } from '../vm-entry/guest-facts.ts';

/** Word offset of each field a VM exit touches, -1 when the profile lacks it. */
function layoutOf(entry: Int16Array) {
  const at = wordLocator(entry);
  return {
    PIN_BASED_CONTROLS: at('PIN_BASED_CONTROLS'),
    PRIMARY_VM_EXIT_CONTROLS: at('PRIMARY_VM_EXIT_CONTROLS'),
    VM_ENTRY_CONTROLS: at('VM_ENTRY_CONTROLS'),
    VM_EXIT_MSR_STORE_COUNT: at('VM_EXIT_MSR_STORE_COUNT'),
    VM_EXIT_MSR_STORE_ADDRESS: at('VM_EXIT_MSR_STORE_ADDRESS'),
    VM_EXIT_MSR_LOAD_COUNT: at('VM_EXIT_MSR_LOAD_COUNT'),
    VM_EXIT_MSR_LOAD_ADDRESS: at('VM_EXIT_MSR_LOAD_ADDRESS'),
    VM_ENTRY_INTERRUPTION_INFORMATION: at('VM_ENTRY_INTERRUPTION_INFORMATION'),
    VM_ENTRY_EXCEPTION_ERROR_CODE: at('VM_ENTRY_EXCEPTION_ERROR_CODE'),
    EXIT_REASON: at('EXIT_REASON'),
    EXIT_QUALIFICATION: at('EXIT_QUALIFICATION'),
    VM_EXIT_INSTRUCTION_LENGTH: at('VM_EXIT_INSTRUCTION_LENGTH'),
    VM_EXIT_INSTRUCTION_INFORMATION: at('VM_EXIT_INSTRUCTION_INFORMATION'),
    GUEST_LINEAR_ADDRESS: at('GUEST_LINEAR_ADDRESS'),
    VM_EXIT_INTERRUPTION_INFORMATION: at('VM_EXIT_INTERRUPTION_INFORMATION'),
    VM_EXIT_INTERRUPTION_ERROR_CODE: at('VM_EXIT_INTERRUPTION_ERROR_CODE'),
    IDT_VECTORING_INFORMATION: at('IDT_VECTORING_INFORMATION'),
    GUEST_CR0: at('GUEST_CR0'),
    GUEST_CR3: at('GUEST_CR3'),
    GUEST_CR4: at('GUEST_CR4'),
    GUEST_DR7: at('GUEST_DR7'),
    GUEST_RIP: at('GUEST_RIP'),
    GUEST_RFLAGS: at('GUEST_RFLAGS'),
    GUEST_IA32_DEBUGCTL: at('GUEST_IA32_DEBUGCTL'),
    GUEST_IA32_SYSENTER_CS: at('GUEST_IA32_SYSENTER_CS'),
    GUEST_IA32_SYSENTER_ESP: at('GUEST_IA32_SYSENTER_ESP'),
    GUEST_IA32_SYSENTER_EIP: at('GUEST_IA32_SYSENTER_EIP'),
    GUEST_IA32_PAT: at('GUEST_IA32_PAT'),
    GUEST_IA32_EFER: at('GUEST_IA32_EFER'),
    GUEST_IA32_PERF_GLOBAL_CTRL: at('GUEST_IA32_PERF_GLOBAL_CTRL'),
    GUEST_IA32_BNDCFGS: at('GUEST_IA32_BNDCFGS'),
    GUEST_LDTR_BASE: at('GUEST_LDTR_BASE'),
    GUEST_ACTIVITY_STATE: at('GUEST_ACTIVITY_STATE'),
    GUEST_INTERRUPTIBILITY_STATE: at('GUEST_INTERRUPTIBILITY_STATE'),
    GUEST_PENDING_DEBUG_EXCEPTIONS: at('GUEST_PENDING_DEBUG_EXCEPTIONS'),
    HOST_CR3: at('HOST_CR3'),
    HOST_CR4: at('HOST_CR4'),
    HOST_RIP: at('HOST_RIP'),
    HOST_IA32_SYSENTER_CS: at('HOST_IA32_SYSENTER_CS'),
    HOST_IA32_SYSENTER_ESP: at('HOST_IA32_SYSENTER_ESP'),
    HOST_IA32_SYSENTER_EIP: at('HOST_IA32_SYSENTER_EIP'),
    HOST_IA32_PAT: at('HOST_IA32_PAT'),
    HOST_IA32_EFER: at('HOST_IA32_EFER'),
    HOST_IA32_PERF_GLOBAL_CTRL: at('HOST_IA32_PERF_GLOBAL_CTRL'),
  };
}

/** Word offsets of the fields a VM exit touches (see layoutOf). */
export type ExitFieldWords = Readonly<ReturnType<typeof layoutOf>>;

/** Names of those fields (keys of `FIELD`). */
export const EXIT_FIELDS = Object.keys(layoutOf(new Int16Array(0x8000).fill(-1))) as readonly (keyof ExitFieldWords)[];

/** A profile's facts for VM exits, every number an int32. */
export interface ExitFacts {
  readonly words: ExitFieldWords;
  /** The guest segment registers' field offsets (impl/vm-entry/guest-facts.ts `segments` layout). */
  readonly segments: Int32Array;
  /**
   * IA32_BNDCFGS exists: the profile supports the 1-setting of "load IA32_BNDCFGS" or of
   * "clear IA32_BNDCFGS" (the condition under which §28.3.1 saves it).
   */
  readonly bndcfgsSupported: boolean;
  /**
   * The VMX capability MSRs 480H-493H by index - 480H, as (lo, hi) pairs; `capabilityPresent`
   * says which the profile reports (RDMSR of another one is #GP).
   */
  readonly capabilityValues: Int32Array;
  readonly capabilityPresent: Uint8Array;
  /** 512 × (IA32_VMX_MISC[27:25] + 1): the recommended maximum of MSR-area entries. */
  readonly msrListLimit: number;
}

const cache = new WeakMap<Profile, ExitFacts>();

/** The VM-exit facts of `profile`, decoded on first use. */
export function exitFactsFor(profile: Profile): ExitFacts {
  let facts = cache.get(profile);
  if (facts === undefined) {
    facts = decode(profile);
    cache.set(profile, facts);
  }
  return facts;
}

/** Number of VMX capability MSRs (480H-493H). */
export const CAPABILITY_MSR_COUNT = MSR.IA32_VMX_EXIT_CTLS2 - MSR.IA32_VMX_BASIC + 1;

function decode(profile: Profile): ExitFacts {
  const words = layoutOf(fieldTableFor(profile).entry);
  const capabilityValues = new Int32Array(CAPABILITY_MSR_COUNT * 2);
  const capabilityPresent = new Uint8Array(CAPABILITY_MSR_COUNT);
  for (const [name, index] of Object.entries(MSR)) {
    if (index < MSR.IA32_VMX_BASIC) continue;
    const value = profile.data.msrs[name as CapabilityMsrName];
    if (value === undefined) continue;
    const [lo, hi] = halvesOf(BigInt(value));
    const at = index - MSR.IA32_VMX_BASIC;
    capabilityValues[2 * at] = lo;
    capabilityValues[2 * at + 1] = hi;
    capabilityPresent[at] = 1;
  }
  return {
    words,
    segments: guestFactsFor(profile).segments,
    bndcfgsSupported:
      profile.supportsControl('entry', ENTRY_CONTROL.LOAD_IA32_BNDCFGS) ||
      profile.supportsControl('exit', EXIT_CONTROL.CLEAR_IA32_BNDCFGS),
    capabilityValues,
    capabilityPresent,
    msrListLimit: guestFactsFor(profile).msrListLimit,
  };
}
