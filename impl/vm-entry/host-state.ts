/**
 * Checks on the host-state area: SDM Vol. 3C, December 2023, §27.2.2 "Checks on Host Control
 * Registers, MSRs, and SSP", §27.2.3 "Checks on Host Segment and Descriptor-Table Registers" and
 * §27.2.4 "Checks Related to Address-Space Size"; the catalogue groups `host-control-registers`,
 * `host-segment-registers` and `address-space-size` (spec/entry-checks/), in the catalogue's
 * order. A failure is VMfailValid(8), also for the address-space-size checks (impl/ choice: the
 * SDM names no number there, see impl/README.md).
 *
 * Trick: 64-bit values are tested as int32 halves; canonicity is one arithmetic shift of the high
 * half; the eight IA32_PAT memory types are one 8-bit mask of the allowed types.
 */
import { ENTRY_CONTROL as ENTRY, EXIT_CONTROL as EXIT } from '../../spec/control-bits.ts';
import { assertLiterals } from '../literals.ts';
import type { EntryFacts } from './facts.ts';
import { canonical, high, low, notCanonical, on, patHalfOk, stackOk } from './vmcs-words.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  ENTRY_IA32E_MODE_GUEST = 9,
  EXIT_ACTIVATE_SECONDARY_CONTROLS = 31,
  EXIT_HOST_ADDRESS_SPACE_SIZE = 9,
  EXIT_LOAD_CET_STATE = 28,
  EXIT_LOAD_IA32_EFER = 21,
  EXIT_LOAD_IA32_PAT = 19,
  EXIT_LOAD_IA32_PERF_GLOBAL_CTRL = 12,
  EXIT_LOAD_PKRS = 29,
  CR0_WP = 16,
  CR4_PAE = 5,
  CR4_PCIDE = 17,
  CR4_CET = 23,
  EFER_LME = 8,
  EFER_LMA = 10,
  EFER_SUPPORTED = 0xd01,
  PERF_GLOBAL_CTRL_LO = 255,
  PERF_GLOBAL_CTRL_HI = 7,
  /** IA32_S_CET: bits 9:6 reserved; SUPPRESS (10) and TRACKER (11) exclusive. */
  S_CET_RESERVED = 0x3c0,
  S_CET_SUPPRESS_AND_TRACKER = 0xc00,
  /** Selector RPL (bits 1:0) and TI (bit 2). */
  SELECTOR_RPL_TI = 7,
  /** "Load FRED" secondary VM-exit control (bit 1 in Intel's FRED specification; not in spec/). */
  SECONDARY_EXIT_LOAD_FRED = 1,
  /** IA32_FRED_CONFIG reserved bits 2, 5:4 and 11. */
  FRED_CONFIG_RESERVED = 0x834,
}

/**
 * IA32_EFER bits an Intel 64 processor implements: SCE (0), LME (8), LMA (10), NXE (11); the
 * others are reserved (Vol. 3A §2.2.1 "Extended Feature Enable Register").
 */
/**
 * IA32_PERF_GLOBAL_CTRL bits that exist (impl/ choice; CPUID leaf 0AH is in no profile): enables
 * of up to 8 general-purpose counters (bits 7:0) and 3 fixed-function counters (bits 34:32).
 */

/** `lo/hi` sets every bit of FIXED0 and none outside FIXED1. */
function fixedOk(lo: number, hi: number, f0lo: number, f0hi: number, f1lo: number, f1hi: number): boolean {
  return (lo & f0lo) === f0lo && (hi & f0hi) === f0hi && (lo & ~f1lo) === 0 && (hi & ~f1hi) === 0;
}

