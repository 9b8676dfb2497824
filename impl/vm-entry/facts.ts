/**
 * What phase one of VM entry (the checks on the controls and the host-state area) needs from a
 * profile, decoded once per profile into int32 form.
 *
 * Trick: the checks run on every VMLAUNCH/VMRESUME that passes the basic checks. Decoding the
 * allowed settings (BigInt in spec/profile.ts) and looking up each field's place in impl/'s VMCS
 * layout (impl/field-table.ts) on every entry would cost more than the checks themselves, so both
 * are done here once and cached per Profile object: the checks then read int32 masks and word
 * offsets off one object of a fixed shape, and allocate nothing.
 *
 * Facts no profile describes get one fixed choice each (impl/README.md lists them): the
 * linear-address width is 48 bits, IA32_EFER supports SCE, LME, LMA and NXE, the processor never
 * supports FRED, and it is never in SMM.
 */
import { VMX_BASIC, VMX_MISC } from '../../spec/capability-msrs.ts';
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import type { AllowedSettings, Profile } from '../../spec/profile.ts';
import { fieldTableFor, wordLocator } from '../field-table.ts';
import { halvesOf } from '../hex-halves.ts';
import { highBitsBeyond } from '../profile-facts.ts';

/**
 * Word offset of each field phase one reads in impl/'s VMCS region layout, -1 when the profile
 * lacks the field (such a field reads as 0: VMWRITE cannot have written it).
 *
 * Trick: the object is written as one literal so that V8 gives it a fixed shape ("fast
 * properties"). Built key by key in a loop, an object of this many properties becomes a hash
 * table, and every field read of the checks a hash look-up: that made a VMLAUNCH about ten times
 * slower (measured with bench/vm-entry.ts).
 */
