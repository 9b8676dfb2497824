/**
 * Guest-state checks on the non-register state and on the PDPTEs: SDM Vol. 3C, December 2023,
 * §27.3.1.5 "Checks on Guest Non-Register State" and §27.3.1.6 "Checks on Guest
 * Page-Directory-Pointer-Table Entries"; the catalogue groups `guest-non-register-state` and
 * `guest-pdptes` (spec/entry-checks/). A failure is exit reason 33 with qualification 0, 3 (an
 * NMI injected under blocking by STI), 4 (the VMCS link pointer) or 2 (a PDPTE).
 *
 * impl/ choices where the SDM leaves freedom (impl/README.md): an NMI injected under blocking by
 * STI fails (qualification 3); the processor supports neither SGX (interruptibility bit 4 is
 * reserved) nor SMM (blocking by SMI must be 0); with "enable EPT" = 0 the PDPTEs in memory are
 * checked at every entry to a PAE guest, whatever paging was in use before.
 *
 * Trick: functions return a number (-1 when every check passes, else the qualification) so that
 * nothing is allocated to say which check failed.
 */
import {
  ENTRY_CONTROL as ENTRY,
  PIN_CONTROL as PIN,
  PRIMARY_CONTROL as PRIMARY,
  SECONDARY_CONTROL as SECONDARY,
} from '../../spec/control-bits.ts';
import { CR0, CR4, DEBUGCTL, INTERRUPTIBILITY, PENDING_DEBUG, RFLAGS } from '../../spec/guest-state-bits.ts';
import type { PhysicalMemory } from '../memory.ts';
import type { EntryFacts } from './facts.ts';
import { assertLiterals } from '../literals.ts';
import type { GuestFacts } from './guest-facts.ts';
import { high, low, on } from './vmcs-words.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  ENTRY_IA32E_MODE_GUEST = 9,
  ENTRY_LOAD_UINV = 19,
  PIN_VIRTUAL_NMIS = 5,
  PRIMARY_ACTIVATE_SECONDARY_CONTROLS = 31,
  SECONDARY_ENABLE_EPT = 1,
  SECONDARY_VMCS_SHADOWING = 14,
  CR0_PG = 31,
  CR4_FRED = 32,
  CR4_PAE = 5,
  DEBUGCTL_BTF = 1,
  INTERRUPTIBILITY_BLOCKING_BY_MOV_SS = 1,
  INTERRUPTIBILITY_BLOCKING_BY_NMI = 3,
  INTERRUPTIBILITY_BLOCKING_BY_SMI = 2,
  INTERRUPTIBILITY_BLOCKING_BY_STI = 0,
  PENDING_DEBUG_BS = 14,
  RFLAGS_IF = 9,
  RFLAGS_TF = 8,
  QUALIFICATION_INVALID = 0,
  QUALIFICATION_PDPTE = 2,
  QUALIFICATION_NMI_UNDER_STI = 3,
  QUALIFICATION_LINK_POINTER = 4,
  ACTIVITY_ACTIVE = 0,
  ACTIVITY_HLT = 1,
  ACTIVITY_SHUTDOWN = 2,
  ACTIVITY_WAIT_FOR_SIPI = 3,
  TYPE_EXTERNAL_INTERRUPT = 0,
  TYPE_NMI = 2,
  TYPE_HARDWARE_EXCEPTION = 3,
  TYPE_OTHER_EVENT = 7,
  VECTOR_DB = 1,
  VECTOR_MC = 18,
  VECTOR_PENDING_MTF = 0,
  /** Interruptibility bits reserved here: 31:5, and bit 4 (enclave interruption) without SGX. */
  INTERRUPTIBILITY_RESERVED = -16,
  STI = 1,
  MOV_SS = 2,
  /** Pending debug exceptions: bits 11:4, 13, 15 and 63:17 reserved. */
  PENDING_DEBUG_RESERVED = -0x15010,
  CR4_HI_FRED = 1,
  UINV_RESERVED = 0xff00,
  LOAD_UINV = 19,
  /** PDPTE reserved bits 2:1 and 8:5 (Vol. 3A §4.4.1 "PDPTE Registers"). */
  PDPTE_RESERVED_LO = 0x1e6,
}

