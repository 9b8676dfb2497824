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
import type { GuestFacts } from './guest-facts.ts';

// Local copies of imported constants and helpers: a speed trick (impl/README.md, "Local
// copies"). Row offsets from impl/cpu-row.ts, checked by test/impl/local-copies.test.ts.
const ENTRY_IA32E_MODE_GUEST = ENTRY.IA32E_MODE_GUEST;
const ENTRY_LOAD_UINV = ENTRY.LOAD_UINV;
const PIN_VIRTUAL_NMIS = PIN.VIRTUAL_NMIS;
const PRIMARY_ACTIVATE_SECONDARY_CONTROLS = PRIMARY.ACTIVATE_SECONDARY_CONTROLS;
const SECONDARY_ENABLE_EPT = SECONDARY.ENABLE_EPT;
const SECONDARY_VMCS_SHADOWING = SECONDARY.VMCS_SHADOWING;
const CR0_PG = CR0.PG;
const CR4_FRED = CR4.FRED;
const CR4_PAE = CR4.PAE;
const DEBUGCTL_BTF = DEBUGCTL.BTF;
const INTERRUPTIBILITY_BLOCKING_BY_MOV_SS = INTERRUPTIBILITY.BLOCKING_BY_MOV_SS;
const INTERRUPTIBILITY_BLOCKING_BY_NMI = INTERRUPTIBILITY.BLOCKING_BY_NMI;
const INTERRUPTIBILITY_BLOCKING_BY_SMI = INTERRUPTIBILITY.BLOCKING_BY_SMI;
const INTERRUPTIBILITY_BLOCKING_BY_STI = INTERRUPTIBILITY.BLOCKING_BY_STI;
const PENDING_DEBUG_BS = PENDING_DEBUG.BS;
const RFLAGS_IF = RFLAGS.IF;
const RFLAGS_TF = RFLAGS.TF;

/** Bits 63:32 of a field; 0 when the profile lacks it. */
function high(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word + 1] as number);
}

/** Bits 31:0 of a field; 0 when the profile lacks it (`word` -1). */
function low(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word] as number);
}

/** Bit `position` of `value` is 1. */
function on(value: number, position: number): boolean {
  return ((value >>> position) & 1) === 1;
}

/** Every guest-state check of this file passes. */
export const PASS = -1;
const QUALIFICATION_INVALID = 0;
const QUALIFICATION_PDPTE = 2;
const QUALIFICATION_NMI_UNDER_STI = 3;
const QUALIFICATION_LINK_POINTER = 4;