/** True when every check of the group `host-control-registers` passes. */
export function hostControlRegistersOk(f: EntryFacts, v: Int32Array, base: number): boolean {
  const w = f.words;
  const cr0 = (v[base + w.HOST_CR0] as number);
  const cr4 = (v[base + w.HOST_CR4] as number);
  if (!fixedOk(cr0, (v[base + w.HOST_CR0 + 1] as number), f.cr0Fixed0Lo, f.cr0Fixed0Hi, f.cr0Fixed1Lo, f.cr0Fixed1Hi)) return false;
  if (!fixedOk(cr4, (v[base + w.HOST_CR4 + 1] as number), f.cr4Fixed0Lo, f.cr4Fixed0Hi, f.cr4Fixed1Lo, f.cr4Fixed1Hi)) return false;
  if (on(cr4, K.CR4_CET) && !on(cr0, K.CR0_WP)) return false;
  if (((v[base + w.HOST_CR3 + 1] as number) & f.physicalHiBad) !== 0) return false;
  if (!canonical(v, base, w.HOST_IA32_SYSENTER_ESP) || !canonical(v, base, w.HOST_IA32_SYSENTER_EIP)) return false;
  const exit = (v[base + w.PRIMARY_VM_EXIT_CONTROLS] as number);
  const host64 = on(exit, K.EXIT_HOST_ADDRESS_SPACE_SIZE);
  if (
    on(exit, K.EXIT_LOAD_IA32_PERF_GLOBAL_CTRL) &&
    ((low(v, base, w.HOST_IA32_PERF_GLOBAL_CTRL) & ~K.PERF_GLOBAL_CTRL_LO) !== 0 ||
      (high(v, base, w.HOST_IA32_PERF_GLOBAL_CTRL) & ~K.PERF_GLOBAL_CTRL_HI) !== 0)
  ) {
    return false;
  }
  if (on(exit, K.EXIT_LOAD_IA32_PAT) && !(patHalfOk(low(v, base, w.HOST_IA32_PAT)) && patHalfOk(high(v, base, w.HOST_IA32_PAT)))) {
    return false;
  }
  if (on(exit, K.EXIT_LOAD_IA32_EFER)) {
    const efer = low(v, base, w.HOST_IA32_EFER);
    if ((efer & ~K.EFER_SUPPORTED) !== 0 || high(v, base, w.HOST_IA32_EFER) !== 0) return false;
    if (on(efer, K.EFER_LMA) !== host64 || on(efer, K.EFER_LME) !== host64) return false;
  }
  if (on(exit, K.EXIT_LOAD_CET_STATE) && !hostCetOk(v, base, f, host64)) return false;
  if (on(exit, K.EXIT_LOAD_PKRS) && high(v, base, w.HOST_IA32_PKRS) !== 0) return false;
  if (
    on(exit, K.EXIT_ACTIVATE_SECONDARY_CONTROLS) &&
    on(low(v, base, w.SECONDARY_VM_EXIT_CONTROLS), K.SECONDARY_EXIT_LOAD_FRED) &&
    !hostFredOk(v, base, f)
  ) {
    return false;
  }
  return true;
}

/** The host CET state ("load CET state" = 1): IA32_S_CET, SSP, IA32_INTERRUPT_SSP_TABLE_ADDR. */
function hostCetOk(v: Int32Array, base: number, f: EntryFacts, host64: boolean): boolean {
  const w = f.words;
  const sCetHi = high(v, base, w.HOST_IA32_S_CET);
  if (notCanonical(sCetHi) || (!host64 && sCetHi !== 0)) return false;
  const sCet = low(v, base, w.HOST_IA32_S_CET);
  if ((sCet & K.S_CET_RESERVED) !== 0 || (sCet & K.S_CET_SUPPRESS_AND_TRACKER) === K.S_CET_SUPPRESS_AND_TRACKER) return false;
  const sspHi = high(v, base, w.HOST_SSP);
  if (notCanonical(sspHi) || (!host64 && sspHi !== 0)) return false;
  if ((low(v, base, w.HOST_SSP) & 3) !== 0) return false;
  return canonical(v, base, w.HOST_IA32_INTERRUPT_SSP_TABLE_ADDR);
}

