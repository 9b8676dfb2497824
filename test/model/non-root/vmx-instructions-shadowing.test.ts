/**
 * VMREAD and VMWRITE in a guest with VMCS shadowing (SDM Vol. 3C, December 2023: the Operation
 * sections of VMREAD and VMWRITE in §31.3; §25.10 "VMCS Types: Ordinary and Shadow"; §25.6.15
 * "VMCS Shadowing Bitmap Addresses"; §31.2 "Conventions"): the bitmap bit of encoding bits 14:0
 * decides between a VM exit and an access to the VMCS the link pointer references; VMfailInvalid
 * when the link pointer is FFFFFFFF_FFFFFFFFH; VMfailValid writes the error into the current
 * (ordinary) VMCS; an instruction that completes moves the guest's RIP past its 3 bytes, an exit
 * does not, and a fault delivered in the guest leaves it unknown (the guest's handler runs).
 */
import { describe, expect, it } from 'vitest';
import type { ModelState } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { createProfile } from '../../../spec/profile.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import {
  ALL_FLAGS,
  CF,
  enterVmx,
  exit,
  expectOnly,
  expectStep,
  expectUndefined,
  failInvalid,
  failValid,
  gp,
  hex,
  inRoot,
  loadVmcs,
  patchCpu,
  skylake,
  store,
  succeed,
  VMCS_A,
  VMCS_S,
  write,
} from '../helpers.ts';
import { ACTIVATE_SECONDARY, backToRoot, guest, readShadowInRoot, shadowingGuest, SHADOWING, VMREAD_BITMAP, VMWRITE_BITMAP } from '../non-root-setup.ts';

const RIP = 0x2000n;
const vmread = (encoding: bigint | number) => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding) }) as const;
const vmwrite = (encoding: bigint | number, value: bigint) => ({ kind: 'vmwrite', cpu: 0, encoding: hex(encoding), value: hex(value) }) as const;

/** `state` with the guest at RIP and every arithmetic flag set (so that VMsucceed visibly clears them). */
const running = (state: ModelState): ModelState => patchCpu(state, 0, { rip: RIP, flags: ALL_FLAGS });
/** `state` in 32-bit protected mode. */
const protectedMode = (state: ModelState): ModelState => patchCpu(state, 0, { eferLma: 0, csL: 0 });
const ripOf = (state: ModelState): bigint | undefined => cpuOf(state, 0).rip;