/** Every guest-state check of this file passes. */
export const PASS = -1;


/** -1 when every check of `guest-non-register-state` passes, else the qualification (0, 3 or 4). */
export function guestNonRegisterState(
  e: EntryFacts,
  g: GuestFacts,
  memory: PhysicalMemory,
  base: number,
  currentLo: number,
  currentHi: number,
): number {
  const v = memory.words;
  const w = g.words;
  const activity = (v[base + w.GUEST_ACTIVITY_STATE] as number);
  const ssDpl = ((v[base + w.GUEST_SS_ACCESS_RIGHTS] as number) >>> 5) & 3;
  // Activity state.
  if (
    (activity >>> 0) > K.ACTIVITY_WAIT_FOR_SIPI ||
    (activity === K.ACTIVITY_HLT && !g.hltSupported) ||
    (activity === K.ACTIVITY_SHUTDOWN && !g.shutdownSupported) ||
    (activity === K.ACTIVITY_WAIT_FOR_SIPI && !g.waitForSipiSupported)
  ) {
    return K.QUALIFICATION_INVALID;
  }
  if (activity === K.ACTIVITY_HLT && ssDpl !== 0) return K.QUALIFICATION_INVALID;
  const intr = (v[base + w.GUEST_INTERRUPTIBILITY_STATE] as number);
  if ((intr & (K.STI | K.MOV_SS)) !== 0 && activity !== K.ACTIVITY_ACTIVE) return K.QUALIFICATION_INVALID;
  const info = (v[base + e.words.VM_ENTRY_INTERRUPTION_INFORMATION] as number);
  const injecting = info < 0;
  const type = (info >>> 8) & 7;
  const vector = info & 0xff;
  if (injecting && activity === K.ACTIVITY_HLT) {
    const allowed =
      type === K.TYPE_EXTERNAL_INTERRUPT ||
      type === K.TYPE_NMI ||
      (type === K.TYPE_HARDWARE_EXCEPTION && (vector === K.VECTOR_DB || vector === K.VECTOR_MC)) ||
      (type === K.TYPE_OTHER_EVENT && vector === K.VECTOR_PENDING_MTF);
    if (!allowed) return K.QUALIFICATION_INVALID;
  }
  if (injecting && activity === K.ACTIVITY_SHUTDOWN && type !== K.TYPE_NMI && !(type === K.TYPE_HARDWARE_EXCEPTION && vector === K.VECTOR_MC)) {
    return K.QUALIFICATION_INVALID;
  }
  if (injecting && activity === K.ACTIVITY_WAIT_FOR_SIPI) return K.QUALIFICATION_INVALID;
  // Interruptibility state ("entry to SMM" is never 1 here: the control checks refuse it).
  if ((intr & K.INTERRUPTIBILITY_RESERVED) !== 0) return K.QUALIFICATION_INVALID;
  if ((intr & (K.STI | K.MOV_SS)) === (K.STI | K.MOV_SS)) return K.QUALIFICATION_INVALID;
  const rflags = (v[base + w.GUEST_RFLAGS] as number);
  if ((intr & K.STI) !== 0 && !on(rflags, K.RFLAGS_IF)) return K.QUALIFICATION_INVALID;
  if (injecting && type === K.TYPE_EXTERNAL_INTERRUPT && (intr & (K.STI | K.MOV_SS)) !== 0) return K.QUALIFICATION_INVALID;
  if (injecting && type === K.TYPE_NMI && (intr & K.MOV_SS) !== 0) return K.QUALIFICATION_INVALID;
  if (on(intr, K.INTERRUPTIBILITY_BLOCKING_BY_SMI)) return K.QUALIFICATION_INVALID;
  const nmiUnderSti = injecting && type === K.TYPE_NMI && (intr & K.STI) !== 0;
  if (
    injecting &&
    type === K.TYPE_NMI &&
    on((v[base + e.words.PIN_BASED_CONTROLS] as number), K.PIN_VIRTUAL_NMIS) &&
    on(intr, K.INTERRUPTIBILITY_BLOCKING_BY_NMI)
  ) {
    return K.QUALIFICATION_INVALID;
  }
  const ia32e = on((v[base + e.words.VM_ENTRY_CONTROLS] as number), K.ENTRY_IA32E_MODE_GUEST);
  if (ia32e && ((v[base + w.GUEST_CR4 + 1] as number) & K.CR4_HI_FRED) !== 0 && ssDpl === 3 && (intr & K.STI) !== 0) return K.QUALIFICATION_INVALID;
  // Pending debug exceptions.
  const pending = (v[base + w.GUEST_PENDING_DEBUG_EXCEPTIONS] as number);
  if ((pending & K.PENDING_DEBUG_RESERVED) !== 0 || (v[base + w.GUEST_PENDING_DEBUG_EXCEPTIONS + 1] as number) !== 0) return K.QUALIFICATION_INVALID;
  if ((intr & (K.STI | K.MOV_SS)) !== 0 || activity === K.ACTIVITY_HLT) {
    const bsExpected = on(rflags, K.RFLAGS_TF) && !on((v[base + w.GUEST_IA32_DEBUGCTL] as number), K.DEBUGCTL_BTF);
    if (on(pending, K.PENDING_DEBUG_BS) !== bsExpected) return K.QUALIFICATION_INVALID;
  }
  if (on((v[base + e.words.VM_ENTRY_CONTROLS] as number), K.LOAD_UINV) && (low(v, base, w.GUEST_UINV) & K.UINV_RESERVED) !== 0) {
    return K.QUALIFICATION_INVALID;
  }
  if (nmiUnderSti) return K.QUALIFICATION_NMI_UNDER_STI;
  return linkPointerOk(e, g, memory, base, currentLo, currentHi) ? PASS : K.QUALIFICATION_LINK_POINTER;
}

