/**
 * VMREAD and VMWRITE in VMX non-root operation with VMCS shadowing. Expected outcomes from SDM
 * Vol. 3C, December 2023: §31.3 "VMREAD—Read Field from Virtual-Machine Control Structure" and
 * "VMWRITE—Write Field to Virtual-Machine Control Structure" (Operation sections: a VM exit when
 * "VMCS shadowing" is 0, the encoding sets a bit in 63:15 or its bitmap bit is 1; then #GP(0) at
 * CPL > 0; VMfailInvalid when the VMCS link pointer is not valid; VMfailValid(12) for an
 * unsupported field, VMfailValid(13) for a VM-exit information field without "VMWRITE to any
 * field"; otherwise the shadow VMCS named by the link pointer is accessed), §25.6.15 "VMCS
 * Shadowing Bitmap Addresses" (bit n of a bitmap for encoding bits 14:0 = n), §25.10 "VMCS Types:
 * Ordinary and Shadow", §31.2 "Conventions" (VMfailValid writes the VM-instruction error field of
 * the current VMCS, the ordinary one), and the guest RIP advancing by the instruction length
 * (3 bytes) when the instruction completes in the guest.
 */
import { describe, expect, it } from 'vitest';
import { SECONDARY_CONTROL as SECONDARY } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { vmcsShadowingBitmapPosition } from '../../../spec/exit-bitmaps.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import { createProfile } from '../../../spec/profile.ts';
import { failValid, FAIL_INVALID, GP, hex, SKYLAKE, variant } from '../fixtures.ts';
import type { Changes } from '../vm-entry-rig.ts';
import { PAGES } from '../vm-entry-vmcs.ts';
import { exit, exitInformation, guest, GUEST_RIP, type GuestSetting, hostRead, secondary, SIXTY_FOUR } from './vmx-rig.ts';

const SHADOW = 0x6000;
const REVISION = createProfile(SKYLAKE).revisionId;
const SHADOW_INDICATOR = 0x8000_0000;
const VMREAD_BITMAP = Number(PAGES.vmreadBitmap);
const VMWRITE_BITMAP = Number(PAGES.vmwriteBitmap);

/** What the shadow VMCS holds before the guest runs. */
const SHADOW_RIP = 0xabcdefn;
const SHADOW_DEBUGCTL = 0x1_2345_6789n;

const SHADOWING: Changes = { ...secondary(SECONDARY.VMCS_SHADOWING), VMCS_LINK_POINTER: BigInt(SHADOW) };

/** The 32-bit word of memory and the bit in it that set the bitmap bit at `bitmap` for `encoding` (spec/exit-bitmaps.ts: byte n / 8, bit n % 8). */
function bitmapWord(bitmap: number, encoding: number): [number, number] {
  const position = vmcsShadowingBitmapPosition(BigInt(encoding));
  if (position === undefined) throw new Error(`encoding ${hex(encoding)} has no bitmap bit`);
  return [bitmap + (position.byteOffset & ~3), 1 << (((position.byteOffset & 3) << 3) | position.bit)];
}

/** A guest with VMCS shadowing on, the shadow VMCS at 0x6000 holding SHADOW_RIP and SHADOW_DEBUGCTL; `changes` on top. */
function shadowed(changes: Changes = SIXTY_FOUR, extra: Partial<GuestSetting> = {}) {
  return guest({
    profile: extra.profile,
    changes: { ...SHADOWING, ...changes },
    memory: [[SHADOW, REVISION | SHADOW_INDICATOR], ...(extra.memory ?? [])],
    before: [
      { kind: 'vmptrld', cpu: 0, pointer: hex(SHADOW) },
      { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RIP), value: hex(SHADOW_RIP) },
      { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_IA32_DEBUGCTL), value: hex(SHADOW_DEBUGCTL) },
    ],
  });
}

const read = (encoding: number | bigint, form?: 'memory'): Operation => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding), ...(form ? { form } : {}) });
const write = (encoding: number, value: bigint, form?: 'memory'): Operation => ({ kind: 'vmwrite', cpu: 0, encoding: hex(encoding), value: hex(value), ...(form ? { form } : {}) });
const vmcall: Operation = { kind: 'vmcall', cpu: 0 };