describe('VMREAD with VMCS shadowing', () => {
  it('reads the shadow VMCS, clears the flags and moves RIP past the instruction', () => {
    const after = expectOnly(running(shadowingGuest([[FIELD.GUEST_RSP, 0x5150n]])), vmread(FIELD.GUEST_RSP), succeed(0x5150n), 'vmread.success');
    expect(ripOf(after)).toBe(RIP + 3n);
    expect(cpuOf(after, 0).flags).toBe(0);
  });

  it('exits on the bitmap bit of encoding bits 14:0 (4400H: byte 880H, bit 0), leaving RIP at the instruction', () => {
    const state = running(store(shadowingGuest(), VMREAD_BITMAP + 0x880n, 1));
    expectOnly(state, vmread(0x4400), exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-bitmap');
    expectOnly(state, vmread(0x4402), succeed(0n), 'vmread.success');
  });

  it('reads the VMREAD bitmap, not the VMWRITE bitmap', () => {
    const state = running(store(shadowingGuest(), VMWRITE_BITMAP + 0x880n, 1));
    expectOnly(state, vmread(0x4400), succeed(0n), 'vmread.success');
    expectOnly(state, vmwrite(0x4400, 1n), exit(EXIT_REASON.VMWRITE), 'vmwrite.vm-exit-bitmap');
  });

  it('in 64-bit mode an encoding with any of bits 63:32 set exits; outside it bits 63:32 of the register are ignored', () => {
    const state = running(shadowingGuest([[FIELD.GUEST_RSP, 0x77n]]));
    expectOnly(state, vmread((1n << 32n) | BigInt(FIELD.GUEST_RSP)), exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-encoding-above-bit-14');
    const after = expectOnly(protectedMode(state), vmread((1n << 32n) | BigInt(FIELD.GUEST_RSP)), succeed(0x77n), 'vmread.success');
    expect(ripOf(after)).toBe(RIP + 3n);
  });

  it('outside 64-bit mode the instruction pointer is EIP: it wraps at 4 GBytes', () => {
    const state = patchCpu(protectedMode(shadowingGuest()), 0, { rip: 0xffff_fffen });
    const after = expectOnly(state, vmread(FIELD.GUEST_RSP), succeed(0n), 'vmread.success');
    expect(ripOf(after)).toBe(1n);
  });

  it('fails with VMfailInvalid (CF = 1) when the link pointer is FFFFFFFF_FFFFFFFFH, RIP moving on', () => {
    const state = running(guest({ primary: ACTIVATE_SECONDARY, secondary: SHADOWING, link: 0xffff_ffff_ffff_ffffn, vmreadBitmap: VMREAD_BITMAP }));
    const after = expectOnly(state, vmread(FIELD.GUEST_RSP), failInvalid(), 'vmread.link-pointer-invalid');
    expect(ripOf(after)).toBe(RIP + 3n);
    expect(cpuOf(after, 0).flags).toBe(CF);
  });

  it('fails with VMfailValid(12) into the ordinary VMCS, not the shadow VMCS', () => {
    const after = expectOnly(running(shadowingGuest()), vmread(0x7ffe), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmread.unsupported-field');
    expect(ripOf(after)).toBe(RIP + 3n);
    expectOnly(backToRoot(after), vmread(FIELD.VM_INSTRUCTION_ERROR), succeed(12n), 'vmread.success');
    expectStep(readShadowInRoot(after), vmread(FIELD.VM_INSTRUCTION_ERROR), succeed(0x1234n), 'vmread.success');
  });

  it('raises #GP(0) at CPL 3 once no exit occurs; delivered in the guest (exception bitmap 0), whose registers no VM entry loaded: not followed into the handler', () => {
    const after = expectOnly(patchCpu(running(shadowingGuest()), 0, { cpl: 3 }), vmread(FIELD.GUEST_RSP), gp(ALL_FLAGS), 'vmread.gp-cpl');
    expect(cpuOf(after, 0).untracked?.id).toBe('event-delivery.state-unknown');
  });

  it('pins a shadow field it did not know, so a later read must agree', () => {
    const state = running(shadowingGuest());
    const seen = expectStep(state, vmread(FIELD.GUEST_RIP), succeed(0xabcdn), 'vmread.success');
    expectOnly(seen, vmread(FIELD.GUEST_RIP), succeed(0xabcdn), 'vmread.success');
  });
});

describe('VMWRITE with VMCS shadowing', () => {
  it('writes the shadow VMCS, not the ordinary one, and moves RIP past the instruction', () => {
    const after = expectOnly(running(shadowingGuest([[FIELD.GUEST_RSP, 1n]])), vmwrite(FIELD.GUEST_RSP, 0x99n), succeed(), 'vmwrite.success');
    expect(ripOf(after)).toBe(RIP + 3n);
    expectOnly(readShadowInRoot(after), vmread(FIELD.GUEST_RSP), succeed(0x99n), 'vmread.success');
    expectOnly(after, vmread(FIELD.GUEST_RSP), succeed(0x99n), 'vmread.success');
  });

  it('fails with VMfailValid(12) for an unsupported field, into the ordinary VMCS', () => {
    const after = expectOnly(running(shadowingGuest()), vmwrite(0x7ffe, 1n), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmwrite.unsupported-field');
    expectOnly(backToRoot(after), vmread(FIELD.VM_INSTRUCTION_ERROR), succeed(12n), 'vmread.success');
  });

  it('fails with VMfailValid(13) for a VM-exit information field when IA32_VMX_MISC[29] = 0, into the ordinary VMCS', () => {
    const misc = BigInt(skylake().data.msrs.IA32_VMX_MISC) & ~(1n << 29n);
    const profile = createProfile({ ...skylake().data, msrs: { ...skylake().data.msrs, IA32_VMX_MISC: hex(misc) } });
    let state = loadVmcs(inRoot(profile), VMCS_S, 0, true);
    state = loadVmcs(state, VMCS_A);
    state = write(state, FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, ACTIVATE_SECONDARY);
    state = write(state, FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, SHADOWING);
    state = write(state, FIELD.VMCS_LINK_POINTER, VMCS_S);
    state = write(state, FIELD.VMWRITE_BITMAP_ADDRESS, VMWRITE_BITMAP);
    const guestState = running(patchCpu(state, 0, { vmx: 'non-root' }));
    const after = expectOnly(guestState, vmwrite(FIELD.EXIT_REASON, 1n), failValid(VM_ERROR.READ_ONLY_FIELD), 'vmwrite.read-only-field');
    expect(ripOf(after)).toBe(RIP + 3n);
    expectOnly(backToRoot(after), vmread(FIELD.VM_INSTRUCTION_ERROR), succeed(13n), 'vmread.success');
  });

  it('fails with VMfailInvalid when the link pointer is FFFFFFFF_FFFFFFFFH', () => {
    const state = running(guest({ primary: ACTIVATE_SECONDARY, secondary: SHADOWING, link: 0xffff_ffff_ffff_ffffn, vmwriteBitmap: VMWRITE_BITMAP }));
    const after = expectOnly(state, vmwrite(FIELD.GUEST_RSP, 1n), failInvalid(), 'vmwrite.link-pointer-invalid');
    expect(ripOf(after)).toBe(RIP + 3n);
  });
});

describe('the shadow VMCS where it is kept', () => {
  /** The shadowing guest with the shadow VMCS VMCLEARed (inactive, its data in memory) before entry. */
  function clearedShadow(): ModelState {
    const root = backToRoot(shadowingGuest([[FIELD.GUEST_RSP, 0x4242n]]));
    const cleared = expectOnly(root, { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_S) }, succeed(), 'vmclear.success');
    return running(patchCpu(cleared, 0, { vmx: 'non-root' }));
  }

  it('reads and writes a shadow VMCS that is not active, as software VMCLEARs it before entering', () => {
    const state = clearedShadow();
    expectOnly(state, vmread(FIELD.GUEST_RSP), succeed(0x4242n), 'vmread.success');
    const written = expectOnly(state, vmwrite(FIELD.GUEST_RSP, 0x4343n), succeed(), 'vmwrite.success');
    expectOnly(readShadowInRoot(written), vmread(FIELD.GUEST_RSP), succeed(0x4343n), 'vmread.success');
  });

  it('is undefined when the shadow VMCS is active on another processor', () => {
    const state = backToRoot(clearedShadow());
    const other = enterVmx(state, 1);
    const loaded = expectOnly(other, { kind: 'vmptrld', cpu: 1, pointer: hex(VMCS_S) }, succeed(), 'vmptrld.success');
    const inGuest = patchCpu(loaded, 0, { vmx: 'non-root' });
    expectUndefined(inGuest, vmread(FIELD.GUEST_RSP), 'vmread.shadow-vmcs-active-elsewhere');
    expectUndefined(inGuest, vmwrite(FIELD.GUEST_RSP, 1n), 'vmwrite.shadow-vmcs-active-elsewhere');
  });
});
