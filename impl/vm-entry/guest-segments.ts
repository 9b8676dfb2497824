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
import { unrestrictedGuest } from './guest-registers.ts';

// Local copies of imported constants and helpers: a speed trick (impl/README.md, "Local
// copies"). Row offsets from impl/cpu-row.ts, checked by test/impl/local-copies.test.ts.
const SEG_ACCESS_RIGHTS = 3;
const SEG_BASE = 1;
const SEG_LIMIT = 2;
const SEG_SELECTOR = 0;
const SEGMENT_ES = 0;
const SEGMENT_CS = 1;
const SEGMENT_SS = 2;
const SEGMENT_DS = 3;
const SEGMENT_GS = 5;
const ENTRY_IA32E_MODE_GUEST = ENTRY.IA32E_MODE_GUEST;
const CR0_PE = CR0.PE;
const CR4_FRED = CR4.FRED;
const RFLAGS_VM = RFLAGS.VM;

/** Bits 63:32 of a field; 0 when the profile lacks it. */
function high(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word + 1] as number);
}

/** Bits 31:0 of a field; 0 when the profile lacks it (`word` -1). */
function low(v: Int32Array, base: number, word: number): number {
  return word < 0 ? 0 : (v[base + word] as number);
}

/** Bits 63:47 of (hi:lo) are not all equal (48-bit linear addresses). */
function notCanonical(hi: number): boolean {
  const top = hi >> 15;
  return top !== 0 && top !== -1;
}

/** Bit `position` of `value` is 1. */
function on(value: number, position: number): boolean {
  return ((value >>> position) & 1) === 1;
}

// The access-rights format (§25.4.1 "Guest Register State").
const AR_S = 4;
const AR_P = 7;
const AR_RESERVED_11_8 = 0xf00;
const AR_L = 13;
const AR_DB = 14;
const AR_G = 15;
const AR_UNUSABLE = 16;
const AR_RESERVED_31_17 = 0xfffe_0000 | 0;
/** Access rights of every segment register of a virtual-8086 guest: type 3, S, DPL 3, P. */
const AR_VIRTUAL_8086 = 0xf3;
const SELECTOR_TI = 2;
const CR4_HI_FRED = 1 << (CR4_FRED - 32);
const TYPE_CODE_NONCONFORMING_ACCESSED = 9;
const TYPE_TSS_16_BUSY = 3;
const TYPE_TSS_BUSY = 11;
const TYPE_LDT = 2;

const dpl = (ar: number): number => (ar >>> 5) & 3;

/** Granularity against the limit: limit[11:0] not all 1 needs G = 0, limit[31:20] not all 0 needs G = 1. */
function granularityOk(limit: number, ar: number): boolean {
  const g = on(ar, AR_G);
  if ((limit & 0xfff) !== 0xfff && g) return false;
  return (limit & 0xfff0_0000) === 0 || g;
}

