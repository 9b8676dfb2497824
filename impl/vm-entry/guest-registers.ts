/**
 * Guest-state checks on control registers, debug registers and MSRs, on RIP, RFLAGS and SSP, and
 * on the descriptor-table registers: SDM Vol. 3C, December 2023, §27.3.1.1 "Checks on Guest
 * Control Registers, Debug Registers, and MSRs", §27.3.1.3 "Checks on Guest Descriptor-Table
 * Registers" and §27.3.1.4 "Checks on Guest RIP, RFLAGS, and SSP"; the catalogue groups
 * `guest-control-registers`, `guest-descriptor-tables` and `guest-rip-rflags`
 * (spec/entry-checks/). Every failure is exit reason 33 with qualification 0.
 *
 * Trick: 64-bit values are tested as int32 halves, canonicity is one arithmetic shift of the high
 * half (48-bit linear addresses, see impl/README.md), reserved-bit masks are int32 constants
 * derived once from spec/'s BigInt masks.
 */
import {
  ENTRY_CONTROL as ENTRY,
  PRIMARY_CONTROL as PRIMARY,
  SECONDARY_CONTROL as SECONDARY,
} from '../../spec/control-bits.ts';
import {
  CR0,
  CR4,
  DEBUGCTL_ALWAYS_RESERVED,
  EFER,
  LATER_ENTRY_CONTROL,
  RFLAGS,
  RFLAGS_RESERVED_ZERO,
} from '../../spec/guest-state-bits.ts';
import { halvesOf } from '../hex-halves.ts';
import type { EntryFacts } from './facts.ts';
import { assertLiterals } from '../literals.ts';
import type { GuestFacts } from './guest-facts.ts';
import { canonical, high, low, notCanonical, on, patHalfOk, stackOk } from './vmcs-words.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  ENTRY_IA32E_MODE_GUEST = 9,
  ENTRY_LOAD_CET_STATE = 20,
  ENTRY_LOAD_DEBUG_CONTROLS = 2,
  ENTRY_LOAD_IA32_BNDCFGS = 16,
  ENTRY_LOAD_IA32_EFER = 15,
  ENTRY_LOAD_IA32_PAT = 14,
  ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL = 13,
  ENTRY_LOAD_PKRS = 22,
  PRIMARY_ACTIVATE_SECONDARY_CONTROLS = 31,
  SECONDARY_UNRESTRICTED_GUEST = 7,
  CR0_CD = 30,
  CR0_NW = 29,
  CR0_PE = 0,
  CR0_PG = 31,
  CR0_WP = 16,
  CR4_CET = 23,
  CR4_FRED = 32,
  CR4_PAE = 5,
  CR4_PCIDE = 17,
  EFER_LMA = 10,
  EFER_LME = 8,
  EFER_NXE = 11,
  EFER_SCE = 0,
  LATER_ENTRY_CONTROL_LOAD_IA32_FRED = 23,
  LATER_ENTRY_CONTROL_LOAD_IA32_SPEC_CTRL = 24,
  RFLAGS_FIXED_1 = 1,
  RFLAGS_IF = 9,
  RFLAGS_IOPL = 12,
  RFLAGS_VM = 17,
  /** CR0_NW and CR0_CD are never checked against the fixed bits (VM entry does not load them). */
  CR0_NW_CD = 0x60000000,
  CR0_PE_PG = -0x7fffffff,
  /** CR4_FRED is bit 32: bit 0 of the high half. */
  CR4_HI_FRED = 1,
  /** IA32_EFER bits impl/ implements: SCE, LME, LMA, NXE (as for the host; impl/README.md). */
  EFER_SUPPORTED = 0xd01,
  /** IA32_PERF_GLOBAL_CTRL bits impl/ implements: 7:0 and 34:32 (as for the host). */
  PERF_GLOBAL_CTRL_LO = 255,
  PERF_GLOBAL_CTRL_HI = 7,
  /** IA32_BNDCFGS reserved bits 11:2. */
  BNDCFGS_RESERVED = 0xffc,
  /** IA32_S_CET reserved bits 9:6; SUPPRESS (10) and TRACKER (11) exclusive. */
  S_CET_RESERVED = 0x3c0,
  S_CET_SUPPRESS_AND_TRACKER = 0xc00,
  /** IA32_FRED_CONFIG reserved bits 2, 5:4 and 11. */
  FRED_CONFIG_RESERVED = 0x834,
  /** IA32_SPEC_CTRL bits impl/ implements: IBRS (0), STIBP (1), SSBD (2); the rest #GP on WRMSR. */
  SPEC_CTRL_SUPPORTED = 7,
  INFO_VALID = 31,
  ACCESS_RIGHTS_L = 13,
  SS_DPL_SHIFT = 5,
}

