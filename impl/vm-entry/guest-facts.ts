/**
 * What the guest-state phase of VM entry (checks, MSR loading, guest-state and host-state
 * loading) needs from a profile, decoded once per profile into int32 form. The phase-one facts
 * (facts.ts) hold the control fields and the host-state fields; this file adds the guest-state
 * fields and the capability facts only the later phases read.
 *
 * Trick: as in facts.ts, the word offsets are one object literal (a fixed V8 shape, so every field
 * read is a property load, not a hash look-up), built once and cached per Profile object.
 *
 * Facts no profile describes get one fixed choice each (impl/README.md lists them): the
 * linear-address width is 48 bits, the processor supports neither SGX nor SMM nor FRED, and the
 * MSR bits listed in guest-registers.ts.
 */
import { VMX_MISC } from '../../spec/capability-msrs.ts';
import type { Profile } from '../../spec/profile.ts';
import { fieldTableFor, wordLocator } from '../field-table.ts';
import { halvesOf } from '../hex-halves.ts';
import { factsFor } from '../profile-facts.ts';

/** Word offset of each guest-phase field in impl/'s VMCS layout, -1 when the profile lacks it. */
function layoutOf(entry: Int16Array) {
  const at = wordLocator(entry);
  return {
    GUEST_CR0: at('GUEST_CR0'),
    GUEST_CR3: at('GUEST_CR3'),
    GUEST_CR4: at('GUEST_CR4'),
    GUEST_DR7: at('GUEST_DR7'),
    GUEST_IA32_DEBUGCTL: at('GUEST_IA32_DEBUGCTL'),
    GUEST_IA32_SYSENTER_ESP: at('GUEST_IA32_SYSENTER_ESP'),
    GUEST_IA32_SYSENTER_EIP: at('GUEST_IA32_SYSENTER_EIP'),
    GUEST_IA32_S_CET: at('GUEST_IA32_S_CET'),
    GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR: at('GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR'),
    GUEST_IA32_PERF_GLOBAL_CTRL: at('GUEST_IA32_PERF_GLOBAL_CTRL'),
    GUEST_IA32_PAT: at('GUEST_IA32_PAT'),
    GUEST_IA32_EFER: at('GUEST_IA32_EFER'),
    GUEST_IA32_BNDCFGS: at('GUEST_IA32_BNDCFGS'),
    GUEST_IA32_PKRS: at('GUEST_IA32_PKRS'),
    GUEST_IA32_FRED_CONFIG: at('GUEST_IA32_FRED_CONFIG'),
    GUEST_IA32_FRED_RSP1: at('GUEST_IA32_FRED_RSP1'),
    GUEST_IA32_FRED_RSP2: at('GUEST_IA32_FRED_RSP2'),
    GUEST_IA32_FRED_RSP3: at('GUEST_IA32_FRED_RSP3'),
    GUEST_IA32_FRED_SSP1: at('GUEST_IA32_FRED_SSP1'),
    GUEST_IA32_FRED_SSP2: at('GUEST_IA32_FRED_SSP2'),
    GUEST_IA32_FRED_SSP3: at('GUEST_IA32_FRED_SSP3'),
    GUEST_IA32_SPEC_CTRL: at('GUEST_IA32_SPEC_CTRL'),
    GUEST_ES_SELECTOR: at('GUEST_ES_SELECTOR'),
    GUEST_CS_SELECTOR: at('GUEST_CS_SELECTOR'),
    GUEST_SS_SELECTOR: at('GUEST_SS_SELECTOR'),
    GUEST_DS_SELECTOR: at('GUEST_DS_SELECTOR'),
    GUEST_FS_SELECTOR: at('GUEST_FS_SELECTOR'),
    GUEST_GS_SELECTOR: at('GUEST_GS_SELECTOR'),
    GUEST_LDTR_SELECTOR: at('GUEST_LDTR_SELECTOR'),
    GUEST_TR_SELECTOR: at('GUEST_TR_SELECTOR'),
    GUEST_ES_BASE: at('GUEST_ES_BASE'),
    GUEST_CS_BASE: at('GUEST_CS_BASE'),
    GUEST_SS_BASE: at('GUEST_SS_BASE'),
    GUEST_DS_BASE: at('GUEST_DS_BASE'),
    GUEST_FS_BASE: at('GUEST_FS_BASE'),
    GUEST_GS_BASE: at('GUEST_GS_BASE'),
    GUEST_LDTR_BASE: at('GUEST_LDTR_BASE'),
    GUEST_TR_BASE: at('GUEST_TR_BASE'),
    GUEST_ES_LIMIT: at('GUEST_ES_LIMIT'),
    GUEST_CS_LIMIT: at('GUEST_CS_LIMIT'),
    GUEST_SS_LIMIT: at('GUEST_SS_LIMIT'),
    GUEST_DS_LIMIT: at('GUEST_DS_LIMIT'),
    GUEST_FS_LIMIT: at('GUEST_FS_LIMIT'),
    GUEST_GS_LIMIT: at('GUEST_GS_LIMIT'),
    GUEST_LDTR_LIMIT: at('GUEST_LDTR_LIMIT'),
    GUEST_TR_LIMIT: at('GUEST_TR_LIMIT'),
    GUEST_ES_ACCESS_RIGHTS: at('GUEST_ES_ACCESS_RIGHTS'),
    GUEST_CS_ACCESS_RIGHTS: at('GUEST_CS_ACCESS_RIGHTS'),
    GUEST_SS_ACCESS_RIGHTS: at('GUEST_SS_ACCESS_RIGHTS'),
    GUEST_DS_ACCESS_RIGHTS: at('GUEST_DS_ACCESS_RIGHTS'),
    GUEST_FS_ACCESS_RIGHTS: at('GUEST_FS_ACCESS_RIGHTS'),
    GUEST_GS_ACCESS_RIGHTS: at('GUEST_GS_ACCESS_RIGHTS'),
    GUEST_LDTR_ACCESS_RIGHTS: at('GUEST_LDTR_ACCESS_RIGHTS'),
    GUEST_TR_ACCESS_RIGHTS: at('GUEST_TR_ACCESS_RIGHTS'),
    GUEST_GDTR_BASE: at('GUEST_GDTR_BASE'),
    GUEST_IDTR_BASE: at('GUEST_IDTR_BASE'),
    GUEST_GDTR_LIMIT: at('GUEST_GDTR_LIMIT'),
    GUEST_IDTR_LIMIT: at('GUEST_IDTR_LIMIT'),
    GUEST_RIP: at('GUEST_RIP'),
    GUEST_RFLAGS: at('GUEST_RFLAGS'),
    GUEST_SSP: at('GUEST_SSP'),
    GUEST_ACTIVITY_STATE: at('GUEST_ACTIVITY_STATE'),
    GUEST_INTERRUPTIBILITY_STATE: at('GUEST_INTERRUPTIBILITY_STATE'),
    GUEST_PENDING_DEBUG_EXCEPTIONS: at('GUEST_PENDING_DEBUG_EXCEPTIONS'),
    VMCS_LINK_POINTER: at('VMCS_LINK_POINTER'),
    GUEST_UINV: at('GUEST_UINV'),
    GUEST_PDPTE0: at('GUEST_PDPTE0'),
    GUEST_PDPTE1: at('GUEST_PDPTE1'),
    GUEST_PDPTE2: at('GUEST_PDPTE2'),
    GUEST_PDPTE3: at('GUEST_PDPTE3'),
    EXIT_REASON: at('EXIT_REASON'),
    EXIT_QUALIFICATION: at('EXIT_QUALIFICATION'),
  };
}

