/**
 * VMCLEAR—Clear Virtual-Machine Control Structure (SDM Vol. 3C, December 2023, §31.3), with the
 * VMCS states of §25.1 "Overview" and the undefined cases of §25.11.1 and §25.11.5.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import {
  enterVmx,
  exit,
  expectOnly,
  expectUndefined,
  failInvalid,
  failValid,
  fresh,
  gp,
  hex,
  inRoot,
  loadVmcs,
  patchCpu,
  skylake,
  succeed,
  ud,
  VMCS_A,
  VMCS_B,
  VMXON_0,
  VMXON_1,
  withCurrent,
  write,
} from './helpers.ts';

/** The state on a processor without RDRAND and RDSEED, whose register forms of 0F C7 /6 and /7 are then #UD. */
const withoutRandom = <S extends { profile: { cpuid: object } }>(state: S): S => ({ ...state, profile: { ...state.profile, cpuid: { ...state.profile.cpuid, rdrand: false, rdseed: false } } });

const vmclear = (pointer: bigint, cpu = 0, form?: 'register' | 'memory') =>
  ({ kind: 'vmclear', cpu, pointer: hex(pointer), ...(form ? { form } : {}) }) as const;

describe('VMCLEAR checks', () => {
  it('executes the register form as RDRAND r16 (0F C7 /6, mod = 11b) on a processor that has it: CF = 1 with any value, or CF = 0 with 0 (Vol. 2B page)', () => {
    const verdict = step(inRoot(), vmclear(VMCS_A, 0, 'register'));
    expect(verdict.kind).toBe('defined');
    if (verdict.kind !== 'defined') return;
    expect(verdict.branches.map((b) => b.expected)).toEqual([
      { kind: 'ok', flags: 1 },
      { kind: 'ok', flags: 0, value: '0x0' },
    ]);
  });

  it('raises #UD for a register operand', () => {
    expectOnly(withoutRandom(inRoot()), vmclear(VMCS_A, 0, 'register'), ud(), 'vmclear.ud-register-operand');
  });

  it('raises #UD outside VMX operation and in real-address, virtual-8086 and compatibility mode', () => {
    expectOnly(fresh(), vmclear(VMCS_A), ud(), 'vmclear.ud-outside-vmx');
    expectOnly(patchCpu(inRoot(), 0, { cr0: 0x30n }), vmclear(VMCS_A), ud(), 'vmclear.ud-real-mode');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1 }), vmclear(VMCS_A), ud(), 'vmclear.ud-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), vmclear(VMCS_A), ud(), 'vmclear.ud-compatibility-mode');
  });

  it('causes a VM exit in VMX non-root operation', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), vmclear(VMCS_B), exit(EXIT_REASON.VMCLEAR), 'vmclear.vm-exit');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 2 }), vmclear(VMCS_A), gp(), 'vmclear.gp-cpl');
  });

  it('fails with VMfail(2) for an unaligned pointer or one beyond the physical-address width', () => {
    expectOnly(inRoot(), vmclear(VMCS_A + 4n), failInvalid(), 'vmclear.pointer-not-aligned');
    expectOnly(withCurrent(), vmclear(VMCS_A + 4n), failValid(VM_ERROR.VMCLEAR_INVALID_ADDRESS), 'vmclear.pointer-not-aligned');
    const beyond = 1n << BigInt(skylake().pointerWidth);
    expectOnly(withCurrent(), vmclear(beyond), failValid(VM_ERROR.VMCLEAR_INVALID_ADDRESS), 'vmclear.pointer-beyond-address-width');
  });

  it('fails with VMfail(3) for the VMXON pointer', () => {
    expectOnly(inRoot(), vmclear(VMXON_0), failInvalid(), 'vmclear.vmxon-pointer');
    expectOnly(withCurrent(), vmclear(VMXON_0), failValid(VM_ERROR.VMCLEAR_VMXON_POINTER), 'vmclear.vmxon-pointer');
  });
});

describe('VMCLEAR effects', () => {
  it('succeeds on a region never used, without checking its revision identifier', () => {
    expectOnly(inRoot(), vmclear(VMCS_B), succeed(), 'vmclear.success');
  });

  it('makes the current VMCS not current: VMPTRST then stores FFFFFFFF_FFFFFFFFH and VMREAD fails with VMfailInvalid', () => {
    const cleared = expectOnly(withCurrent(), vmclear(VMCS_A), succeed(), 'vmclear.success');
    expectOnly(cleared, { kind: 'vmptrst', cpu: 0 }, succeed(0xffff_ffff_ffff_ffffn), 'vmptrst.success');
    expectOnly(cleared, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) }, failInvalid(), 'vmread.no-current-vmcs');
  });

  it('leaves the current VMCS current when clearing another one', () => {
    let state = loadVmcs(withCurrent(), VMCS_B);
    state = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    state = expectOnly(state, vmclear(VMCS_B), succeed(), 'vmclear.success');
    expectOnly(state, { kind: 'vmptrst', cpu: 0 }, succeed(VMCS_A), 'vmptrst.success');
  });

  it('writes the VMCS data to memory so the VMCS can move to another processor with its field values', () => {
    let state = write(withCurrent(), FIELD.GUEST_RSP, 0x7000n);
    state = expectOnly(state, vmclear(VMCS_A), succeed(), 'vmclear.success');
    state = enterVmx(state, 1);
    state = expectOnly(state, { kind: 'vmptrld', cpu: 1, pointer: hex(VMCS_A) }, succeed(), 'vmptrld.success');
    expectOnly(state, { kind: 'vmread', cpu: 1, encoding: hex(FIELD.GUEST_RSP) }, succeed(0x7000n), 'vmread.success');
  });

  it('is undefined for a VMCS active on another processor', () => {
    const state = enterVmx(withCurrent(), 1);
    expectUndefined(state, vmclear(VMCS_A, 1), 'vmclear.active-on-another-processor');
  });

  it('is undefined for the VMXON region of another processor in VMX operation', () => {
    const state = enterVmx(inRoot(), 1);
    expectUndefined(state, vmclear(VMXON_1, 0), 'vmclear.vmxon-region-of-another-processor');
  });

  it('does not touch the state when a check fails', () => {
    const state = withCurrent();
    const verdict = step(state, vmclear(VMXON_0));
    expect(verdict.kind).toBe('defined');
    expect(state.cpus[0]?.currentVmcs).toBe(VMCS_A);
  });
});