describe('a guest VMREAD with VMCS shadowing', () => {
  it('reads the shadow VMCS when the VMREAD-bitmap bit is 0: VMsucceed with the value, guest RIP + 3', () => {
    const rig = shadowed();
    expect(rig.step(read(FIELD.GUEST_RIP))).toEqual({ kind: 'vmsucceed', value: hex(SHADOW_RIP), flags: 0 });
    expect(rig.step(read(FIELD.GUEST_IA32_DEBUGCTL))).toEqual({ kind: 'vmsucceed', value: hex(SHADOW_DEBUGCTL), flags: 0 });
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 6n);
  });

  it('exits (23) when the bitmap bit for encoding bits 14:0 is 1, and only for that encoding', () => {
    const rig = shadowed(SIXTY_FOUR, { memory: [bitmapWord(VMREAD_BITMAP, FIELD.GUEST_RIP)] });
    expect(rig.step(read(FIELD.GUEST_IA32_DEBUGCTL)).kind).toBe('vmsucceed');
    expect(rig.step(read(FIELD.GUEST_RIP))).toEqual(exit(EXIT_REASON.VMREAD));
    expect(exitInformation(rig)).toEqual({ reason: 23n, qualification: 0n, length: 3n, information: 0x1000_0510n });
    // The exiting VMREAD did not complete: guest RIP is that of the VMREAD (the first one's 3 bytes on).
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 3n);
  });

  it('the VMWRITE bitmap does not govern VMREAD', () => {
    const rig = shadowed(SIXTY_FOUR, { memory: [bitmapWord(VMWRITE_BITMAP, FIELD.GUEST_RIP)] });
    expect(rig.step(read(FIELD.GUEST_RIP)).kind).toBe('vmsucceed');
  });

  it('reads a 16-bit field, a 32-bit field and the high access type of a 64-bit field (encoding + 1: bits 63:32)', () => {
    const rig = guest({
      changes: { ...SHADOWING, ...SIXTY_FOUR },
      memory: [[SHADOW, REVISION | SHADOW_INDICATOR]],
      before: [
        { kind: 'vmptrld', cpu: 0, pointer: hex(SHADOW) },
        write(FIELD.GUEST_ES_SELECTOR, 0x1234n),
        write(FIELD.GUEST_ES_LIMIT, 0xf_ffffn),
        write(FIELD.GUEST_IA32_DEBUGCTL, SHADOW_DEBUGCTL),
      ],
    });
    expect(rig.step(read(FIELD.GUEST_ES_SELECTOR))).toEqual({ kind: 'vmsucceed', value: '0x1234', flags: 0 });
    expect(rig.step(read(FIELD.GUEST_ES_LIMIT))).toEqual({ kind: 'vmsucceed', value: '0xfffff', flags: 0 });
    expect(rig.step(read(FIELD.GUEST_IA32_DEBUGCTL + 1))).toEqual({ kind: 'vmsucceed', value: hex(SHADOW_DEBUGCTL >> 32n), flags: 0 });
  });

  it('exits for an encoding with a bit set in 63:15 (bit 15; bit 32 in 64-bit mode)', () => {
    expect(shadowed().step(read(FIELD.GUEST_RIP | 0x8000))).toEqual(exit(EXIT_REASON.VMREAD));
    expect(shadowed().step(read(BigInt(FIELD.GUEST_RIP) | (1n << 32n)))).toEqual(exit(EXIT_REASON.VMREAD));
  });

  it('outside 64-bit mode the encoding register has 32 bits: bits 63:32 of the operand are ignored, the shadow is read', () => {
    const rig = shadowed({});
    expect(rig.step(read(BigInt(FIELD.GUEST_RIP) | (1n << 32n)))).toEqual({ kind: 'vmsucceed', value: hex(SHADOW_RIP), flags: 0 });
    // A 64-bit field reads as its low 32 bits outside 64-bit mode.
    expect(rig.step(read(FIELD.GUEST_IA32_DEBUGCTL))).toEqual({ kind: 'vmsucceed', value: hex(SHADOW_DEBUGCTL & 0xffff_ffffn), flags: 0 });
  });

  it('exits when "VMCS shadowing" is 0, though every bitmap bit is 0', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, ...secondary() } });
    expect(rig.step(read(FIELD.GUEST_RIP))).toEqual(exit(EXIT_REASON.VMREAD));
  });

  it('#GP(0) at CPL 3 when it does not exit; a VM exit when the bitmap bit is 1', () => {
    const rig = shadowed();
    rig.set('cpl', 3);
    expect(rig.step(read(FIELD.GUEST_RIP))).toEqual(GP());
    const exiting = shadowed(SIXTY_FOUR, { memory: [bitmapWord(VMREAD_BITMAP, FIELD.GUEST_RIP)] });
    exiting.set('cpl', 3);
    expect(exiting.step(read(FIELD.GUEST_RIP))).toEqual(exit(EXIT_REASON.VMREAD));
  });

  it('guest RIP advances as a 64-bit value in 64-bit mode (carry into bits 63:32)', () => {
    const rig = guest({ changes: { ...SHADOWING, ...SIXTY_FOUR, GUEST_RIP: 0xffff_fffen }, memory: [[SHADOW, REVISION | SHADOW_INDICATOR]] });
    expect(rig.step(read(FIELD.GUEST_RIP)).kind).toBe('vmsucceed');
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(0x1_0000_0001n);
  });

  it('VMfailInvalid when the VMCS link pointer is FFFFFFFF_FFFFFFFFH; guest RIP still advances', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, ...secondary(SECONDARY.VMCS_SHADOWING) } });
    expect(rig.step(read(FIELD.GUEST_RIP))).toEqual(FAIL_INVALID);
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 3n);
  });

  it('VMfailValid(12) for an unsupported encoding, the error in the ordinary (current) VMCS, not the shadow', () => {
    const rig = shadowed();
    expect(rig.step(read(0x0001))).toEqual(failValid(12)); // access type "high" of a 16-bit field
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.VM_INSTRUCTION_ERROR)).toBe(12n);
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 3n);
    expect(rig.vmptrld(SHADOW).kind).toBe('vmsucceed');
    expect(hostRead(rig, FIELD.VM_INSTRUCTION_ERROR)).toBe(0n);
  });
});

