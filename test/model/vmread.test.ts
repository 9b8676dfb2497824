/**
 * VMREAD—Read Field from Virtual-Machine Control Structure (SDM Vol. 3C, December 2023, §31.3)
 * with the field widths and access types of §25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS
 * Fields".
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import {
  core2,
  exit,
  expectNotModelled,
  expectOnly,
  expectRejected,
  expectStep,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  patchCpu,
  skylake,
  store,
  succeed,
  ud,
  withCurrent,
  write,
} from './helpers.ts';
import { ACTIVATE_SECONDARY, backToRoot, guest, shadowingGuest, VMREAD_BITMAP } from './non-root-setup.ts';

const vmread = (encoding: bigint | number, cpu = 0, form?: 'register' | 'memory') =>
  ({ kind: 'vmread', cpu, encoding: hex(encoding), ...(form ? { form } : {}) }) as const;

/** Processor 0 in 32-bit protected mode (IA32_EFER.LMA = 0). */
const protectedMode = (state: ReturnType<typeof fresh>) => patchCpu(state, 0, { eferLma: 0, csL: 0 });

describe('VMREAD checks in VMX root operation', () => {
  it('raises #UD outside VMX operation and in real-address, virtual-8086 and compatibility mode', () => {
    expectOnly(fresh(), vmread(FIELD.GUEST_RIP), ud(), 'vmread.ud-outside-vmx');
    expectOnly(patchCpu(withCurrent(), 0, { cr0: 0x10n }), vmread(FIELD.GUEST_RIP), ud(), 'vmread.ud-real-mode');
    expectOnly(patchCpu(withCurrent(), 0, { rflagsVm: 1 }), vmread(FIELD.GUEST_RIP), ud(), 'vmread.ud-virtual-8086');
    expectOnly(patchCpu(withCurrent(), 0, { csL: 0 }), vmread(FIELD.GUEST_RIP), ud(), 'vmread.ud-compatibility-mode');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(withCurrent(), 0, { cpl: 3 }), vmread(FIELD.GUEST_RIP), gp(), 'vmread.gp-cpl');
  });

  it('fails with VMfailInvalid without a current VMCS', () => {
    expectOnly(inRoot(), vmread(FIELD.GUEST_RIP), failInvalid(), 'vmread.no-current-vmcs');
  });

  it('fails with VMfailValid(12) in 64-bit mode when the encoding sets a bit above bit 31', () => {
    expectOnly(withCurrent(), vmread((1n << 32n) | BigInt(FIELD.GUEST_RIP)), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmread.encoding-above-bit-31');
  });

  it('ignores bits 63:32 of the encoding register outside 64-bit mode', () => {
    const state = protectedMode(write(withCurrent(), FIELD.GUEST_RSP, 0x1234n));
    expectOnly(state, vmread((1n << 32n) | BigInt(FIELD.GUEST_RSP)), succeed(0x1234n), 'vmread.success');
  });

  it('fails with VMfailValid(12) for an encoding that names no supported field', () => {
    expectOnly(withCurrent(), vmread(0x7ffe), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmread.unsupported-field');
    expectOnly(withCurrent(), vmread(FIELD.EXIT_REASON + 1), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmread.unsupported-field');
    expectOnly(withCurrent(core2()), vmread(FIELD.EPT_POINTER), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmread.unsupported-field');
  });
});

describe('VMREAD values', () => {
  it('returns what VMWRITE wrote, for every width', () => {
    let state = withCurrent();
    state = write(state, FIELD.GUEST_ES_SELECTOR, 0x12345n);
    state = write(state, FIELD.EXCEPTION_BITMAP, 0x1_2345_6789n);
    state = write(state, FIELD.TSC_OFFSET, 0x1122_3344_5566_7788n);
    state = write(state, FIELD.GUEST_RIP, 0xffff_8000_0000_1000n);
    expectOnly(state, vmread(FIELD.GUEST_ES_SELECTOR), succeed(0x2345n), 'vmread.success');
    expectOnly(state, vmread(FIELD.EXCEPTION_BITMAP), succeed(0x2345_6789n), 'vmread.success');
    expectOnly(state, vmread(FIELD.TSC_OFFSET), succeed(0x1122_3344_5566_7788n), 'vmread.success');
    expectOnly(state, vmread(FIELD.TSC_OFFSET + 1), succeed(0x1122_3344n), 'vmread.success');
    expectOnly(state, vmread(FIELD.GUEST_RIP), succeed(0xffff_8000_0000_1000n), 'vmread.success');
  });

  it('returns only bits 31:0 of 64-bit and natural-width fields outside 64-bit mode', () => {
    let state = withCurrent();
    state = write(state, FIELD.TSC_OFFSET, 0x1122_3344_5566_7788n);
    state = write(state, FIELD.GUEST_RIP, 0xffff_8000_0000_1000n);
    state = protectedMode(state);
    expectOnly(state, vmread(FIELD.TSC_OFFSET), succeed(0x5566_7788n), 'vmread.success');
    expectOnly(state, vmread(FIELD.TSC_OFFSET + 1), succeed(0x1122_3344n), 'vmread.success');
    expectOnly(state, vmread(FIELD.GUEST_RIP), succeed(0x1000n), 'vmread.success');
  });

  it('returns the error number of the last VMfailValid from the VM-instruction error field', () => {
    const failed = expectOnly(withCurrent(), vmread(0x7ffe), failValid(12), 'vmread.unsupported-field');
    expectOnly(failed, vmread(FIELD.VM_INSTRUCTION_ERROR), succeed(12n), 'vmread.success');
  });

  it('allows any value for a field never written, and then holds to the value seen', () => {
    const state = withCurrent();
    const seen = expectStep(state, vmread(FIELD.GUEST_RIP), succeed(0xdead_beefn), 'vmread.success');
    expectOnly(seen, vmread(FIELD.GUEST_RIP), succeed(0xdead_beefn), 'vmread.success');
    expectRejected(seen, vmread(FIELD.GUEST_RIP), succeed(0xdead_beeen));
  });

  it('allows any 16-bit value for a 16-bit field never written, with the upper destination bits 0', () => {
    const state = withCurrent();
    expectStep(state, vmread(FIELD.GUEST_ES_SELECTOR), succeed(0xffffn), 'vmread.success');
    expectRejected(state, vmread(FIELD.GUEST_ES_SELECTOR), succeed(0x1_0000n));
  });

  it('knows the half of a 64-bit field written through its high encoding and leaves the other half open', () => {
    const state = write(withCurrent(), FIELD.GUEST_IA32_DEBUGCTL + 1, 0xdeadn);
    const seen = expectStep(state, vmread(FIELD.GUEST_IA32_DEBUGCTL), succeed(0xdead_0000_1234n), 'vmread.success');
    expectRejected(state, vmread(FIELD.GUEST_IA32_DEBUGCTL), succeed(0xbeef_0000_1234n));
    expectOnly(seen, vmread(FIELD.GUEST_IA32_DEBUGCTL), succeed(0xdead_0000_1234n), 'vmread.success');
    const narrow = protectedMode(state);
    expectStep(narrow, vmread(FIELD.GUEST_IA32_DEBUGCTL), succeed(0x55n), 'vmread.success');
    expectRejected(narrow, vmread(FIELD.GUEST_IA32_DEBUGCTL), succeed(0x1_0000_0055n));
  });

  it('reads with a memory destination exactly as with a register', () => {
    const state = write(withCurrent(), FIELD.GUEST_RSP, 0x42n);
    expectOnly(state, vmread(FIELD.GUEST_RSP, 0, 'memory'), succeed(0x42n), 'vmread.success');
  });
});

describe('VMREAD in VMX non-root operation', () => {
  it('causes a VM exit when "VMCS shadowing" is 0, including when secondary controls are not activated', () => {
    expectOnly(guest({ primary: 0n }), vmread(FIELD.GUEST_RIP), exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-shadowing-off');
    expectOnly(guest({ primary: ACTIVATE_SECONDARY, secondary: 0n }), vmread(FIELD.GUEST_RIP), exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-shadowing-off');
  });

  it('causes a VM exit when the encoding sets a bit in 63:15', () => {
    expectOnly(shadowingGuest(), vmread(0x8000), exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-encoding-above-bit-14');
  });

  it('causes a VM exit when the VMREAD-bitmap bit for the encoding is 1', () => {
    // Encoding 681EH: byte VMREAD_BITMAP + D03H, bit 6; that byte is the top byte of the word at + D00H.
    const state = store(shadowingGuest(), VMREAD_BITMAP + 0xd00n, 0x4000_0000);
    expectOnly(state, vmread(FIELD.GUEST_RIP), exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-bitmap');
    expectOnly(state, vmread(FIELD.GUEST_RSP), succeed(0n), 'vmread.success');
  });

  it('reads the VMCS the link pointer references', () => {
    const state = shadowingGuest([[FIELD.GUEST_RSP, 0x5150n]]);
    expectOnly(state, vmread(FIELD.GUEST_RSP), succeed(0x5150n), 'vmread.success');
  });

  it('raises #GP(0) when CPL > 0 once no VM exit occurs', () => {
    expectOnly(patchCpu(shadowingGuest(), 0, { cpl: 3 }), vmread(FIELD.GUEST_RSP), gp(), 'vmread.gp-cpl');
  });

  it('fails with VMfailInvalid when the VMCS link pointer is not valid', () => {
    const state = guest({ primary: ACTIVATE_SECONDARY, secondary: 1n << 14n, link: 0xffff_ffff_ffff_ffffn, vmreadBitmap: VMREAD_BITMAP });
    expectOnly(state, vmread(FIELD.GUEST_RSP), failInvalid(), 'vmread.link-pointer-invalid');
  });

  it('fails with VMfailValid(12) for an unsupported field, writing the error into the controlling VMCS', () => {
    const after = expectOnly(shadowingGuest(), vmread(0x7ffe), failValid(12), 'vmread.unsupported-field');
    expectOnly(backToRoot(after), vmread(FIELD.VM_INSTRUCTION_ERROR), succeed(12n), 'vmread.success');
  });

  it('is not modelled when the controls it depends on are unknown', () => {
    expectNotModelled(guest({}), vmread(FIELD.GUEST_RIP), 'non-root.controls-unknown');
    expectNotModelled(guest({ primary: ACTIVATE_SECONDARY, secondary: 1n << 14n }), vmread(FIELD.GUEST_RIP), 'non-root.controls-unknown');
    expectNotModelled(
      guest({ primary: ACTIVATE_SECONDARY, secondary: 1n << 14n, vmreadBitmap: VMREAD_BITMAP }),
      vmread(FIELD.GUEST_RIP),
      'non-root.controls-unknown',
    );
  });

  it('describes the value it allows for an unknown field as open', () => {
    const verdict = step(withCurrent(skylake()), vmread(FIELD.GUEST_RIP));
    expect(verdict).toMatchObject({ kind: 'defined', branches: [{ expected: { kind: 'vmsucceed', value: { kind: 'any' } } }] });
  });
});