function layoutOf(entry: Int16Array) {
  const at = wordLocator(entry);
  return {
    PIN_BASED_CONTROLS: at('PIN_BASED_CONTROLS'),
    PRIMARY_PROCESSOR_BASED_CONTROLS: at('PRIMARY_PROCESSOR_BASED_CONTROLS'),
    SECONDARY_PROCESSOR_BASED_CONTROLS: at('SECONDARY_PROCESSOR_BASED_CONTROLS'),
    TERTIARY_PROCESSOR_BASED_CONTROLS: at('TERTIARY_PROCESSOR_BASED_CONTROLS'),
    CR3_TARGET_COUNT: at('CR3_TARGET_COUNT'),
    IO_BITMAP_A_ADDRESS: at('IO_BITMAP_A_ADDRESS'),
    IO_BITMAP_B_ADDRESS: at('IO_BITMAP_B_ADDRESS'),
    MSR_BITMAPS_ADDRESS: at('MSR_BITMAPS_ADDRESS'),
    VIRTUAL_APIC_ADDRESS: at('VIRTUAL_APIC_ADDRESS'),
    TPR_THRESHOLD: at('TPR_THRESHOLD'),
    APIC_ACCESS_ADDRESS: at('APIC_ACCESS_ADDRESS'),
    POSTED_INTERRUPT_NOTIFICATION_VECTOR: at('POSTED_INTERRUPT_NOTIFICATION_VECTOR'),
    POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: at('POSTED_INTERRUPT_DESCRIPTOR_ADDRESS'),
    VPID: at('VPID'),
    EPT_POINTER: at('EPT_POINTER'),
    PML_ADDRESS: at('PML_ADDRESS'),
    SUB_PAGE_PERMISSION_TABLE_POINTER: at('SUB_PAGE_PERMISSION_TABLE_POINTER'),
    VM_FUNCTION_CONTROLS: at('VM_FUNCTION_CONTROLS'),
    EPTP_LIST_ADDRESS: at('EPTP_LIST_ADDRESS'),
    VMREAD_BITMAP_ADDRESS: at('VMREAD_BITMAP_ADDRESS'),
    VMWRITE_BITMAP_ADDRESS: at('VMWRITE_BITMAP_ADDRESS'),
    VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS: at('VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS'),
    PRIMARY_VM_EXIT_CONTROLS: at('PRIMARY_VM_EXIT_CONTROLS'),
    SECONDARY_VM_EXIT_CONTROLS: at('SECONDARY_VM_EXIT_CONTROLS'),
    VM_EXIT_MSR_STORE_COUNT: at('VM_EXIT_MSR_STORE_COUNT'),
    VM_EXIT_MSR_STORE_ADDRESS: at('VM_EXIT_MSR_STORE_ADDRESS'),
    VM_EXIT_MSR_LOAD_COUNT: at('VM_EXIT_MSR_LOAD_COUNT'),
    VM_EXIT_MSR_LOAD_ADDRESS: at('VM_EXIT_MSR_LOAD_ADDRESS'),
    VM_ENTRY_CONTROLS: at('VM_ENTRY_CONTROLS'),
    VM_ENTRY_MSR_LOAD_COUNT: at('VM_ENTRY_MSR_LOAD_COUNT'),
    VM_ENTRY_MSR_LOAD_ADDRESS: at('VM_ENTRY_MSR_LOAD_ADDRESS'),
    VM_ENTRY_INTERRUPTION_INFORMATION: at('VM_ENTRY_INTERRUPTION_INFORMATION'),
    VM_ENTRY_EXCEPTION_ERROR_CODE: at('VM_ENTRY_EXCEPTION_ERROR_CODE'),
    VM_ENTRY_INSTRUCTION_LENGTH: at('VM_ENTRY_INSTRUCTION_LENGTH'),
    GUEST_CR0: at('GUEST_CR0'),
    GUEST_CR4: at('GUEST_CR4'),
    HOST_CR0: at('HOST_CR0'),
    HOST_CR3: at('HOST_CR3'),
    HOST_CR4: at('HOST_CR4'),
    HOST_IA32_SYSENTER_ESP: at('HOST_IA32_SYSENTER_ESP'),
    HOST_IA32_SYSENTER_EIP: at('HOST_IA32_SYSENTER_EIP'),
    HOST_IA32_PERF_GLOBAL_CTRL: at('HOST_IA32_PERF_GLOBAL_CTRL'),
    HOST_IA32_PAT: at('HOST_IA32_PAT'),
    HOST_IA32_EFER: at('HOST_IA32_EFER'),
    HOST_IA32_S_CET: at('HOST_IA32_S_CET'),
    HOST_SSP: at('HOST_SSP'),
    HOST_IA32_INTERRUPT_SSP_TABLE_ADDR: at('HOST_IA32_INTERRUPT_SSP_TABLE_ADDR'),
    HOST_IA32_PKRS: at('HOST_IA32_PKRS'),
    HOST_IA32_FRED_CONFIG: at('HOST_IA32_FRED_CONFIG'),
    HOST_IA32_FRED_RSP1: at('HOST_IA32_FRED_RSP1'),
    HOST_IA32_FRED_RSP2: at('HOST_IA32_FRED_RSP2'),
    HOST_IA32_FRED_RSP3: at('HOST_IA32_FRED_RSP3'),
    HOST_IA32_FRED_SSP1: at('HOST_IA32_FRED_SSP1'),
    HOST_IA32_FRED_SSP2: at('HOST_IA32_FRED_SSP2'),
    HOST_IA32_FRED_SSP3: at('HOST_IA32_FRED_SSP3'),
    HOST_ES_SELECTOR: at('HOST_ES_SELECTOR'),
    HOST_CS_SELECTOR: at('HOST_CS_SELECTOR'),
    HOST_SS_SELECTOR: at('HOST_SS_SELECTOR'),
    HOST_DS_SELECTOR: at('HOST_DS_SELECTOR'),
    HOST_FS_SELECTOR: at('HOST_FS_SELECTOR'),
    HOST_GS_SELECTOR: at('HOST_GS_SELECTOR'),
    HOST_TR_SELECTOR: at('HOST_TR_SELECTOR'),
    HOST_FS_BASE: at('HOST_FS_BASE'),
    HOST_GS_BASE: at('HOST_GS_BASE'),
    HOST_TR_BASE: at('HOST_TR_BASE'),
    HOST_GDTR_BASE: at('HOST_GDTR_BASE'),
    HOST_IDTR_BASE: at('HOST_IDTR_BASE'),
    HOST_RIP: at('HOST_RIP'),
  };
}

/** Word offsets of the fields phase one reads (see layoutOf). */
export type FieldWords = Readonly<ReturnType<typeof layoutOf>>;

/** One of the fields phase one reads. */
export type EntryField = keyof FieldWords;

/** Names of the VMCS fields phase one reads (keys of `FIELD`). */
export const ENTRY_FIELDS = Object.keys(layoutOf(new Int16Array(0x8000).fill(-1))) as readonly EntryField[];

