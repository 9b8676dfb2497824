/**
 * Guest-state checks on the segment registers: SDM Vol. 3C, December 2023, §27.3.1.2 "Checks on
 * Guest Segment Registers", the catalogue group `guest-segment-registers` (spec/entry-checks/).
 * Every failure is exit reason 33 with qualification 0.
 *
 * Trick: the catalogue states most rules once per register (104 checks); here each register's
 * rules are one pass over its access-rights word, registers indexed through the typed array
 * GuestFacts.segments, so the whole group is a few dozen int32 tests and allocates nothing.
 * Canonical means canonical for 48-bit linear addresses (impl/README.md).
 */
import { ENTRY_CONTROL as ENTRY } from '../../spec/control-bits.ts';
import { CR0, CR4, RFLAGS } from '../../spec/guest-state-bits.ts';
import type { EntryFacts } from './facts.ts';
import { type GuestFacts } from './guest-facts.ts';
import { assertLiterals } from '../literals.ts';
import { unrestrictedGuest } from './guest-registers.ts';
import { high, low, notCanonical, on } from './vmcs-words.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  SEG_ACCESS_RIGHTS = 3,
  SEG_BASE = 1,
  SEG_LIMIT = 2,
  SEG_SELECTOR = 0,
  SEGMENT_ES = 0,
  SEGMENT_CS = 1,
  SEGMENT_SS = 2,
  SEGMENT_DS = 3,
  SEGMENT_GS = 5,
  ENTRY_IA32E_MODE_GUEST = 9,
  CR0_PE = 0,
  CR4_FRED = 32,
  RFLAGS_VM = 17,
  AR_S = 4,
  AR_P = 7,
  AR_RESERVED_11_8 = 0xf00,
  AR_L = 13,
  AR_DB = 14,
  AR_G = 15,
  AR_UNUSABLE = 16,
  AR_RESERVED_31_17 = -0x20000,
  /** Access rights of every segment register of a virtual-8086 guest: type 3, S, DPL 3, P. */
  AR_VIRTUAL_8086 = 243,
  SELECTOR_TI = 2,
  CR4_HI_FRED = 1,
  TYPE_CODE_NONCONFORMING_ACCESSED = 9,
  TYPE_TSS_16_BUSY = 3,
  TYPE_TSS_BUSY = 11,
  TYPE_LDT = 2,
}

// The access-rights format (§25.4.1 "Guest Register State").

const dpl = (ar: number): number => (ar >>> 5) & 3;

/** Granularity against the limit: limit[11:0] not all 1 needs G = 0, limit[31:20] not all 0 needs G = 1. */
function granularityOk(limit: number, ar: number): boolean {
  const g = on(ar, K.AR_G);
  if ((limit & 0xfff) !== 0xfff && g) return false;
  return (limit & 0xfff0_0000) === 0 || g;
}

/** True when every check of the group `guest-segment-registers` passes. */
export function guestSegmentRegistersOk(e: EntryFacts, g: GuestFacts, v: Int32Array, base: number): boolean {
  const w = g.words;
  const seg = g.segments;
  const unrestricted = unrestrictedGuest(e, v, base);
  const ia32e = on((v[base + e.words.VM_ENTRY_CONTROLS] as number), K.ENTRY_IA32E_MODE_GUEST);
  const v8086 = on((v[base + w.GUEST_RFLAGS] as number), K.RFLAGS_VM);
  const csSel = (v[base + w.GUEST_CS_SELECTOR] as number) & 0xffff;
  const ssSel = (v[base + w.GUEST_SS_SELECTOR] as number) & 0xffff;
  const csAr = (v[base + w.GUEST_CS_ACCESS_RIGHTS] as number);
  const ssAr = (v[base + w.GUEST_SS_ACCESS_RIGHTS] as number);
  const trAr = (v[base + w.GUEST_TR_ACCESS_RIGHTS] as number);
  const ldtrAr = (v[base + w.GUEST_LDTR_ACCESS_RIGHTS] as number);
  const ldtrUsable = !on(ldtrAr, K.AR_UNUSABLE);

  // Selectors.
  if (on((v[base + w.GUEST_TR_SELECTOR] as number), K.SELECTOR_TI)) return false;
  if (ldtrUsable && on((v[base + w.GUEST_LDTR_SELECTOR] as number), K.SELECTOR_TI)) return false;
  if (!v8086 && !unrestricted && (ssSel & 3) !== (csSel & 3)) return false;

  // Bases.
  if (notCanonical((v[base + w.GUEST_TR_BASE + 1] as number)) || notCanonical((v[base + w.GUEST_FS_BASE + 1] as number))) return false;
  if (notCanonical((v[base + w.GUEST_GS_BASE + 1] as number))) return false;
  if (ldtrUsable && notCanonical((v[base + w.GUEST_LDTR_BASE + 1] as number))) return false;
  if ((v[base + w.GUEST_CS_BASE + 1] as number) !== 0) return false;
  for (let r: number = K.SEGMENT_ES; r <= K.SEGMENT_DS; r++) {
    const at = r * 4;
    if (r !== K.SEGMENT_CS && !on((v[base + (seg[at + K.SEG_ACCESS_RIGHTS] as number)] as number), K.AR_UNUSABLE) && (v[base + (seg[at + K.SEG_BASE] as number) + 1] as number) !== 0) {
      return false;
    }
  }

  if (v8086) {
    // Virtual-8086 guest: base = selector << 4, limit FFFFH, access rights F3H, for CS, SS, DS, ES, FS, GS.
    for (let r: number = K.SEGMENT_ES; r <= K.SEGMENT_GS; r++) {
      const at = r * 4;
      const selector = (v[base + (seg[at + K.SEG_SELECTOR] as number)] as number) & 0xffff;
      const baseWord = seg[at + K.SEG_BASE] as number;
      if (low(v, base, baseWord) !== selector << 4 || high(v, base, baseWord) !== 0) return false;
      if ((v[base + (seg[at + K.SEG_LIMIT] as number)] as number) !== 0xffff) return false;
      if ((v[base + (seg[at + K.SEG_ACCESS_RIGHTS] as number)] as number) !== K.AR_VIRTUAL_8086) return false;
    }
  } else {
    if (!dataSegmentsOk(e, g, v, base, unrestricted, ia32e, csAr, ssAr, ssSel)) return false;
  }

  // TR: always checked.
  const trType = trAr & 0xf;
  if (ia32e ? trType !== K.TYPE_TSS_BUSY : trType !== K.TYPE_TSS_BUSY && trType !== K.TYPE_TSS_16_BUSY) return false;
  if (!systemSegmentOk(trAr, (v[base + w.GUEST_TR_LIMIT] as number)) || on(trAr, K.AR_UNUSABLE)) return false;
  // LDTR: only when usable.
  if (ldtrUsable && ((ldtrAr & 0xf) !== K.TYPE_LDT || !systemSegmentOk(ldtrAr, (v[base + w.GUEST_LDTR_LIMIT] as number)))) return false;

  // FRED guests (CR4.FRED = 1 with "IA-32e mode guest" = 1).
  if (ia32e && ((v[base + w.GUEST_CR4 + 1] as number) & K.CR4_HI_FRED) !== 0) {
    const ssDpl = dpl(ssAr);
    if (ssDpl !== 0 && ssDpl !== 3) return false;
    if (ssDpl === 0 && !on(csAr, K.AR_L)) return false;
  }
  return true;
}