const ACTIVITY_ACTIVE = 0;
const ACTIVITY_HLT = 1;
const ACTIVITY_SHUTDOWN = 2;
const ACTIVITY_WAIT_FOR_SIPI = 3;
const TYPE_EXTERNAL_INTERRUPT = 0;
const TYPE_NMI = 2;
const TYPE_HARDWARE_EXCEPTION = 3;
const TYPE_OTHER_EVENT = 7;
const VECTOR_DB = 1;
const VECTOR_MC = 18;
const VECTOR_PENDING_MTF = 0;
/** Interruptibility bits reserved here: 31:5, and bit 4 (enclave interruption) without SGX. */
const INTERRUPTIBILITY_RESERVED = 0xffff_fff0 | 0;
const STI = 1 << INTERRUPTIBILITY_BLOCKING_BY_STI;
const MOV_SS = 1 << INTERRUPTIBILITY_BLOCKING_BY_MOV_SS;
/** Pending debug exceptions: bits 11:4, 13, 15 and 63:17 reserved. */
const PENDING_DEBUG_RESERVED = 0xff0 | (1 << 13) | (1 << 15) | (0xfffe_0000 | 0);
const CR4_HI_FRED = 1 << (CR4_FRED - 32);
const UINV_RESERVED = 0xff00;
const LOAD_UINV = ENTRY_LOAD_UINV;
/** PDPTE reserved bits 2:1 and 8:5 (Vol. 3A §4.4.1 "PDPTE Registers"). */
const PDPTE_RESERVED_LO = 0x6 | 0x1e0;

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
  const activity = low(v, base, w.GUEST_ACTIVITY_STATE);
  const ssDpl = (low(v, base, w.GUEST_SS_ACCESS_RIGHTS) >>> 5) & 3;
  // Activity state.
  if (
    (activity >>> 0) > ACTIVITY_WAIT_FOR_SIPI ||
    (activity === ACTIVITY_HLT && !g.hltSupported) ||
    (activity === ACTIVITY_SHUTDOWN && !g.shutdownSupported) ||
    (activity === ACTIVITY_WAIT_FOR_SIPI && !g.waitForSipiSupported)
  ) {
    return QUALIFICATION_INVALID;
  }
  if (activity === ACTIVITY_HLT && ssDpl !== 0) return QUALIFICATION_INVALID;
  const intr = low(v, base, w.GUEST_INTERRUPTIBILITY_STATE);
  if ((intr & (STI | MOV_SS)) !== 0 && activity !== ACTIVITY_ACTIVE) return QUALIFICATION_INVALID;
  const info = low(v, base, e.words.VM_ENTRY_INTERRUPTION_INFORMATION);
  const injecting = info < 0;
  const type = (info >>> 8) & 7;
  const vector = info & 0xff;
  if (injecting && activity === ACTIVITY_HLT) {
    const allowed =
      type === TYPE_EXTERNAL_INTERRUPT ||
      type === TYPE_NMI ||
      (type === TYPE_HARDWARE_EXCEPTION && (vector === VECTOR_DB || vector === VECTOR_MC)) ||
      (type === TYPE_OTHER_EVENT && vector === VECTOR_PENDING_MTF);
    if (!allowed) return QUALIFICATION_INVALID;
  }
  if (injecting && activity === ACTIVITY_SHUTDOWN && type !== TYPE_NMI && !(type === TYPE_HARDWARE_EXCEPTION && vector === VECTOR_MC)) {
    return QUALIFICATION_INVALID;
  }
  if (injecting && activity === ACTIVITY_WAIT_FOR_SIPI) return QUALIFICATION_INVALID;
  // Interruptibility state ("entry to SMM" is never 1 here: the control checks refuse it).
  if ((intr & INTERRUPTIBILITY_RESERVED) !== 0) return QUALIFICATION_INVALID;
  if ((intr & (STI | MOV_SS)) === (STI | MOV_SS)) return QUALIFICATION_INVALID;
  const rflags = low(v, base, w.GUEST_RFLAGS);
  if ((intr & STI) !== 0 && !on(rflags, RFLAGS_IF)) return QUALIFICATION_INVALID;
  if (injecting && type === TYPE_EXTERNAL_INTERRUPT && (intr & (STI | MOV_SS)) !== 0) return QUALIFICATION_INVALID;
  if (injecting && type === TYPE_NMI && (intr & MOV_SS) !== 0) return QUALIFICATION_INVALID;
  if (on(intr, INTERRUPTIBILITY_BLOCKING_BY_SMI)) return QUALIFICATION_INVALID;
  const nmiUnderSti = injecting && type === TYPE_NMI && (intr & STI) !== 0;
  if (
    injecting &&
    type === TYPE_NMI &&
    on(low(v, base, e.words.PIN_BASED_CONTROLS), PIN_VIRTUAL_NMIS) &&
    on(intr, INTERRUPTIBILITY_BLOCKING_BY_NMI)
  ) {
    return QUALIFICATION_INVALID;
  }
  const ia32e = on(low(v, base, e.words.VM_ENTRY_CONTROLS), ENTRY_IA32E_MODE_GUEST);
  if (ia32e && (high(v, base, w.GUEST_CR4) & CR4_HI_FRED) !== 0 && ssDpl === 3 && (intr & STI) !== 0) return QUALIFICATION_INVALID;
  // Pending debug exceptions.
  const pending = low(v, base, w.GUEST_PENDING_DEBUG_EXCEPTIONS);
  if ((pending & PENDING_DEBUG_RESERVED) !== 0 || high(v, base, w.GUEST_PENDING_DEBUG_EXCEPTIONS) !== 0) return QUALIFICATION_INVALID;
  if ((intr & (STI | MOV_SS)) !== 0 || activity === ACTIVITY_HLT) {
    const bsExpected = on(rflags, RFLAGS_TF) && !on(low(v, base, w.GUEST_IA32_DEBUGCTL), DEBUGCTL_BTF);
    if (on(pending, PENDING_DEBUG_BS) !== bsExpected) return QUALIFICATION_INVALID;
  }
  if (on(low(v, base, e.words.VM_ENTRY_CONTROLS), LOAD_UINV) && (low(v, base, w.GUEST_UINV) & UINV_RESERVED) !== 0) {
    return QUALIFICATION_INVALID;
  }
  if (nmiUnderSti) return QUALIFICATION_NMI_UNDER_STI;
  return linkPointerOk(e, g, memory, base, currentLo, currentHi) ? PASS : QUALIFICATION_LINK_POINTER;
}

