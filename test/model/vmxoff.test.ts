/**
 * VMXOFF—Leave VMX Operation (SDM Vol. 3C, December 2023, §31.3) and what leaving VMX operation
 * does to VMCSs still active (§25.11.1 "Software Use of Virtual-Machine Control Structures").
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import {
  CF,
  enterVmx,
  exit,
  expectOnly,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  patchCpu,
  succeed,
  ud,
  VMCS_A,
  withCurrent,
  write,
} from './helpers.ts';

const vmxoff = (cpu = 0) => ({ kind: 'vmxoff', cpu }) as const;

describe('VMXOFF', () => {
  it('raises #UD outside VMX operation', () => {
    expectOnly(patchCpu(fresh(), 0, { flags: CF }), vmxoff(), ud(CF), 'vmxoff.ud-outside-vmx');
  });

  it('raises #UD in real-address mode, virtual-8086 mode and compatibility mode', () => {
    expectOnly(patchCpu(inRoot(), 0, { cr0: 0x8000_0030n }), vmxoff(), ud(), 'vmxoff.ud-real-mode');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1 }), vmxoff(), ud(), 'vmxoff.ud-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), vmxoff(), ud(), 'vmxoff.ud-compatibility-mode');
  });

  it('causes a VM exit in VMX non-root operation', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), vmxoff(), exit(EXIT_REASON.VMXOFF), 'vmxoff.vm-exit');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 3 }), vmxoff(), gp(), 'vmxoff.gp-cpl');
  });

  it('fails with VMfail(23) under the dual-monitor treatment: VMfailValid with a current VMCS, VMfailInvalid without', () => {
    expectOnly(patchCpu(inRoot(), 0, { dualMonitorActive: true }), vmxoff(), failInvalid(), 'vmxoff.dual-monitor-active');
    const after = expectOnly(
      patchCpu(withCurrent(), 0, { dualMonitorActive: true }),
      vmxoff(),
      failValid(VM_ERROR.VMXOFF_UNDER_DUAL_MONITOR),
      'vmxoff.dual-monitor-active',
    );
    expect(after.cpus[0]?.vmx).toBe('root');
  });

  it('leaves VMX operation with VMsucceed; VMX instructions then raise #UD and VMXON works again', () => {
    const off = expectOnly(inRoot(), vmxoff(), succeed(), 'vmxoff.success');
    expect(off.cpus[0]?.vmx).toBe('outside');
    expectOnly(off, { kind: 'vmptrst', cpu: 0 }, ud(), 'vmptrst.ud-outside-vmx');
    expectOnly(off, { kind: 'vmxon', cpu: 0, pointer: hex(0x1000) }, succeed(), 'vmxon.success');
  });

  it('leaves a VMCS still active with unknown fields: after VMXON and VMPTRLD a field written before reads as any value', () => {
    let state = write(withCurrent(), FIELD.GUEST_RIP, 0xabcdn);
    state = expectOnly(state, vmxoff(), succeed(), 'vmxoff.success');
    state = enterVmx(state, 0);
    state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    const verdict = step(state, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) });
    expect(verdict).toMatchObject({ kind: 'defined', branches: [{ expected: { value: { kind: 'any' } } }] });
  });

  it('keeps the fields of a VMCS that was VMCLEARed before VMXOFF', () => {
    let state = write(withCurrent(), FIELD.GUEST_RIP, 0xabcdn);
    state = expectOnly(state, { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmclear.success');
    state = expectOnly(state, vmxoff(), succeed(), 'vmxoff.success');
    state = enterVmx(state, 1);
    state = expectOnly(state, { kind: 'vmptrld', cpu: 1, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    expectOnly(state, { kind: 'vmread', cpu: 1, encoding: hex(FIELD.GUEST_RIP) }, succeed(0xabcdn), 'vmread.success');
  });
});