/** True when every check of the group `guest-segment-registers` passes. */
export function guestSegmentRegistersOk(e: EntryFacts, g: GuestFacts, v: Int32Array, base: number): boolean {
  const w = g.words;
  const seg = g.segments;
  const unrestricted = unrestrictedGuest(e, v, base);
  const ia32e = on(low(v, base, e.words.VM_ENTRY_CONTROLS), ENTRY_IA32E_MODE_GUEST);
  const v8086 = on(low(v, base, w.GUEST_RFLAGS), RFLAGS_VM);
  const csSel = low(v, base, w.GUEST_CS_SELECTOR) & 0xffff;
  const ssSel = low(v, base, w.GUEST_SS_SELECTOR) & 0xffff;
  const csAr = low(v, base, w.GUEST_CS_ACCESS_RIGHTS);
  const ssAr = low(v, base, w.GUEST_SS_ACCESS_RIGHTS);
  const trAr = low(v, base, w.GUEST_TR_ACCESS_RIGHTS);
  const ldtrAr = low(v, base, w.GUEST_LDTR_ACCESS_RIGHTS);
  const ldtrUsable = !on(ldtrAr, AR_UNUSABLE);

  // Selectors.
  if (on(low(v, base, w.GUEST_TR_SELECTOR), SELECTOR_TI)) return false;
  if (ldtrUsable && on(low(v, base, w.GUEST_LDTR_SELECTOR), SELECTOR_TI)) return false;
  if (!v8086 && !unrestricted && (ssSel & 3) !== (csSel & 3)) return false;

  // Bases.
  if (notCanonical(high(v, base, w.GUEST_TR_BASE)) || notCanonical(high(v, base, w.GUEST_FS_BASE))) return false;
  if (notCanonical(high(v, base, w.GUEST_GS_BASE))) return false;
  if (ldtrUsable && notCanonical(high(v, base, w.GUEST_LDTR_BASE))) return false;
  if (high(v, base, w.GUEST_CS_BASE) !== 0) return false;
  for (let r: number = SEGMENT_ES; r <= SEGMENT_DS; r++) {
    const at = r * 4;
    if (r !== SEGMENT_CS && !on(low(v, base, seg[at + SEG_ACCESS_RIGHTS] as number), AR_UNUSABLE) && high(v, base, seg[at + SEG_BASE] as number) !== 0) {
      return false;
    }
  }

  if (v8086) {
    // Virtual-8086 guest: base = selector << 4, limit FFFFH, access rights F3H, for CS, SS, DS, ES, FS, GS.
    for (let r: number = SEGMENT_ES; r <= SEGMENT_GS; r++) {
      const at = r * 4;
      const selector = low(v, base, seg[at + SEG_SELECTOR] as number) & 0xffff;
      const baseWord = seg[at + SEG_BASE] as number;
      if (low(v, base, baseWord) !== selector << 4 || high(v, base, baseWord) !== 0) return false;
      if (low(v, base, seg[at + SEG_LIMIT] as number) !== 0xffff) return false;
      if (low(v, base, seg[at + SEG_ACCESS_RIGHTS] as number) !== AR_VIRTUAL_8086) return false;
    }
  } else {
    if (!dataSegmentsOk(e, g, v, base, unrestricted, ia32e, csAr, ssAr, ssSel)) return false;
  }

  // TR: always checked.
  const trType = trAr & 0xf;
  if (ia32e ? trType !== TYPE_TSS_BUSY : trType !== TYPE_TSS_BUSY && trType !== TYPE_TSS_16_BUSY) return false;
  if (!systemSegmentOk(trAr, low(v, base, w.GUEST_TR_LIMIT)) || on(trAr, AR_UNUSABLE)) return false;
  // LDTR: only when usable.
  if (ldtrUsable && ((ldtrAr & 0xf) !== TYPE_LDT || !systemSegmentOk(ldtrAr, low(v, base, w.GUEST_LDTR_LIMIT)))) return false;

  // FRED guests (CR4.FRED = 1 with "IA-32e mode guest" = 1).
  if (ia32e && (high(v, base, w.GUEST_CR4) & CR4_HI_FRED) !== 0) {
    const ssDpl = dpl(ssAr);
    if (ssDpl !== 0 && ssDpl !== 3) return false;
    if (ssDpl === 0 && !on(csAr, AR_L)) return false;
  }
  return true;
}

/** S = 0, P = 1, reserved 11:8 and 31:17 clear, granularity consistent (TR and a usable LDTR). */
function systemSegmentOk(ar: number, limit: number): boolean {
  return !on(ar, AR_S) && on(ar, AR_P) && (ar & AR_RESERVED_11_8) === 0 && (ar & AR_RESERVED_31_17) === 0 && granularityOk(limit, ar);
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
    if (csType < TYPE_CODE_NONCONFORMING_ACCESSED || (csType & 1) === 0) return false;
  }
  const ssUsable = !on(ssAr, AR_UNUSABLE);
  if (ssUsable && (ssAr & 0xf) !== 3 && (ssAr & 0xf) !== 7) return false;
  // DPLs of CS and SS.
  if (csType === 3 && dpl(csAr) !== 0) return false;
  if ((csType === 9 || csType === 11) && dpl(csAr) !== dpl(ssAr)) return false;
  if ((csType === 13 || csType === 15) && dpl(csAr) > dpl(ssAr)) return false;
  if (!unrestricted && dpl(ssAr) !== (ssSel & 3)) return false;
  if ((csType === 3 || !on(low(v, base, g.words.GUEST_CR0), CR0_PE)) && dpl(ssAr) !== 0) return false;
  // CS.D/B with CS.L in an IA-32e guest.
  if (ia32e && on(csAr, AR_L) && on(csAr, AR_DB)) return false;
  // Per register: CS always, the others when usable.
  for (let r: number = SEGMENT_ES; r <= SEGMENT_GS; r++) {
    const at = r * 4;
    const ar = low(v, base, seg[at + SEG_ACCESS_RIGHTS] as number);
    if (r !== SEGMENT_CS && on(ar, AR_UNUSABLE)) continue;
    if (r !== SEGMENT_CS && r !== SEGMENT_SS) {
      const type = ar & 0xf;
      if ((type & 1) === 0) return false;
      if ((type & 8) !== 0 && (type & 2) === 0) return false;
      const rpl = low(v, base, seg[at + SEG_SELECTOR] as number) & 3;
      if (!unrestricted && type <= 11 && dpl(ar) < rpl) return false;
    }
    if (!on(ar, AR_S) || !on(ar, AR_P)) return false;
    if ((ar & AR_RESERVED_11_8) !== 0 || (ar & AR_RESERVED_31_17) !== 0) return false;
    if (!granularityOk(low(v, base, seg[at + SEG_LIMIT] as number), ar)) return false;
  }
  return true;
}
