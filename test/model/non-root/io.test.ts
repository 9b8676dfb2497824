/**
 * IN, OUT, INS and OUTS, from SDM Vol. 3C, December 2023, §26.1.3 "Instructions That Cause VM
 * Exits Conditionally" ("unconditional I/O exiting", ignored with "use I/O bitmaps"; bitmap A for
 * ports 0000H-7FFFH, B for 8000H-FFFFH; an access exits if any port it touches has its bit set, or
 * if it wraps past FFFFH), §25.6.4 "I/O-Bitmap Addresses", Appendix C (reason 30), §26.1.1 (the
 * TSS I/O permission check comes first: not modelled at CPL > 0).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { IoOp } from '../../../spec/guest-operations.ts';
import { step } from '../../../model/index.ts';
import { exit, expectNotModelled, expectOnly, fresh, ok, patchCpu, store } from '../helpers.ts';
import { bit, guestControls, guestWith, PROTECTED_32, RIP, ripOf } from './guest-setup.ts';

const BITMAP_A = 0x50000n;
const BITMAP_B = 0x51000n;
const out = (port: number, size: 1 | 2 | 4 = 1, more: Partial<IoOp> = {}): IoOp => ({ kind: 'io', cpu: 0, direction: 'out', port, size, ...more });
const USE_BITMAPS = bit(PRIMARY_CONTROL.USE_IO_BITMAPS);
const UNCONDITIONAL = bit(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING);
const withBitmaps = (primary = USE_BITMAPS) =>
  guestWith([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, primary], [FIELD.IO_BITMAP_A_ADDRESS, BITMAP_A], [FIELD.IO_BITMAP_B_ADDRESS, BITMAP_B]]);

describe('I/O instructions', () => {
  it('are not modelled at CPL 3 (IOPL and the TSS bitmap are not tracked), even with unconditional I/O exiting', () => {
    expectNotModelled(guestControls(UNCONDITIONAL, undefined, { cpl: 3 }), out(0x80), 'io.permission-not-modelled');
  });
  it('exit with "unconditional I/O exiting" (reason 30)', () => {
    expectOnly(guestControls(UNCONDITIONAL), out(0x80, 1, { immediate: true }), exit(EXIT_REASON.IO_INSTRUCTION), 'io.unconditional-exit');
  });
  it('OUT 80H, AL exits when bit 80H of bitmap A is set (byte 10H, bit 0)', () => {
    expectOnly(store(withBitmaps(), BITMAP_A + 0x10n, 1), out(0x80, 1, { immediate: true }), exit(EXIT_REASON.IO_INSTRUCTION), 'io.bitmap-exit');
  });
  it('port 8001H uses bitmap B (byte 0, bit 1); a 4-byte access at 7FFEH touches 8000H in B', () => {
    const state = store(withBitmaps(), BITMAP_B, 0x3);
    expectOnly(state, out(0x8001), exit(EXIT_REASON.IO_INSTRUCTION), 'io.bitmap-exit');
    expectOnly(state, out(0x7ffe, 4), exit(EXIT_REASON.IO_INSTRUCTION), 'io.bitmap-exit');
    expectOnly(state, out(0x7ffc, 2), ok(), 'io.ok');
  });
  it('an access that wraps past FFFFH exits', () => {
    expectOnly(withBitmaps(), out(0xffff, 2), exit(EXIT_REASON.IO_INSTRUCTION), 'io.wrap-exit');
  });
  it('with "use I/O bitmaps", "unconditional I/O exiting" is ignored; clear bits let OUT complete (RIP past 1 byte)', () => {
    const after = expectOnly(withBitmaps(USE_BITMAPS | UNCONDITIONAL), out(0x3f8), ok(), 'io.ok');
    expect(ripOf(after)).toBe(RIP + 1n);
  });
  it('OUTS completes; INS writes memory the model cannot place: not modelled', () => {
    expectOnly(guestControls(0n), out(0x3f8, 1, { string: true, rep: true, address: '0x9000' }), ok(), 'io.ok');
    expectNotModelled(guestControls(0n), { kind: 'io', cpu: 0, direction: 'in', port: 0x60, size: 1, string: true, address: '0x9000' }, 'io.ins-not-modelled');
  });
  it('complete outside VMX at CPL 0 and in real-address mode', () => {
    expectOnly(fresh(), out(0x80), ok(), 'io.ok');
    expectOnly(patchCpu(fresh(), 0, { ...PROTECTED_32, cr0: 0x30n, cpl: 3 }), out(0x80), ok(), 'io.ok');
  });
  it('rejects malformed operations with a message naming the operand', () => {
    expect(() => step(fresh(), out(0x10000))).toThrow(/port must be/);
    expect(() => step(fresh(), out(0x100, 1, { immediate: true }))).toThrow(/immediate/);
    expect(() => step(fresh(), out(0x80, 1, { string: true }))).toThrow(/address/);
    expect(() => step(fresh(), out(0x80, 3 as 1))).toThrow(/size/);
  });
});
