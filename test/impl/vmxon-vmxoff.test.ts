/**
 * VMXON and VMXOFF, from SDM Vol. 3C, December 2023, §31.3 "VMXON—Enter VMX Operation" and
 * "VMXOFF—Leave VMX Operation", §24.7 "Enabling and Entering VMX Operation".
 */
import { describe, expect, it } from 'vitest';
import { FIELD } from '../../spec/fields.ts';
import {
  CORE2,
  FAIL_INVALID,
  failValid,
  GP,
  hex,
  NO_CURRENT_VMCS,
  ok,
  Rig,
  SKYLAKE,
  SUCCEED,
  UD,
  value,
  variant,
  VMCS_A,
  VMXON_0,
} from './fixtures.ts';

describe('VMXON outside VMX operation', () => {
  it('enters VMX root operation with no current VMCS when the region carries the revision identifier', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    expect(rig.vmxon()).toEqual(SUCCEED);
    expect(rig.engine.machine.inVmxOperation(0)).toBe(true);
    expect(rig.vmptrst()).toEqual(value(NO_CURRENT_VMCS));
  });

  it('raises #UD for a register operand', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0), form: 'register' })).toEqual(UD());
  });

  it('accepts an explicit memory operand', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0), form: 'memory' })).toEqual(SUCCEED);
  });

  it('raises #UD when CR4.VMXE is clear', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x20' })).toEqual(ok());
    expect(rig.vmxon()).toEqual(UD());
  });

  it('raises #UD when CR0.PE is clear', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    // Leave IA-32e mode first: clearing PG in 64-bit mode, or PG without PE, is #GP(0).
    rig.set('efer.lma', 0);
    expect(rig.step({ kind: 'mov-cr0', cpu: 0, value: '0x30' })).toEqual(ok());
    expect(rig.vmxon()).toEqual(UD());
  });

  it('raises #UD in virtual-8086 mode', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    rig.set('rflags.vm', 1);
    expect(rig.vmxon()).toEqual(UD());
  });

  it('raises #UD in compatibility mode (IA32_EFER.LMA = 1, CS.L = 0)', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    rig.set('cs.l', 0);
    expect(rig.vmxon()).toEqual(UD());
  });

  it('works in legacy protected mode (IA32_EFER.LMA = 0), where CS.L does not matter', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    rig.set('efer.lma', 0);
    rig.set('cs.l', 0);
    expect(rig.vmxon()).toEqual(SUCCEED);
  });

  it('raises #GP(0) at CPL > 0', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    rig.set('cpl', 3);
    expect(rig.vmxon()).toEqual(GP());
  });

  it('raises #GP(0) when CR0 has a bit IA32_VMX_CR0_FIXED0 requires clear (NE)', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    rig.step({ kind: 'mov-cr0', cpu: 0, value: '0x80000011' });
    expect(rig.vmxon()).toEqual(GP());
  });

  it('raises #GP(0) when CR4 lacks a bit IA32_VMX_CR4_FIXED0 requires', () => {
    // PAE required; clearing it needs IA-32e mode off. (A bit outside FIXED1 cannot get into CR4
    // while cr4Supported defaults to FIXED1: MOV to CR4 refuses it as reserved; mov-cr.test.ts.)
    const rig = new Rig(variant(SKYLAKE, 'pae-fixed', { msrs: { IA32_VMX_CR4_FIXED0: '0x2020' } }));
    rig.layOut(VMXON_0);
    rig.set('efer.lma', 0);
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x2000' })).toEqual({ kind: 'ok', flags: 0 });
    expect(rig.vmxon()).toEqual(GP());
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x2020' })).toEqual({ kind: 'ok', flags: 0 });
    expect(rig.vmxon()).toEqual(SUCCEED);
  });

  it('raises #GP(0) when IA32_FEATURE_CONTROL is not locked', () => {
    const rig = new Rig(variant(SKYLAKE, 'unlocked', { featureControl: '0x4' }));
    rig.layOut(VMXON_0);
    expect(rig.vmxon()).toEqual(GP());
  });

  it('raises #GP(0) when IA32_FEATURE_CONTROL is locked without enabling VMXON outside SMX', () => {
    const rig = new Rig(variant(SKYLAKE, 'smx-only', { featureControl: '0x3' }));
    rig.layOut(VMXON_0);
    expect(rig.vmxon()).toEqual(GP());
  });

  it('fails invalid for a pointer that is not 4-KByte aligned', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    expect(rig.vmxon(0, VMXON_0 + 8)).toEqual(FAIL_INVALID);
    expect(rig.engine.machine.inVmxOperation(0)).toBe(false);
  });

  it('fails invalid for a pointer with bits beyond the physical-address width', () => {
    const rig = new Rig();
    // Skylake's physical-address width is 46.
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex((1n << 46n) | BigInt(VMXON_0)) })).toEqual(FAIL_INVALID);
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: '0xffffffffffffffff' })).toEqual(FAIL_INVALID);
  });

  it('accepts the last page below the physical-address width', () => {
    const rig = new Rig();
    const last = (1n << 46n) - 0x1000n;
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(last), value: hex(rig.profile.revisionId) });
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex(last) })).toEqual(SUCCEED);
  });

  it('fails invalid when the region holds another revision identifier', () => {
    const rig = new Rig();
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(VMXON_0), value: hex(rig.profile.revisionId + 1) });
    expect(rig.vmxon()).toEqual(FAIL_INVALID);
  });

  it('fails invalid for a region never written (revision identifier 0)', () => {
    expect(new Rig().vmxon()).toEqual(FAIL_INVALID);
  });

  it('fails invalid when bit 31 of the region (shadow-VMCS indicator) is set', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0, 0, 0x8000_0000);
    expect(rig.vmxon()).toEqual(FAIL_INVALID);
  });

  it('clears CF again on a later success (VMsucceed clears all six flags)', () => {
    const rig = new Rig();
    expect(rig.vmxon()).toEqual(FAIL_INVALID);
    rig.layOut(VMXON_0);
    expect(rig.vmxon()).toEqual(SUCCEED);
  });

  it('leaves the flags unchanged when it faults', () => {
    const rig = new Rig();
    expect(rig.vmxon()).toEqual(FAIL_INVALID);
    rig.set('cpl', 1);
    expect(rig.vmxon()).toEqual(GP(0x1));
    expect(rig.set('cpl', 0)).toEqual(ok(0x1));
  });
});

