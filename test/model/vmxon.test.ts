/**
 * VMXON—Enter VMX Operation (SDM Vol. 3C, December 2023, §31.3): expectations taken from the
 * instruction's Operation section and from §25.11.5 "VMXON Region".
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import {
  CF,
  core2,
  enterVmx,
  exit,
  expectNotModelled,
  expectOnly,
  expectUndefined,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  layRegion,
  loadVmcs,
  patchCpu,
  skylake,
  store,
  succeed,
  ud,
  VMCS_A,
  VMXON_0,
  VMXON_1,
  withCurrent,
  write,
  ZF,
} from './helpers.ts';

const vmxon = (pointer: bigint, cpu = 0, form?: 'register' | 'memory') =>
  ({ kind: 'vmxon', cpu, pointer: hex(pointer), ...(form ? { form } : {}) }) as const;

describe('VMXON outside VMX operation', () => {
  const laid = () => layRegion(fresh(), VMXON_0);

  it('enters VMX root operation with no current VMCS and reports VMsucceed with all flags clear', () => {
    const before = patchCpu(laid(), 0, { flags: CF | ZF });
    const after = expectOnly(before, vmxon(VMXON_0), succeed(), 'vmxon.success');
    expect(after.cpus[0]?.vmx).toBe('root');
    expect(after.cpus[0]?.flags).toBe(0);
    expectOnly(after, { kind: 'vmptrst', cpu: 0 }, succeed(0xffff_ffff_ffff_ffffn), 'vmptrst.success');
  });

  it('raises #UD for a register operand, leaving the flags as they were', () => {
    expectOnly(patchCpu(laid(), 0, { flags: CF }), vmxon(VMXON_0, 0, 'register'), ud(CF), 'vmxon.ud-register-operand');
  });

  it('raises #UD in real-address mode (CR0.PE = 0)', () => {
    expectOnly(patchCpu(laid(), 0, { cr0: 0x30n }), vmxon(VMXON_0), ud(), 'vmxon.ud-real-mode');
  });

  it('raises #UD when CR4.VMXE is 0', () => {
    const cleared = expectOnly(laid(), { kind: 'mov-cr4', cpu: 0, value: hex(0x20) }, { kind: 'ok', flags: 0 }, 'mov-cr4.ok');
    expectOnly(cleared, vmxon(VMXON_0), ud(), 'vmxon.ud-cr4-vmxe-clear');
  });

  it('raises #UD in virtual-8086 mode', () => {
    const v86 = expectOnly(laid(), { kind: 'set', cpu: 0, what: 'rflags.vm', value: 1 }, { kind: 'ok', flags: 0 }, 'set.ok');
    expectOnly(v86, vmxon(VMXON_0), ud(), 'vmxon.ud-virtual-8086');
  });

  it('raises #UD in compatibility mode', () => {
    const compat = expectOnly(laid(), { kind: 'set', cpu: 0, what: 'cs.l', value: 0 }, { kind: 'ok', flags: 0 }, 'set.ok');
    expectOnly(compat, vmxon(VMXON_0), ud(), 'vmxon.ud-compatibility-mode');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(laid(), 0, { cpl: 3 }), vmxon(VMXON_0), gp(), 'vmxon.gp-cpl');
  });

  it('raises #GP(0) in A20M mode', () => {
    expectOnly(patchCpu(laid(), 0, { a20m: true }), vmxon(VMXON_0), gp(), 'vmxon.gp-a20m');
  });

  it('raises #GP(0) when CR0 lacks a bit fixed to 1 in VMX operation (NE)', () => {
    const noNe = expectOnly(laid(), { kind: 'mov-cr0', cpu: 0, value: hex(0x8000_0011) }, { kind: 'ok', flags: 0 }, 'mov-cr0.ok');
    expectOnly(noNe, vmxon(VMXON_0), gp(), 'vmxon.gp-cr0-fixed-bits');
  });

  it('raises #GP(0) when CR4 sets a bit fixed to 0 in VMX operation', () => {
    expectOnly(patchCpu(laid(), 0, { cr4: 0x2020n | (1n << 31n) }), vmxon(VMXON_0), gp(), 'vmxon.gp-cr4-fixed-bits');
  });

  it('raises #GP(0) when IA32_FEATURE_CONTROL is not locked', () => {
    expectOnly(patchCpu(laid(), 0, { featureControl: 0x4n }), vmxon(VMXON_0), gp(), 'vmxon.gp-feature-control-unlocked');
  });

  it('raises #GP(0) in SMX operation when IA32_FEATURE_CONTROL bit 1 is clear', () => {
    expectOnly(patchCpu(laid(), 0, { inSmx: true, featureControl: 0x5n }), vmxon(VMXON_0), gp(), 'vmxon.gp-feature-control-in-smx');
  });

  it('accepts VMXON in SMX operation when IA32_FEATURE_CONTROL bit 1 is set, whatever bit 2 says', () => {
    expectOnly(patchCpu(laid(), 0, { inSmx: true, featureControl: 0x3n }), vmxon(VMXON_0), succeed(), 'vmxon.success');
  });

  it('raises #GP(0) outside SMX operation when IA32_FEATURE_CONTROL bit 2 is clear', () => {
    expectOnly(patchCpu(laid(), 0, { featureControl: 0x3n }), vmxon(VMXON_0), gp(), 'vmxon.gp-feature-control-outside-smx');
  });

  it('fails with VMfailInvalid for a pointer that is not 4-KByte aligned', () => {
    expectOnly(laid(), vmxon(VMXON_0 + 0x800n), failInvalid(), 'vmxon.pointer-not-aligned');
  });

  it('fails with VMfailInvalid for a pointer beyond the physical-address width', () => {
    const width = BigInt(skylake().pointerWidth);
    expectOnly(laid(), vmxon(1n << width), failInvalid(), 'vmxon.pointer-beyond-address-width');
    const top = (1n << width) - 0x1000n;
    expectOnly(layRegion(laid(), top), vmxon(top), succeed(), 'vmxon.success');
  });

  it('fails with VMfailInvalid when the region does not hold the revision identifier', () => {
    expectOnly(fresh(), vmxon(VMXON_0), failInvalid(), 'vmxon.revision-mismatch');
    const wrong = store(fresh(), VMXON_0, skylake().revisionId + 1);
    expectOnly(wrong, vmxon(VMXON_0), failInvalid(), 'vmxon.revision-mismatch');
  });

  it('fails with VMfailInvalid when bit 31 of the region is set', () => {
    expectOnly(layRegion(fresh(), VMXON_0, true), vmxon(VMXON_0), failInvalid(), 'vmxon.shadow-indicator-set');
  });

  it('checks the revision identifier of the profile in use', () => {
    const state = layRegion(fresh(core2()), VMXON_0);
    expectOnly(state, vmxon(VMXON_0), succeed(), 'vmxon.success');
    const skylakeRegion = store(fresh(core2()), VMXON_0, skylake().revisionId);
    expectOnly(skylakeRegion, vmxon(VMXON_0), failInvalid(), 'vmxon.revision-mismatch');
  });

  it('is undefined with the VMXON region of another processor still in VMX operation', () => {
    expectUndefined(inRoot(), vmxon(VMXON_0, 1), 'vmxon.region-of-another-processor');
  });

  it('may reuse the VMXON region of a processor that has left VMX operation', () => {
    const off = expectOnly(inRoot(), { kind: 'vmxoff', cpu: 0 }, succeed(), 'vmxoff.success');
    expectOnly(off, vmxon(VMXON_0, 1), succeed(), 'vmxon.success');
  });

  it('is undefined with the region of a VMCS active on another processor', () => {
    expectUndefined(withCurrent(), vmxon(VMCS_A, 1), 'vmxon.region-is-active-vmcs');
  });

  it('leaves the data of an inactive VMCS region it takes as VMXON region unknown', () => {
    let state = write(withCurrent(), FIELD.GUEST_RIP, 0x1234n);
    state = expectOnly(state, { kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmclear.success');
    state = expectOnly(state, vmxon(VMCS_A, 1), succeed(), 'vmxon.success');
    state = expectOnly(state, { kind: 'vmxoff', cpu: 1 }, succeed(), 'vmxoff.success');
    state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    const verdict = step(state, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) });
    expect(verdict).toMatchObject({ kind: 'defined', branches: [{ expected: { kind: 'vmsucceed', value: { kind: 'any' } } }] });
  });
});

describe('VMXON in VMX operation', () => {
  it('causes a VM exit in VMX non-root operation', () => {
    const guest = patchCpu(withCurrent(), 0, { vmx: 'non-root' });
    const after = expectOnly(guest, vmxon(VMXON_1), exit(EXIT_REASON.VMXON), 'vmxon.vm-exit');
    expectNotModelled(after, { kind: 'vmptrst', cpu: 0 }, 'vm-exit.msr-store-not-followed');
  });

  it('raises #GP(0) in VMX root operation when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 1 }), vmxon(VMXON_0), gp(), 'vmxon.gp-cpl-in-vmx-root');
  });

  it('fails with VMfailInvalid in VMX root operation without a current VMCS', () => {
    expectOnly(inRoot(), vmxon(VMXON_0), failInvalid(), 'vmxon.in-vmx-root');
  });

  it('fails with VMfailValid(15) in VMX root operation with a current VMCS, and stores 15 in the VM-instruction error field', () => {
    const after = expectOnly(withCurrent(), vmxon(VMXON_0), failValid(VM_ERROR.VMXON_IN_VMX_ROOT), 'vmxon.in-vmx-root');
    expectOnly(after, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.VM_INSTRUCTION_ERROR) }, succeed(15n), 'vmread.success');
  });

  it('still checks the mode before anything else', () => {
    const compat = patchCpu(inRoot(), 0, { csL: 0 });
    expectOnly(compat, vmxon(VMXON_0), ud(), 'vmxon.ud-compatibility-mode');
  });
});

describe('VMXON on two processors', () => {
  it('lets each processor enter VMX operation with its own region', () => {
    const both = enterVmx(inRoot(), 1);
    expect(both.cpus.map((cpu) => cpu.vmx)).toEqual(['root', 'root']);
    const loaded = loadVmcs(both, VMCS_A, 1);
    expectOnly(loaded, { kind: 'vmptrst', cpu: 1 }, succeed(VMCS_A), 'vmptrst.success');
  });
});

describe('VMXON with bad input (the project rule: an error naming what is wrong)', () => {
  it('a pointer that is not a hexadecimal value names VMXON and the pointer', () => {
    expect(() => step(layRegion(fresh(), VMXON_0), { kind: 'vmxon', cpu: 0, pointer: 'not-hex' } as never)).toThrow(/vmxon: pointer/);
  });

  it('an operand form other than memory or register names VMXON and the form', () => {
    expect(() => step(layRegion(fresh(), VMXON_0), { ...vmxon(VMXON_0), form: 'stack' } as never)).toThrow(/vmxon: form/);
  });
});