describe('a guest VMWRITE with VMCS shadowing', () => {
  it('writes the shadow VMCS when the VMWRITE-bitmap bit is 0; the ordinary VMCS keeps its field', () => {
    const rig = shadowed();
    const before = 0x77n;
    expect(rig.step(write(FIELD.GUEST_RSP, before))).toEqual({ kind: 'vmsucceed', flags: 0 });
    expect(rig.step(read(FIELD.GUEST_RSP))).toEqual({ kind: 'vmsucceed', value: hex(before), flags: 0 });
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 6n);
    expect(rig.vmptrld(SHADOW).kind).toBe('vmsucceed');
    expect(hostRead(rig, FIELD.GUEST_RSP)).toBe(before);
  });

  it('exits (25) when the VMWRITE-bitmap bit is 1, with the VMWRITE instruction information', () => {
    const rig = shadowed(SIXTY_FOUR, { memory: [bitmapWord(VMWRITE_BITMAP, FIELD.GUEST_RSP)] });
    expect(rig.step(write(FIELD.GUEST_RSP, 1n, 'memory'))).toEqual(exit(EXIT_REASON.VMWRITE));
    // [RBX], DS, no index, 64-bit addresses, reg2 = RCX.
    expect(exitInformation(rig)).toEqual({ reason: 25n, qualification: 0n, length: 3n, information: 0x11c1_8100n });
  });

  it('outside 64-bit mode writes 32 bits: the high half of a 64-bit field becomes 0', () => {
    const rig = shadowed({});
    expect(rig.step(write(FIELD.GUEST_IA32_DEBUGCTL, 0xffff_0000_0000_0042n))).toEqual({ kind: 'vmsucceed', flags: 0 });
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(rig.vmptrld(SHADOW).kind).toBe('vmsucceed');
    expect(hostRead(rig, FIELD.GUEST_IA32_DEBUGCTL)).toBe(0x42n);
  });

  it('writes 16 bits of a 16-bit field, 32 of a 32-bit field and, with the high access type, bits 63:32 of a 64-bit field only', () => {
    const rig = shadowed();
    expect(rig.step(write(FIELD.GUEST_ES_SELECTOR, 0xffff_5678n))).toEqual({ kind: 'vmsucceed', flags: 0 });
    expect(rig.step(write(FIELD.GUEST_IA32_DEBUGCTL + 1, 0x9n))).toEqual({ kind: 'vmsucceed', flags: 0 });
    expect(rig.step(write(FIELD.GUEST_ES_LIMIT, 0x1_0000_ffffn))).toEqual({ kind: 'vmsucceed', flags: 0 });
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(rig.vmptrld(SHADOW).kind).toBe('vmsucceed');
    expect(hostRead(rig, FIELD.GUEST_ES_SELECTOR)).toBe(0x5678n);
    expect(hostRead(rig, FIELD.GUEST_ES_LIMIT)).toBe(0xffffn);
    expect(hostRead(rig, FIELD.GUEST_IA32_DEBUGCTL)).toBe((9n << 32n) | (SHADOW_DEBUGCTL & 0xffff_ffffn));
  });

  it('writes a VM-exit information field where IA32_VMX_MISC[29] = 1 (Skylake)', () => {
    const rig = shadowed();
    expect(rig.step(write(FIELD.EXIT_QUALIFICATION, 5n))).toEqual({ kind: 'vmsucceed', flags: 0 });
  });

  it('VMfailValid(13) for a VM-exit information field where IA32_VMX_MISC[29] = 0, error in the ordinary VMCS', () => {
    const misc = BigInt(SKYLAKE.msrs.IA32_VMX_MISC) & ~(1n << 29n);
    const profile = variant(SKYLAKE, 'skylake-no-vmwrite-any', { msrs: { IA32_VMX_MISC: hex(misc) } });
    const rig = shadowed(SIXTY_FOUR, { profile });
    expect(rig.step(write(FIELD.EXIT_QUALIFICATION, 5n))).toEqual(failValid(13));
    expect(rig.step(vmcall)).toEqual(exit(EXIT_REASON.VMCALL));
    expect(hostRead(rig, FIELD.VM_INSTRUCTION_ERROR)).toBe(13n);
  });
});