/** The VMCS link pointer checks (nothing to check when it is FFFFFFFF_FFFFFFFFH). */
function linkPointerOk(e: EntryFacts, g: GuestFacts, memory: PhysicalMemory, base: number, currentLo: number, currentHi: number): boolean {
  const v = memory.words;
  const lo = low(v, base, g.words.VMCS_LINK_POINTER);
  const hi = high(v, base, g.words.VMCS_LINK_POINTER);
  if ((lo & hi) === -1) return true;
  if ((lo & 0xfff) !== 0 || (hi & g.pointerHiBad) !== 0) return false;
  const revision = memory.read32(lo, hi);
  if ((revision & 0x7fff_ffff) !== g.revisionId) return false;
  const primary = low(v, base, e.words.PRIMARY_PROCESSOR_BASED_CONTROLS);
  const shadowing =
    on(primary, PRIMARY_ACTIVATE_SECONDARY_CONTROLS) && on(low(v, base, e.words.SECONDARY_PROCESSOR_BASED_CONTROLS), SECONDARY_VMCS_SHADOWING);
  if (revision < 0 !== shadowing) return false;
  return !(lo === currentLo && hi === currentHi);
}

/** -1 when the PDPTE checks pass (or do not apply), else qualification 2. */
export function guestPdptes(e: EntryFacts, g: GuestFacts, memory: PhysicalMemory, base: number): number {
  const v = memory.words;
  const w = g.words;
  const cr0 = low(v, base, w.GUEST_CR0);
  if (!on(cr0, CR0_PG) || !on(low(v, base, w.GUEST_CR4), CR4_PAE)) return PASS;
  if (on(low(v, base, e.words.VM_ENTRY_CONTROLS), ENTRY_IA32E_MODE_GUEST)) return PASS;
  const primary = low(v, base, e.words.PRIMARY_PROCESSOR_BASED_CONTROLS);
  const ept = on(primary, PRIMARY_ACTIVATE_SECONDARY_CONTROLS) && on(low(v, base, e.words.SECONDARY_PROCESSOR_BASED_CONTROLS), SECONDARY_ENABLE_EPT);
  if (ept) {
    return pdpteOk(g, low(v, base, w.GUEST_PDPTE0), high(v, base, w.GUEST_PDPTE0)) &&
      pdpteOk(g, low(v, base, w.GUEST_PDPTE1), high(v, base, w.GUEST_PDPTE1)) &&
      pdpteOk(g, low(v, base, w.GUEST_PDPTE2), high(v, base, w.GUEST_PDPTE2)) &&
      pdpteOk(g, low(v, base, w.GUEST_PDPTE3), high(v, base, w.GUEST_PDPTE3))
      ? PASS
      : QUALIFICATION_PDPTE;
  }
  // PAE paging reads the PDPTEs at guest CR3 bits 31:5. Trick: the 32-byte table never crosses a
  // 1-KByte memory chunk, so one chunk look-up finds all eight words (none written: all zero, valid).
  const at = memory.wordOffset(low(v, base, w.GUEST_CR3) & ~0x1f, 0);
  if (at < 0) return PASS;
  for (let n = 0; n < 8; n += 2) {
    if (!pdpteOk(g, v[at + n] as number, v[at + n + 1] as number)) return QUALIFICATION_PDPTE;
  }
  return PASS;
}

function pdpteOk(g: GuestFacts, lo: number, hi: number): boolean {
  return (lo & 1) === 0 || ((lo & PDPTE_RESERVED_LO) === 0 && (hi & g.physicalHiBad) === 0);
}