/** Word offsets of the fields the guest phase reads or writes (see layoutOf). */
export type GuestFieldWords = Readonly<ReturnType<typeof layoutOf>>;

/** Names of those fields (keys of `FIELD`). */
export const GUEST_PHASE_FIELDS = Object.keys(layoutOf(new Int16Array(0x8000).fill(-1))) as readonly (keyof GuestFieldWords)[];

/** A profile's facts for the guest phase, every number an int32. */
export interface GuestFacts {
  readonly words: GuestFieldWords;
  /** IA32_VMX_MISC[6], [7], [8]: activity states HLT, shutdown, wait-for-SIPI supported. */
  readonly hltSupported: boolean;
  readonly shutdownSupported: boolean;
  readonly waitForSipiSupported: boolean;
  /** 512 * (IA32_VMX_MISC[27:25] + 1): the recommended maximum of VM-entry MSR-load entries. */
  readonly msrListLimit: number;
  /** The VMCS revision identifier (bits 30:0 of IA32_VMX_BASIC). */
  readonly revisionId: number;
  /** High-half bits beyond the physical-address width (CR3, PDPTEs). */
  readonly physicalHiBad: number;
  /** High-half bits a VMCS pointer must not set (width, and all of them with IA32_VMX_BASIC[48]). */
  readonly pointerHiBad: number;
  /**
   * Word offsets of the segment registers' fields, four per register (selector, base, limit,
   * access rights), registers in the order {@link SEGMENT}: loops over registers read this typed
   * array instead of eight named properties each.
   */
  readonly segments: Int32Array;
}

