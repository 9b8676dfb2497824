/**
 * VMX instructions in a guest reached through a real VM entry (every entry check passing), set up
 * as hypervisors set up VMCS shadowing: the shadow VMCS is laid out with the shadow-VMCS
 * indicator, initialized by VMCLEAR, filled through VMPTRLD and VMWRITE, VMCLEARed again, and the
 * ordinary VMCS made current and launched (SDM Vol. 3C, December 2023, §25.10 "VMCS Types:
 * Ordinary and Shadow", §27.3.1.5 checks on the link pointer). In the guest, VMREAD and VMWRITE
 * reach that inactive shadow VMCS; VMfailValid goes to the ordinary VMCS; VMCALL exits.
 */
import { describe, it } from 'vitest';
import type { ModelState } from '../../../model/index.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { exit, expectOnly, failValid, hex, layRegion, succeed, VMCS_A, VMCS_S, write } from '../helpers.ts';
import { GUEST_64 } from '../vm-entry/entry-fixtures.ts';
import { FLAT_64 } from '../vm-entry/guest-segment-fixtures.ts';
import { CONTROLS_OK, vmcsWith } from '../vm-entry/helpers.ts';

const VMREAD_BITMAP = 0x20000n;
const VMWRITE_BITMAP = 0x21000n;

/** Controls, host state and a flat 64-bit guest that pass every check on skylake, with VMCS shadowing. */
const SHADOWING_GUEST = {
  ...FLAT_64,
  ...GUEST_64,
  ...CONTROLS_OK,
  PRIMARY_PROCESSOR_BASED_CONTROLS: CONTROLS_OK.PRIMARY_PROCESSOR_BASED_CONTROLS | (1n << BigInt(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS)),
  SECONDARY_PROCESSOR_BASED_CONTROLS: 1n << BigInt(SECONDARY_CONTROL.VMCS_SHADOWING),
  VMREAD_BITMAP_ADDRESS: VMREAD_BITMAP,
  VMWRITE_BITMAP_ADDRESS: VMWRITE_BITMAP,
  VM_ENTRY_CONTROLS: 0x11fbn | (1n << 9n),
  GUEST_IA32_EFER: 0x500n,
  VMCS_LINK_POINTER: VMCS_S,
  GUEST_DR7: 0x400n,
  GUEST_IA32_DEBUGCTL: 0n,
  GUEST_IA32_SYSENTER_ESP: 0n,
  GUEST_IA32_SYSENTER_EIP: 0n,
  GUEST_CR3: 0x1000n,
  GUEST_GDTR_BASE: 0n,
  GUEST_IDTR_BASE: 0n,
  GUEST_GDTR_LIMIT: 0xffn,
  GUEST_IDTR_LIMIT: 0xfffn,
  GUEST_RIP: 0x1000n,
} as const;

/** The guest running after VMLAUNCH, its shadow VMCS (GUEST_RSP = 5150H) inactive in memory. */
function shadowingGuest(): ModelState {
  let state = layRegion(vmcsWith(SHADOWING_GUEST), VMCS_S, true);
  state = expectOnly(state, { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_S) }, succeed(), 'vmclear.success');
  state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_S) }, succeed(), 'vmptrld.success');
  state = write(state, FIELD.GUEST_RSP, 0x5150n);
  state = expectOnly(state, { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_S) }, succeed(), 'vmclear.success');
  state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
  return expectOnly(state, { kind: 'vmlaunch', cpu: 0 }, { kind: 'vmentry', flags: 0x41 }, 'vm-entry.guest-runs');
}

const vmread = (encoding: number) => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding) }) as const;

describe('VMX instructions in a guest after a real VM entry', () => {
  it('VMREAD reads the shadow VMCS the link pointer references, though it is not active', () => {
    expectOnly(shadowingGuest(), vmread(FIELD.GUEST_RSP), succeed(0x5150n), 'vmread.success');
  });

  it('VMWRITE writes it, and a later VMREAD sees the value', () => {
    const written = expectOnly(shadowingGuest(), { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RSP), value: hex(0x6000) }, succeed(), 'vmwrite.success');
    expectOnly(written, vmread(FIELD.GUEST_RSP), succeed(0x6000n), 'vmread.success');
  });

  it('VMREAD of an unsupported field fails with VMfailValid(12); VMCALL exits with reason 18', () => {
    const state = shadowingGuest();
    expectOnly(state, vmread(0x7ffe), failValid(VM_ERROR.UNSUPPORTED_FIELD), 'vmread.unsupported-field');
    expectOnly(state, { kind: 'vmcall', cpu: 0 }, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
  });
});