/** The host FRED state ("load FRED" = 1): IA32_FRED_CONFIG, RSP1-3 (64-byte aligned), SSP1-3 (8-byte). */
function hostFredOk(v: Int32Array, base: number, f: EntryFacts): boolean {
  const w = f.words;
  if ((low(v, base, w.HOST_IA32_FRED_CONFIG) & K.FRED_CONFIG_RESERVED) !== 0) return false;
  return (
    stackOk(v, base, w.HOST_IA32_FRED_RSP1, 0x3f) &&
    stackOk(v, base, w.HOST_IA32_FRED_RSP2, 0x3f) &&
    stackOk(v, base, w.HOST_IA32_FRED_RSP3, 0x3f) &&
    stackOk(v, base, w.HOST_IA32_FRED_SSP1, 7) &&
    stackOk(v, base, w.HOST_IA32_FRED_SSP2, 7) &&
    stackOk(v, base, w.HOST_IA32_FRED_SSP3, 7)
  );
}

/** True when every check of the group `host-segment-registers` passes. */
export function hostSegmentRegistersOk(f: EntryFacts, v: Int32Array, base: number): boolean {
  const w = f.words;
  const cs = (v[base + w.HOST_CS_SELECTOR] as number) & 0xffff;
  const ss = (v[base + w.HOST_SS_SELECTOR] as number) & 0xffff;
  const tr = (v[base + w.HOST_TR_SELECTOR] as number) & 0xffff;
  const others =
    (v[base + w.HOST_DS_SELECTOR] as number) | (v[base + w.HOST_ES_SELECTOR] as number) | (v[base + w.HOST_FS_SELECTOR] as number) | (v[base + w.HOST_GS_SELECTOR] as number);
  if (((cs | ss | tr | others) & K.SELECTOR_RPL_TI) !== 0) return false;
  if (cs === 0 || tr === 0) return false;
  if (ss === 0 && !on((v[base + w.PRIMARY_VM_EXIT_CONTROLS] as number), K.EXIT_HOST_ADDRESS_SPACE_SIZE)) return false;
  return (
    canonical(v, base, w.HOST_FS_BASE) &&
    canonical(v, base, w.HOST_GS_BASE) &&
    canonical(v, base, w.HOST_GDTR_BASE) &&
    canonical(v, base, w.HOST_IDTR_BASE) &&
    canonical(v, base, w.HOST_TR_BASE)
  );
}

/**
 * True when every check of the group `address-space-size` passes; `lma` is the processor's
 * IA32_EFER.LMA at VM entry (0 or 1).
 */
export function addressSpaceSizeOk(f: EntryFacts, v: Int32Array, base: number, lma: number): boolean {
  const w = f.words;
  const host64 = on((v[base + w.PRIMARY_VM_EXIT_CONTROLS] as number), K.EXIT_HOST_ADDRESS_SPACE_SIZE);
  const ia32eGuest = on((v[base + w.VM_ENTRY_CONTROLS] as number), K.ENTRY_IA32E_MODE_GUEST);
  if (lma === 0 && (ia32eGuest || host64)) return false;
  if (lma === 1 && !host64) return false;
  const cr4 = (v[base + w.HOST_CR4] as number);
  if (!host64) return !ia32eGuest && !on(cr4, K.CR4_PCIDE) && (v[base + w.HOST_RIP + 1] as number) === 0;
  return on(cr4, K.CR4_PAE) && canonical(v, base, w.HOST_RIP);
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/host-state.ts', [
  [K.ENTRY_IA32E_MODE_GUEST, ENTRY.IA32E_MODE_GUEST],
  [K.EXIT_ACTIVATE_SECONDARY_CONTROLS, EXIT.ACTIVATE_SECONDARY_CONTROLS],
  [K.EXIT_HOST_ADDRESS_SPACE_SIZE, EXIT.HOST_ADDRESS_SPACE_SIZE],
  [K.EXIT_LOAD_CET_STATE, EXIT.LOAD_CET_STATE],
  [K.EXIT_LOAD_IA32_EFER, EXIT.LOAD_IA32_EFER],
  [K.EXIT_LOAD_IA32_PAT, EXIT.LOAD_IA32_PAT],
  [K.EXIT_LOAD_IA32_PERF_GLOBAL_CTRL, EXIT.LOAD_IA32_PERF_GLOBAL_CTRL],
  [K.EXIT_LOAD_PKRS, EXIT.LOAD_PKRS],
  [K.EFER_SUPPORTED, (1 << 0) | (1 << K.EFER_LME) | (1 << K.EFER_LMA) | (1 << 11)],
]);