/** The VMCS link pointer checks (nothing to check when it is FFFFFFFF_FFFFFFFFH). */
function linkPointerOk(e: EntryFacts, g: GuestFacts, memory: PhysicalMemory, base: number, currentLo: number, currentHi: number): boolean {
  const v = memory.words;
  const lo = (v[base + g.words.VMCS_LINK_POINTER] as number);
  const hi = (v[base + g.words.VMCS_LINK_POINTER + 1] as number);
  if ((lo & hi) === -1) return true;
  if ((lo & 0xfff) !== 0 || (hi & g.pointerHiBad) !== 0) return false;
  const revision = memory.read32(lo, hi);
  if ((revision & 0x7fff_ffff) !== g.revisionId) return false;
  const primary = (v[base + e.words.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
  const shadowing =
    on(primary, K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS) && on(low(v, base, e.words.SECONDARY_PROCESSOR_BASED_CONTROLS), K.SECONDARY_VMCS_SHADOWING);
  if (revision < 0 !== shadowing) return false;
  return !(lo === currentLo && hi === currentHi);
}

/** -1 when the PDPTE checks pass (or do not apply), else qualification 2. */
export function guestPdptes(e: EntryFacts, g: GuestFacts, memory: PhysicalMemory, base: number): number {
  const v = memory.words;
  const w = g.words;
  const cr0 = (v[base + w.GUEST_CR0] as number);
  if (!on(cr0, K.CR0_PG) || !on((v[base + w.GUEST_CR4] as number), K.CR4_PAE)) return PASS;
  if (on((v[base + e.words.VM_ENTRY_CONTROLS] as number), K.ENTRY_IA32E_MODE_GUEST)) return PASS;
  const primary = (v[base + e.words.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
  const ept = on(primary, K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS) && on(low(v, base, e.words.SECONDARY_PROCESSOR_BASED_CONTROLS), K.SECONDARY_ENABLE_EPT);
  if (ept) {
    return pdpteOk(g, low(v, base, w.GUEST_PDPTE0), high(v, base, w.GUEST_PDPTE0)) &&
      pdpteOk(g, low(v, base, w.GUEST_PDPTE1), high(v, base, w.GUEST_PDPTE1)) &&
      pdpteOk(g, low(v, base, w.GUEST_PDPTE2), high(v, base, w.GUEST_PDPTE2)) &&
      pdpteOk(g, low(v, base, w.GUEST_PDPTE3), high(v, base, w.GUEST_PDPTE3))
      ? PASS
      : K.QUALIFICATION_PDPTE;
  }
  // PAE paging reads the PDPTEs at guest CR3 bits 31:5. Trick: the 32-byte table never crosses a
  // 1-KByte memory chunk, so one chunk look-up finds all eight words (none written: all zero, valid).
  const at = memory.wordOffset((v[base + w.GUEST_CR3] as number) & ~0x1f, 0);
  if (at < 0) return PASS;
  for (let n = 0; n < 8; n += 2) {
    if (!pdpteOk(g, v[at + n] as number, v[at + n + 1] as number)) return K.QUALIFICATION_PDPTE;
  }
  return PASS;
}

function pdpteOk(g: GuestFacts, lo: number, hi: number): boolean {
  return (lo & 1) === 0 || ((lo & K.PDPTE_RESERVED_LO) === 0 && (hi & g.physicalHiBad) === 0);
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/guest-non-register.ts', [
  [K.ENTRY_IA32E_MODE_GUEST, ENTRY.IA32E_MODE_GUEST],
  [K.ENTRY_LOAD_UINV, ENTRY.LOAD_UINV],
  [K.PIN_VIRTUAL_NMIS, PIN.VIRTUAL_NMIS],
  [K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS, PRIMARY.ACTIVATE_SECONDARY_CONTROLS],
  [K.SECONDARY_ENABLE_EPT, SECONDARY.ENABLE_EPT],
  [K.SECONDARY_VMCS_SHADOWING, SECONDARY.VMCS_SHADOWING],
  [K.CR0_PG, CR0.PG],
  [K.CR4_FRED, CR4.FRED],
  [K.CR4_PAE, CR4.PAE],
  [K.DEBUGCTL_BTF, DEBUGCTL.BTF],
  [K.INTERRUPTIBILITY_BLOCKING_BY_MOV_SS, INTERRUPTIBILITY.BLOCKING_BY_MOV_SS],
  [K.INTERRUPTIBILITY_BLOCKING_BY_NMI, INTERRUPTIBILITY.BLOCKING_BY_NMI],
  [K.INTERRUPTIBILITY_BLOCKING_BY_SMI, INTERRUPTIBILITY.BLOCKING_BY_SMI],
  [K.INTERRUPTIBILITY_BLOCKING_BY_STI, INTERRUPTIBILITY.BLOCKING_BY_STI],
  [K.PENDING_DEBUG_BS, PENDING_DEBUG.BS],
  [K.RFLAGS_IF, RFLAGS.IF],
  [K.RFLAGS_TF, RFLAGS.TF],
  [K.STI, 1 << K.INTERRUPTIBILITY_BLOCKING_BY_STI],
  [K.MOV_SS, 1 << K.INTERRUPTIBILITY_BLOCKING_BY_MOV_SS],
  [K.CR4_HI_FRED, 1 << (K.CR4_FRED - 32)],
  [K.LOAD_UINV, K.ENTRY_LOAD_UINV],
]);
