/**
 * VMWRITE—Write Field to Virtual-Machine Control Structure (SDM Vol. 3C, December 2023, §31.3)
 * with §25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields".
 */
import { describe, it } from 'vitest';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import {
  core2,
  exit,
  expectNotModelled,
  expectOnly,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  patchCpu,
  store,
  succeed,
  ud,
  withCurrent,
  write,
} from './helpers.ts';
import { ACTIVATE_SECONDARY, guest, readShadowInRoot, shadowingGuest, VMWRITE_BITMAP } from './non-root-setup.ts';

const vmwrite = (encoding: bigint | number, value: bigint, cpu = 0, form?: 'register' | 'memory') =>
  ({ kind: 'vmwrite', cpu, encoding: hex(encoding), value: hex(value), ...(form ? { form } : {}) }) as const;
const vmread = (encoding: bigint | number, cpu = 0) => ({ kind: 'vmread', cpu, encoding: hex(encoding) }) as const;
const protectedMode = (state: ReturnType<typeof fresh>) => patchCpu(state, 0, { eferLma: 0, csL: 0 });

describe('VMWRITE checks in VMX root operation', () => {
  it('raises #UD outside VMX operation and in real-address, virtual-8086 and compatibility mode', () => {
    expectOnly(fresh(), vmwrite(FIELD.GUEST_RIP, 1n), ud(), 'vmwrite.ud-outside-vmx');
    expectOnly(patchCpu(withCurrent(), 0, { cr0: 0n }), vmwrite(FIELD.GUEST_RIP, 1n), ud(), 'vmwrite.ud-real-mode');
    expectOnly(patchCpu(withCurrent(), 0, { rflagsVm: 1 }), vmwrite(FIELD.GUEST_RIP, 1n), ud(), 'vmwrite.ud-virtual-8086');
    expectOnly(patchCpu(withCurrent(), 0, { csL: 0 }), vmwrite(FIELD.GUEST_RIP, 1n), ud(), 'vmwrite.ud-compatibility-mode');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(withCurrent(), 0, { cpl: 1 }), vmwrite(FIELD.GUEST_RIP, 1n), gp(), 'vmwrite.gp-cpl');
  });

  it('fails with VMfailInvalid without a current VMCS', () => {
    expectOnly(inRoot(), vmwrite(FIELD.GUEST_RIP, 1n), failInvalid(), 'vmwrite.no-current-vmcs');
  });

  it('fails with VMfailValid(12) in 64-bit mode when the encoding sets a bit above bit 31', () => {
    expectOnly(withCurrent(), vmwrite(1n << 40n, 1n), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmwrite.encoding-above-bit-31');
  });

  it('fails with VMfailValid(12) for an encoding that names no supported field', () => {
    expectOnly(withCurrent(), vmwrite(0x0801, 1n), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmwrite.unsupported-field');
    expectOnly(withCurrent(core2()), vmwrite(FIELD.VMCS_LINK_POINTER + 0x100000, 1n), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmwrite.unsupported-field');
  });

  it('fails with VMfailValid(13) for a VM-exit information field when IA32_VMX_MISC[29] = 0', () => {
    expectOnly(withCurrent(core2()), vmwrite(FIELD.EXIT_REASON, 1n), failValid(VM_ERROR.READ_ONLY_FIELD), 'vmwrite.read-only-field');
  });

  it('writes a VM-exit information field when IA32_VMX_MISC[29] = 1', () => {
    const state = write(withCurrent(), FIELD.EXIT_REASON, 0x1234n);
    expectOnly(state, vmread(FIELD.EXIT_REASON), succeed(0x1234n), 'vmread.success');
  });
});

describe('VMWRITE values', () => {
  it('drops the high bits of a value wider than the field', () => {
    let state = write(withCurrent(), FIELD.GUEST_ES_SELECTOR, 0xffff_1234n);
    state = write(state, FIELD.EXCEPTION_BITMAP, 0xffff_ffff_0000_0001n);
    expectOnly(state, vmread(FIELD.GUEST_ES_SELECTOR), succeed(0x1234n), 'vmread.success');
    expectOnly(state, vmread(FIELD.EXCEPTION_BITMAP), succeed(1n), 'vmread.success');
  });

  it('outside 64-bit mode writes 32 bits and clears bits 63:32 of a 64-bit or natural-width field', () => {
    let state = write(withCurrent(), FIELD.TSC_OFFSET, 0xffff_ffff_ffff_ffffn);
    state = write(state, FIELD.GUEST_RIP, 0xffff_ffff_ffff_ffffn);
    state = protectedMode(state);
    state = expectOnly(state, vmwrite(FIELD.TSC_OFFSET, 0xaaaa_bbbb_cccc_ddddn), succeed(), 'vmwrite.success');
    state = expectOnly(state, vmwrite(FIELD.GUEST_RIP, 0x1_0000_2000n), succeed(), 'vmwrite.success');
    const wide = patchCpu(state, 0, { eferLma: 1, csL: 1 });
    expectOnly(wide, vmread(FIELD.TSC_OFFSET), succeed(0xcccc_ddddn), 'vmread.success');
    expectOnly(wide, vmread(FIELD.GUEST_RIP), succeed(0x2000n), 'vmread.success');
  });

  it('with the high access type writes only bits 63:32 of a 64-bit field', () => {
    let state = write(withCurrent(), FIELD.TSC_OFFSET, 0x1111_2222_3333_4444n);
    state = write(state, FIELD.TSC_OFFSET + 1, 0x9999_8888_7777n);
    expectOnly(state, vmread(FIELD.TSC_OFFSET), succeed(0x8888_7777_3333_4444n), 'vmread.success');
  });

  it('writes from a memory operand exactly as from a register', () => {
    const state = expectOnly(withCurrent(), vmwrite(FIELD.GUEST_RSP, 0x99n, 0, 'memory'), succeed(), 'vmwrite.success');
    expectOnly(state, vmread(FIELD.GUEST_RSP), succeed(0x99n), 'vmread.success');
  });
});

describe('VMWRITE in VMX non-root operation', () => {
  it('causes a VM exit when "VMCS shadowing" is 0', () => {
    expectOnly(guest({ primary: ACTIVATE_SECONDARY, secondary: 0n }), vmwrite(FIELD.GUEST_RSP, 1n), exit(EXIT_REASON.VMWRITE), 'vmwrite.vm-exit-shadowing-off');
  });

  it('causes a VM exit when the encoding sets a bit in 63:15', () => {
    expectOnly(shadowingGuest(), vmwrite(0x1_0000, 1n), exit(EXIT_REASON.VMWRITE), 'vmwrite.vm-exit-encoding-above-bit-14');
  });

  it('causes a VM exit when the VMWRITE-bitmap bit for the encoding is 1', () => {
    // Encoding 681CH: byte VMWRITE_BITMAP + D03H, bit 4.
    const state = store(shadowingGuest(), VMWRITE_BITMAP + 0xd00n, 0x1000_0000);
    expectOnly(state, vmwrite(FIELD.GUEST_RSP, 1n), exit(EXIT_REASON.VMWRITE), 'vmwrite.vm-exit-bitmap');
  });

  it('writes the VMCS the link pointer references', () => {
    const state = expectOnly(shadowingGuest(), vmwrite(FIELD.GUEST_RSP, 0x77n), succeed(), 'vmwrite.success');
    expectOnly(readShadowInRoot(state), vmread(FIELD.GUEST_RSP), succeed(0x77n), 'vmread.success');
  });

  it('raises #GP(0) when CPL > 0 once no VM exit occurs', () => {
    expectOnly(patchCpu(shadowingGuest(), 0, { cpl: 3 }), vmwrite(FIELD.GUEST_RSP, 1n), gp(), 'vmwrite.gp-cpl');
  });

  it('fails with VMfailInvalid when the VMCS link pointer is not valid', () => {
    const state = guest({ primary: ACTIVATE_SECONDARY, secondary: 1n << 14n, link: 0xffff_ffff_ffff_ffffn, vmwriteBitmap: VMWRITE_BITMAP });
    expectOnly(state, vmwrite(FIELD.GUEST_RSP, 1n), failInvalid(), 'vmwrite.link-pointer-invalid');
  });

  it('is not modelled when the controls it depends on are unknown', () => {
    expectNotModelled(guest({}), vmwrite(FIELD.GUEST_RSP, 1n), 'non-root.controls-unknown');
    expectNotModelled(guest({ primary: ACTIVATE_SECONDARY, secondary: 1n << 14n }), vmwrite(FIELD.GUEST_RSP, 1n), 'non-root.controls-unknown');
    expectNotModelled(
      guest({ primary: ACTIVATE_SECONDARY, secondary: 1n << 14n, vmwriteBitmap: VMWRITE_BITMAP }),
      vmwrite(FIELD.GUEST_RSP, 1n),
      'non-root.controls-unknown',
    );
  });
});