/** A profile's facts for phase one, every number an int32. */
export interface EntryFacts {
  readonly words: FieldWords;
  /** Must-be-1 (allowed-0 half) and may-be-1 (allowed-1 half) masks of the 32-bit control sets. */
  readonly pinMust: number;
  readonly pinMay: number;
  readonly primaryMust: number;
  readonly primaryMay: number;
  readonly secondaryMay: number;
  readonly exitMust: number;
  readonly exitMay: number;
  readonly entryMust: number;
  readonly entryMay: number;
  /** Allowed-1 masks of the 64-bit control sets, as (lo, hi). */
  readonly tertiaryMayLo: number;
  readonly tertiaryMayHi: number;
  readonly secondaryExitMayLo: number;
  readonly secondaryExitMayHi: number;
  readonly vmfuncMayLo: number;
  readonly vmfuncMayHi: number;
  /** IA32_VMX_MISC[24:16]: the largest CR3-target count. */
  readonly cr3TargetMax: number;
  /** IA32_VMX_MISC[30]: software events may be injected with instruction length 0. */
  readonly zeroLengthInjection: boolean;
  /** IA32_VMX_BASIC[56]: hardware exceptions may be injected with or without an error code. */
  readonly errorCodeRelaxed: boolean;
  /** The 1-setting of "monitor trap flag" is supported (needed to inject an "other event"). */
  readonly mtfSupported: boolean;
  /**
   * High-half bits a VMCS-referenced address must not set: at or above the physical-address
   * width, all of them when IA32_VMX_BASIC[48] = 1.
   */
  readonly addressHiBad: number;
  /** High-half bits at or above the physical-address width (EPTP, host CR3). */
  readonly physicalHiBad: number;
  /** IA32_VMX_EPT_VPID_CAP bits 31:0. */
  readonly eptCapLo: number;
  /** IA32_VMX_CR0_FIXED0/FIXED1 and IA32_VMX_CR4_FIXED0/FIXED1 halves. */
  readonly cr0Fixed0Lo: number;
  readonly cr0Fixed0Hi: number;
  readonly cr0Fixed1Lo: number;
  readonly cr0Fixed1Hi: number;
  readonly cr4Fixed0Lo: number;
  readonly cr4Fixed0Hi: number;
  readonly cr4Fixed1Lo: number;
  readonly cr4Fixed1Hi: number;
  /** The processor supports FRED (no profile describes it: always false here). */
  readonly fredSupported: boolean;
}

const cache = new WeakMap<Profile, EntryFacts>();

/** The phase-one facts of `profile`, decoded on first use. */
export function entryFactsFor(profile: Profile): EntryFacts {
  let facts = cache.get(profile);
  if (facts === undefined) {
    facts = decode(profile);
    cache.set(profile, facts);
  }
  return facts;
}

function decode(profile: Profile): EntryFacts {
  const words = layoutOf(fieldTableFor(profile).entry);
  const c = profile.controls;
  const low = (settings: AllowedSettings, which: 'mustBeOne' | 'mayBeOne'): number => halvesOf(settings[which])[0];
  const [tertiaryMayLo, tertiaryMayHi] = halvesOf(c.tertiary.mayBeOne);
  const [secondaryExitMayLo, secondaryExitMayHi] = halvesOf(c['secondary-exit'].mayBeOne);
  const [vmfuncMayLo, vmfuncMayHi] = halvesOf(c.vmfunc.mayBeOne);
  const [cr0Fixed0Lo, cr0Fixed0Hi] = halvesOf(profile.cr0Fixed0);
  const [cr0Fixed1Lo, cr0Fixed1Hi] = halvesOf(profile.cr0Fixed1);
  const [cr4Fixed0Lo, cr4Fixed0Hi] = halvesOf(profile.cr4Fixed0);
  const [cr4Fixed1Lo, cr4Fixed1Hi] = halvesOf(profile.cr4Fixed1);
  const [miscLo] = halvesOf(BigInt(profile.data.msrs.IA32_VMX_MISC));
  const [, basicHi] = halvesOf(BigInt(profile.data.msrs.IA32_VMX_BASIC));
  return {
    words,
    pinMust: low(c.pin, 'mustBeOne'),
    pinMay: low(c.pin, 'mayBeOne'),
    primaryMust: low(c.primary, 'mustBeOne'),
    primaryMay: low(c.primary, 'mayBeOne'),
    secondaryMay: low(c.secondary, 'mayBeOne'),
    exitMust: low(c.exit, 'mustBeOne'),
    exitMay: low(c.exit, 'mayBeOne'),
    entryMust: low(c.entry, 'mustBeOne'),
    entryMay: low(c.entry, 'mayBeOne'),
    tertiaryMayLo,
    tertiaryMayHi,
    secondaryExitMayLo,
    secondaryExitMayHi,
    vmfuncMayLo,
    vmfuncMayHi,
    cr3TargetMax: (miscLo >>> VMX_MISC.CR3_TARGET_COUNT) & 0x1ff,
    zeroLengthInjection: ((miscLo >>> VMX_MISC.ZERO_LENGTH_INJECTION) & 1) === 1,
    errorCodeRelaxed: ((basicHi >>> (VMX_BASIC.ERROR_CODE_CHECK_RELAXED - 32)) & 1) === 1,
    mtfSupported: profile.supportsControl('primary', PRIMARY_CONTROL.MONITOR_TRAP_FLAG),
    addressHiBad: highBitsBeyond(profile.pointerWidth),
    physicalHiBad: highBitsBeyond(profile.data.physicalAddressWidth),
    eptCapLo: halvesOf(profile.eptVpidCap)[0],
    cr0Fixed0Lo,
    cr0Fixed0Hi,
    cr0Fixed1Lo,
    cr0Fixed1Hi,
    cr4Fixed0Lo,
    cr4Fixed0Hi,
    cr4Fixed1Lo,
    cr4Fixed1Hi,
    fredSupported: false,
  };
}