const [DEBUGCTL_RESERVED_LO, DEBUGCTL_RESERVED_HI] = halvesOf(DEBUGCTL_ALWAYS_RESERVED);
const [RFLAGS_RESERVED_LO] = halvesOf(RFLAGS_RESERVED_ZERO);

/**
 * Bits 63:N are not all identical, N = 48 the linear-address width: the wording of the RIP and SSP
 * checks ("bits 63:N identical"), which leaves bit 47 free, unlike "canonical" (bits 63:47).
 */
function upperBitsDiffer(hi: number): boolean {
  const top = hi >> 16;
  return top !== 0 && top !== -1;
}

/** "Unrestricted guest" is 1 (it counts only with "activate secondary controls" = 1). */
export function unrestrictedGuest(e: EntryFacts, v: Int32Array, base: number): boolean {
  const primary = (v[base + e.words.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
  return on(primary, K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS) && on(low(v, base, e.words.SECONDARY_PROCESSOR_BASED_CONTROLS), K.SECONDARY_UNRESTRICTED_GUEST);
}

/** True when every check of the group `guest-control-registers` passes. */
export function guestControlRegistersOk(e: EntryFacts, g: GuestFacts, v: Int32Array, base: number): boolean {
  const w = g.words;
  const entry = (v[base + e.words.VM_ENTRY_CONTROLS] as number);
  const ia32e = on(entry, K.ENTRY_IA32E_MODE_GUEST);
  const cr0 = (v[base + w.GUEST_CR0] as number);
  const fixed0 = e.cr0Fixed0Lo & ~K.CR0_NW_CD & (unrestrictedGuest(e, v, base) ? ~K.CR0_PE_PG : -1);
  if ((cr0 & fixed0) !== fixed0 || ((v[base + w.GUEST_CR0 + 1] as number) & e.cr0Fixed0Hi) !== e.cr0Fixed0Hi) return false;
  if ((cr0 & ~e.cr0Fixed1Lo & ~K.CR0_NW_CD) !== 0 || ((v[base + w.GUEST_CR0 + 1] as number) & ~e.cr0Fixed1Hi) !== 0) return false;
  if (on(cr0, K.CR0_PG) && !on(cr0, K.CR0_PE)) return false;
  const cr4 = (v[base + w.GUEST_CR4] as number);
  const cr4Hi = (v[base + w.GUEST_CR4 + 1] as number);
  if ((cr4 & e.cr4Fixed0Lo) !== e.cr4Fixed0Lo || (cr4Hi & e.cr4Fixed0Hi) !== e.cr4Fixed0Hi) return false;
  if ((cr4 & ~e.cr4Fixed1Lo) !== 0 || (cr4Hi & ~e.cr4Fixed1Hi) !== 0) return false;
  if (on(cr4, K.CR4_CET) && !on(cr0, K.CR0_WP)) return false;
  const debugControls = on(entry, K.ENTRY_LOAD_DEBUG_CONTROLS);
  if (
    debugControls &&
    (((v[base + w.GUEST_IA32_DEBUGCTL] as number) & DEBUGCTL_RESERVED_LO) !== 0 || ((v[base + w.GUEST_IA32_DEBUGCTL + 1] as number) & DEBUGCTL_RESERVED_HI) !== 0)
  ) {
    return false;
  }
  if (ia32e && (!on(cr0, K.CR0_PG) || !on(cr4, K.CR4_PAE))) return false;
  if (!ia32e && (on(cr4, K.CR4_PCIDE) || (cr4Hi & K.CR4_HI_FRED) !== 0)) return false;
  if (((v[base + w.GUEST_CR3 + 1] as number) & g.physicalHiBad) !== 0) return false;
  if (debugControls && (v[base + w.GUEST_DR7 + 1] as number) !== 0) return false;
  if (!canonical(v, base, w.GUEST_IA32_SYSENTER_ESP) || !canonical(v, base, w.GUEST_IA32_SYSENTER_EIP)) return false;
  if (on(entry, K.ENTRY_LOAD_CET_STATE)) {
    const sCet = low(v, base, w.GUEST_IA32_S_CET);
    const sCetHi = high(v, base, w.GUEST_IA32_S_CET);
    if (notCanonical(sCetHi) || (!ia32e && sCetHi !== 0)) return false;
    if ((sCet & K.S_CET_RESERVED) !== 0 || (sCet & K.S_CET_SUPPRESS_AND_TRACKER) === K.S_CET_SUPPRESS_AND_TRACKER) return false;
    if (!canonical(v, base, w.GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR)) return false;
  }
  if (
    on(entry, K.ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL) &&
    ((low(v, base, w.GUEST_IA32_PERF_GLOBAL_CTRL) & ~K.PERF_GLOBAL_CTRL_LO) !== 0 ||
      (high(v, base, w.GUEST_IA32_PERF_GLOBAL_CTRL) & ~K.PERF_GLOBAL_CTRL_HI) !== 0)
  ) {
    return false;
  }
  if (on(entry, K.ENTRY_LOAD_IA32_PAT) && !(patHalfOk(low(v, base, w.GUEST_IA32_PAT)) && patHalfOk(high(v, base, w.GUEST_IA32_PAT)))) {
    return false;
  }
  if (on(entry, K.ENTRY_LOAD_IA32_EFER)) {
    const efer = low(v, base, w.GUEST_IA32_EFER);
    if ((efer & ~K.EFER_SUPPORTED) !== 0 || high(v, base, w.GUEST_IA32_EFER) !== 0) return false;
    if (on(efer, K.EFER_LMA) !== ia32e) return false;
    if (on(cr0, K.CR0_PG) && on(efer, K.EFER_LME) !== on(efer, K.EFER_LMA)) return false;
  }
  if (
    on(entry, K.ENTRY_LOAD_IA32_BNDCFGS) &&
    ((low(v, base, w.GUEST_IA32_BNDCFGS) & K.BNDCFGS_RESERVED) !== 0 || !canonical(v, base, w.GUEST_IA32_BNDCFGS))
  ) {
    return false;
  }
  if (on(entry, K.ENTRY_LOAD_PKRS) && high(v, base, w.GUEST_IA32_PKRS) !== 0) return false;
  if (on(entry, K.LATER_ENTRY_CONTROL_LOAD_IA32_FRED) && !guestFredOk(g, v, base)) return false;
  if (
    on(entry, K.LATER_ENTRY_CONTROL_LOAD_IA32_SPEC_CTRL) &&
    ((low(v, base, w.GUEST_IA32_SPEC_CTRL) & ~K.SPEC_CTRL_SUPPORTED) !== 0 || high(v, base, w.GUEST_IA32_SPEC_CTRL) !== 0)
  ) {
    return false;
  }
  return true;
}

/** The guest FRED MSRs ("load IA32_FRED" = 1): IA32_FRED_CONFIG, RSP1-3 (64-byte aligned), SSP1-3 (8-byte). */
function guestFredOk(g: GuestFacts, v: Int32Array, base: number): boolean {
  const w = g.words;
  if ((low(v, base, w.GUEST_IA32_FRED_CONFIG) & K.FRED_CONFIG_RESERVED) !== 0 || !canonical(v, base, w.GUEST_IA32_FRED_CONFIG)) {
    return false;
  }
  return (
    stackOk(v, base, w.GUEST_IA32_FRED_RSP1, 0x3f) &&
    stackOk(v, base, w.GUEST_IA32_FRED_RSP2, 0x3f) &&
    stackOk(v, base, w.GUEST_IA32_FRED_RSP3, 0x3f) &&
    stackOk(v, base, w.GUEST_IA32_FRED_SSP1, 7) &&
    stackOk(v, base, w.GUEST_IA32_FRED_SSP2, 7) &&
    stackOk(v, base, w.GUEST_IA32_FRED_SSP3, 7)
  );
}

/** True when every check of the group `guest-descriptor-tables` passes. */
export function guestDescriptorTablesOk(g: GuestFacts, v: Int32Array, base: number): boolean {
  const w = g.words;
  return (
    canonical(v, base, w.GUEST_GDTR_BASE) &&
    canonical(v, base, w.GUEST_IDTR_BASE) &&
    ((v[base + w.GUEST_GDTR_LIMIT] as number) & 0xffff_0000) === 0 &&
    ((v[base + w.GUEST_IDTR_LIMIT] as number) & 0xffff_0000) === 0
  );
}

/** True when every check of the group `guest-rip-rflags` passes. */
export function guestRipRflagsOk(e: EntryFacts, g: GuestFacts, v: Int32Array, base: number): boolean {
  const w = g.words;
  const entry = (v[base + e.words.VM_ENTRY_CONTROLS] as number);
  const ia32e = on(entry, K.ENTRY_IA32E_MODE_GUEST);
  const csL = on((v[base + w.GUEST_CS_ACCESS_RIGHTS] as number), K.ACCESS_RIGHTS_L);
  const ripHi = (v[base + w.GUEST_RIP + 1] as number);
  if (ia32e && csL ? upperBitsDiffer(ripHi) : ripHi !== 0) return false;
  const rflags = (v[base + w.GUEST_RFLAGS] as number);
  if ((rflags & RFLAGS_RESERVED_LO) !== 0 || (v[base + w.GUEST_RFLAGS + 1] as number) !== 0) return false;
  if (!on(rflags, K.RFLAGS_FIXED_1)) return false;
  const vm = on(rflags, K.RFLAGS_VM);
  if (vm && (ia32e || !on((v[base + w.GUEST_CR0] as number), K.CR0_PE))) return false;
  const info = (v[base + e.words.VM_ENTRY_INTERRUPTION_INFORMATION] as number);
  if (on(info, K.INFO_VALID) && ((info >>> 8) & 7) === 0 && !on(rflags, K.RFLAGS_IF)) return false;
  if (on(entry, K.ENTRY_LOAD_CET_STATE)) {
    const sspHi = high(v, base, w.GUEST_SSP);
    if ((!ia32e && sspHi !== 0) || upperBitsDiffer(sspHi) || (low(v, base, w.GUEST_SSP) & 3) !== 0) return false;
  }
  if (ia32e && ((v[base + w.GUEST_CR4 + 1] as number) & K.CR4_HI_FRED) !== 0) {
    const ssDpl = ((v[base + w.GUEST_SS_ACCESS_RIGHTS] as number) >>> K.SS_DPL_SHIFT) & 3;
    if (ssDpl === 3 && ((rflags >>> K.RFLAGS_IOPL) & 3) !== 0) return false;
  }
  return true;
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/guest-registers.ts', [
  [K.ENTRY_IA32E_MODE_GUEST, ENTRY.IA32E_MODE_GUEST],
  [K.ENTRY_LOAD_CET_STATE, ENTRY.LOAD_CET_STATE],
  [K.ENTRY_LOAD_DEBUG_CONTROLS, ENTRY.LOAD_DEBUG_CONTROLS],
  [K.ENTRY_LOAD_IA32_BNDCFGS, ENTRY.LOAD_IA32_BNDCFGS],
  [K.ENTRY_LOAD_IA32_EFER, ENTRY.LOAD_IA32_EFER],
  [K.ENTRY_LOAD_IA32_PAT, ENTRY.LOAD_IA32_PAT],
  [K.ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL, ENTRY.LOAD_IA32_PERF_GLOBAL_CTRL],
  [K.ENTRY_LOAD_PKRS, ENTRY.LOAD_PKRS],
  [K.PRIMARY_ACTIVATE_SECONDARY_CONTROLS, PRIMARY.ACTIVATE_SECONDARY_CONTROLS],
  [K.SECONDARY_UNRESTRICTED_GUEST, SECONDARY.UNRESTRICTED_GUEST],
  [K.CR0_CD, CR0.CD],
  [K.CR0_NW, CR0.NW],
  [K.CR0_PE, CR0.PE],
  [K.CR0_PG, CR0.PG],
  [K.CR0_WP, CR0.WP],
  [K.CR4_CET, CR4.CET],
  [K.CR4_FRED, CR4.FRED],
  [K.CR4_PAE, CR4.PAE],
  [K.CR4_PCIDE, CR4.PCIDE],
  [K.EFER_LMA, EFER.LMA],
  [K.EFER_LME, EFER.LME],
  [K.EFER_NXE, EFER.NXE],
  [K.EFER_SCE, EFER.SCE],
  [K.LATER_ENTRY_CONTROL_LOAD_IA32_FRED, LATER_ENTRY_CONTROL.LOAD_IA32_FRED],
  [K.LATER_ENTRY_CONTROL_LOAD_IA32_SPEC_CTRL, LATER_ENTRY_CONTROL.LOAD_IA32_SPEC_CTRL],
  [K.RFLAGS_FIXED_1, RFLAGS.FIXED_1],
  [K.RFLAGS_IF, RFLAGS.IF],
  [K.RFLAGS_IOPL, RFLAGS.IOPL],
  [K.RFLAGS_VM, RFLAGS.VM],
  [K.CR0_NW_CD, (1 << K.CR0_NW) | (1 << K.CR0_CD)],
  [K.CR0_PE_PG, (1 << K.CR0_PE) | (1 << K.CR0_PG)],
  [K.CR4_HI_FRED, 1 << (K.CR4_FRED - 32)],
  [K.EFER_SUPPORTED, (1 << K.EFER_SCE) | (1 << K.EFER_LME) | (1 << K.EFER_LMA) | (1 << K.EFER_NXE)],
]);
