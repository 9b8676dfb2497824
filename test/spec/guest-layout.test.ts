import { describe, expect, it } from 'vitest';
import {
  eptEntry,
  gate32,
  gate64,
  GUEST_LAYOUT,
  handlerAddress,
  ivtEntry,
  pagingEntry,
  REAL_MODE_HANDLER_SEGMENT,
  segmentDescriptor,
  systemDescriptor64,
} from '../../spec/guest-layout.ts';

describe('guest layout encoders, against the SDM formats', () => {
  it('encodes flat descriptors as §3.4.5 lays them out (limit 15:0, base 39:16, access 47:40, limit 51:48, flags 55:52, base 63:56)', () => {
    // Flat 4-GByte segments, G = 1: limit field FFFFFH; type, S, DPL 0, P in byte 5; L/D-B/G in the high nibble of byte 6.
    expect(segmentDescriptor(0n, 0xffff_ffffn, 0xa09bn)).toBe(0x00af_9b00_0000_ffffn); // 64-bit code, L = 1, D = 0
    expect(segmentDescriptor(0n, 0xffff_ffffn, 0xc09bn)).toBe(0x00cf_9b00_0000_ffffn); // 32-bit code, D = 1
    expect(segmentDescriptor(0n, 0xffff_ffffn, 0xc0f3n)).toBe(0x00cf_f300_0000_ffffn); // data, DPL 3
    // Byte-granular: a 104-byte busy TSS at 12345678H.
    expect(segmentDescriptor(0x1234_5678n, 0x67n, 0x8bn)).toBe(0x1200_8b34_5678_0067n);
  });

  it('puts base 63:32 of an IA-32e system descriptor in its third doubleword (§8.2.3)', () => {
    expect(systemDescriptor64(0x1_2345_6789n, 0x67n, 0x8bn)).toEqual([0x2300_8b45_6789_0067n, 0x1n]);
  });

  it('encodes gates as §6.11 and §6.14.1 lay them out (offset 15:0, selector, IST, type, DPL, P, offset 31:16, offset 63:32)', () => {
    const gate = { offset: 0xffff_8000_1234_5678n, selector: 0x08n, kind: 'interrupt' as const, dpl: 3, present: true, ist: 1 };
    expect(gate64(gate)).toEqual([0x1234_ee01_0008_5678n, 0xffff_8000n]);
    expect(gate64({ ...gate, kind: 'trap', dpl: 0, present: false, ist: 0 })).toEqual([0x1234_0f00_0008_5678n, 0xffff_8000n]);
    // A 32-bit gate has no IST field: bits 39:32 stay zero.
    expect(gate32({ offset: 0x1234_5678n, selector: 0x10n, kind: 'trap', dpl: 0, present: true })).toBe(0x1234_8f00_0010_5678n);
  });

  it('encodes a real-mode vector-table entry as offset then segment (§21.1.4)', () => {
    expect(ivtEntry(0xf000n, 0xe2c3n)).toBe(0xf000_e2c3n);
    expect(REAL_MODE_HANDLER_SEGMENT * 16n + (handlerAddress(13) - GUEST_LAYOUT.handlers)).toBe(handlerAddress(13));
  });

  it('sets P, R/W, U/S (and PS for large pages) in paging entries, RWX (and WB, bit 7) in EPT entries', () => {
    expect(pagingEntry(0x9000n)).toBe(0x9007n);
    expect(pagingEntry(0x40_0000n, true)).toBe(0x40_0087n);
    expect(eptEntry(0x11000n)).toBe(0x11007n);
    expect(eptEntry(0n, true)).toBe(0xb7n); // R W X, memory type 6 (WB) in bits 5:3, bit 7
  });

  it('keeps the layout page-aligned where the SDM requires it and the stacks 16-byte aligned', () => {
    for (const table of [GUEST_LAYOUT.guestCr3, GUEST_LAYOUT.pdpt, GUEST_LAYOUT.pageTableLow, GUEST_LAYOUT.pageTableCode, GUEST_LAYOUT.eptPml4, GUEST_LAYOUT.eptPdpt, GUEST_LAYOUT.eptPd]) {
      expect(table % 0x1000n).toBe(0n);
    }
    for (const top of [GUEST_LAYOUT.istTop, GUEST_LAYOUT.ring0Top, GUEST_LAYOUT.guestRsp]) expect(top % 16n).toBe(0n);
    expect(GUEST_LAYOUT.guestRsp < 0x1_0000n).toBe(true);
  });
});