/** S = 0, P = 1, reserved 11:8 and 31:17 clear, granularity consistent (TR and a usable LDTR). */
function systemSegmentOk(ar: number, limit: number): boolean {
  return !on(ar, K.AR_S) && on(ar, K.AR_P) && (ar & K.AR_RESERVED_11_8) === 0 && (ar & K.AR_RESERVED_31_17) === 0 && granularityOk(limit, ar);
}

/** The access-rights rules for CS, SS, DS, ES, FS and GS of a guest that is not virtual-8086. */
function dataSegmentsOk(
  e: EntryFacts,
  g: GuestFacts,
  v: Int32Array,
  base: number,
  unrestricted: boolean,
  ia32e: boolean,
  csAr: number,
  ssAr: number,
  ssSel: number,
): boolean {
  const seg = g.segments;
  // Types.
  const csType = csAr & 0xf;
  if (csType !== 3 || !unrestricted) {
    if (csType < K.TYPE_CODE_NONCONFORMING_ACCESSED || (csType & 1) === 0) return false;
  }
  const ssUsable = !on(ssAr, K.AR_UNUSABLE);
  if (ssUsable && (ssAr & 0xf) !== 3 && (ssAr & 0xf) !== 7) return false;
  // DPLs of CS and SS.
  if (csType === 3 && dpl(csAr) !== 0) return false;
  if ((csType === 9 || csType === 11) && dpl(csAr) !== dpl(ssAr)) return false;
  if ((csType === 13 || csType === 15) && dpl(csAr) > dpl(ssAr)) return false;
  if (!unrestricted && dpl(ssAr) !== (ssSel & 3)) return false;
  if ((csType === 3 || !on((v[base + g.words.GUEST_CR0] as number), K.CR0_PE)) && dpl(ssAr) !== 0) return false;
  // CS.D/B with CS.L in an IA-32e guest.
  if (ia32e && on(csAr, K.AR_L) && on(csAr, K.AR_DB)) return false;
  // Per register: CS always, the others when usable.
  for (let r: number = K.SEGMENT_ES; r <= K.SEGMENT_GS; r++) {
    const at = r * 4;
    const ar = (v[base + (seg[at + K.SEG_ACCESS_RIGHTS] as number)] as number);
    if (r !== K.SEGMENT_CS && on(ar, K.AR_UNUSABLE)) continue;
    if (r !== K.SEGMENT_CS && r !== K.SEGMENT_SS) {
      const type = ar & 0xf;
      if ((type & 1) === 0) return false;
      if ((type & 8) !== 0 && (type & 2) === 0) return false;
      const rpl = (v[base + (seg[at + K.SEG_SELECTOR] as number)] as number) & 3;
      if (!unrestricted && type <= 11 && dpl(ar) < rpl) return false;
    }
    if (!on(ar, K.AR_S) || !on(ar, K.AR_P)) return false;
    if ((ar & K.AR_RESERVED_11_8) !== 0 || (ar & K.AR_RESERVED_31_17) !== 0) return false;
    if (!granularityOk((v[base + (seg[at + K.SEG_LIMIT] as number)] as number), ar)) return false;
  }
  return true;
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/guest-segments.ts', [
  [K.ENTRY_IA32E_MODE_GUEST, ENTRY.IA32E_MODE_GUEST],
  [K.CR0_PE, CR0.PE],
  [K.CR4_FRED, CR4.FRED],
  [K.RFLAGS_VM, RFLAGS.VM],
  [K.CR4_HI_FRED, 1 << (K.CR4_FRED - 32)],
]);