describe('VMXON in VMX root operation', () => {
  it('fails invalid (VMfail(15) without a current VMCS)', () => {
    const rig = new Rig().enter();
    expect(rig.vmxon()).toEqual(FAIL_INVALID);
  });

  it('fails valid with error 15 when a VMCS is current, and stores 15 in the VM-instruction error field', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmxon()).toEqual(failValid(15));
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0xf'));
  });

  it('raises #GP(0) at CPL > 0 before failing', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('cpl', 3);
    expect(rig.vmxon()).toEqual(GP());
  });

  it('still raises #UD for a register operand', () => {
    const rig = new Rig().enter();
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0), form: 'register' })).toEqual(UD());
  });
});

describe('VMXOFF', () => {
  it('raises #UD outside VMX operation', () => {
    expect(new Rig().vmxoff()).toEqual(UD());
  });

  it('leaves VMX operation; VMX instructions other than VMXON then raise #UD', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmxoff()).toEqual(SUCCEED);
    expect(rig.engine.machine.inVmxOperation(0)).toBe(false);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(UD());
    expect(rig.vmptrst()).toEqual(UD());
  });

  it('raises #GP(0) at CPL > 0', () => {
    const rig = new Rig().enter();
    rig.set('cpl', 2);
    expect(rig.vmxoff()).toEqual(GP());
  });

  it('raises #UD in compatibility mode and in virtual-8086 mode', () => {
    const rig = new Rig().enter();
    rig.set('cs.l', 0);
    expect(rig.vmxoff()).toEqual(UD());
    rig.set('cs.l', 1);
    rig.set('rflags.vm', 1);
    expect(rig.vmxoff()).toEqual(UD());
  });

  it('succeeds on Core 2 too, whose dual-monitor treatment is supported but never activated', () => {
    const rig = new Rig(CORE2).enter();
    expect(rig.vmxoff()).toEqual(SUCCEED);
  });

  it('after VMXOFF and VMXON no VMCS is current; data of a VMCS left active is kept in its region (impl choice)', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.GUEST_RIP, 0x1234);
    expect(rig.vmxoff()).toEqual(SUCCEED);
    expect(rig.vmxon()).toEqual(SUCCEED);
    expect(rig.vmptrst()).toEqual(value(NO_CURRENT_VMCS));
    expect(rig.vmptrld(VMCS_A)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x1234'));
  });
});