/** Register numbers in {@link GuestFacts.segments}. */
export const SEGMENT = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5, LDTR: 6, TR: 7 } as const;
/** Offsets within one register's four words of {@link GuestFacts.segments}. */
export const SEG_SELECTOR = 0;
export const SEG_BASE = 1;
export const SEG_LIMIT = 2;
export const SEG_ACCESS_RIGHTS = 3;

/** The per-register table of {@link GuestFacts.segments} for a layout. */
export function segmentWords(words: GuestFieldWords): Int32Array {
  const segments = new Int32Array(32);
  (Object.keys(SEGMENT) as (keyof typeof SEGMENT)[]).forEach((name) => {
    const at = SEGMENT[name] * 4;
    segments[at + SEG_SELECTOR] = words[`GUEST_${name}_SELECTOR`];
    segments[at + SEG_BASE] = words[`GUEST_${name}_BASE`];
    segments[at + SEG_LIMIT] = words[`GUEST_${name}_LIMIT`];
    segments[at + SEG_ACCESS_RIGHTS] = words[`GUEST_${name}_ACCESS_RIGHTS`];
  });
  return segments;
}

const cache = new WeakMap<Profile, GuestFacts>();

/** The guest-phase facts of `profile`, decoded on first use. */
export function guestFactsFor(profile: Profile): GuestFacts {
  let facts = cache.get(profile);
  if (facts === undefined) {
    facts = decode(profile);
    cache.set(profile, facts);
  }
  return facts;
}

function decode(profile: Profile): GuestFacts {
  const base = factsFor(profile);
  const [miscLo] = halvesOf(BigInt(profile.data.msrs.IA32_VMX_MISC));
  const misc = (bit: number): boolean => ((miscLo >>> bit) & 1) === 1;
  const words = layoutOf(fieldTableFor(profile).entry);
  return {
    words,
    segments: segmentWords(words),
    hltSupported: misc(VMX_MISC.ACTIVITY_HLT),
    shutdownSupported: misc(VMX_MISC.ACTIVITY_SHUTDOWN),
    waitForSipiSupported: misc(VMX_MISC.ACTIVITY_WAIT_FOR_SIPI),
    msrListLimit: 512 * (((miscLo >>> VMX_MISC.MSR_LIST_LIMIT) & 7) + 1),
    revisionId: base.revisionId,
    physicalHiBad: base.physicalHiBad,
    pointerHiBad: base.pointerHiBad,
  };
}
