/**
 * VMPTRLD—Load Pointer to Virtual-Machine Control Structure (SDM Vol. 3C, December 2023, §31.3)
 * with §25.1 "Overview", §25.10 "VMCS Types: Ordinary and Shadow" and §25.11.1.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import {
  core2,
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
  layRegion,
  loadVmcs,
  patchCpu,
  skylake,
  store,
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

const vmptrld = (pointer: bigint, cpu = 0, form?: 'register' | 'memory') =>
  ({ kind: 'vmptrld', cpu, pointer: hex(pointer), ...(form ? { form } : {}) }) as const;

describe('VMPTRLD checks', () => {
  it('executes the register form as RDRAND r32 (0F C7 /6, mod = 11b) on a processor that has it: CF = 1 with any value, or CF = 0 with 0 (Vol. 2B page)', () => {
    const verdict = step(inRoot(), vmptrld(VMCS_A, 0, 'register'));
    expect(verdict.kind).toBe('defined');
    if (verdict.kind !== 'defined') return;
    expect(verdict.branches.map((b) => b.expected)).toEqual([
      { kind: 'ok', flags: 1 },
      { kind: 'ok', flags: 0, value: '0x0' },
    ]);
  });

  it('raises #UD for a register operand, outside VMX operation and in real-address, virtual-8086 and compatibility mode', () => {
    expectOnly(withoutRandom(inRoot()), vmptrld(VMCS_A, 0, 'register'), ud(), 'vmptrld.ud-register-operand');
    expectOnly(fresh(), vmptrld(VMCS_A), ud(), 'vmptrld.ud-outside-vmx');
    expectOnly(patchCpu(inRoot(), 0, { cr0: 0x20n }), vmptrld(VMCS_A), ud(), 'vmptrld.ud-real-mode');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1 }), vmptrld(VMCS_A), ud(), 'vmptrld.ud-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), vmptrld(VMCS_A), ud(), 'vmptrld.ud-compatibility-mode');
  });

  it('causes a VM exit in VMX non-root operation', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), vmptrld(VMCS_B), exit(EXIT_REASON.VMPTRLD), 'vmptrld.vm-exit');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 3 }), vmptrld(VMCS_A), gp(), 'vmptrld.gp-cpl');
  });

  it('fails with VMfail(9) for an unaligned pointer or one beyond the physical-address width', () => {
    expectOnly(inRoot(), vmptrld(VMCS_A | 0x10n), failInvalid(), 'vmptrld.pointer-not-aligned');
    expectOnly(withCurrent(), vmptrld(VMCS_A | 0x10n), failValid(VM_ERROR.VMPTRLD_INVALID_ADDRESS), 'vmptrld.pointer-not-aligned');
    const beyond = 1n << BigInt(skylake().pointerWidth);
    expectOnly(inRoot(), vmptrld(beyond), failInvalid(), 'vmptrld.pointer-beyond-address-width');
  });

  it('fails with VMfail(10) for the VMXON pointer', () => {
    expectOnly(inRoot(), vmptrld(VMXON_0), failInvalid(), 'vmptrld.vmxon-pointer');
  });

  it('writes a failing VMPTRLD\'s error into the VMCS that was current before it', () => {
    const after = expectOnly(withCurrent(), vmptrld(VMXON_0), failValid(VM_ERROR.VMPTRLD_VMXON_POINTER), 'vmptrld.vmxon-pointer');
    expectOnly(after, { kind: 'vmptrst', cpu: 0 }, succeed(VMCS_A), 'vmptrst.success');
    expectOnly(after, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.VM_INSTRUCTION_ERROR) }, succeed(10n), 'vmread.success');
  });

  it('fails with VMfail(11) when the region does not hold the revision identifier', () => {
    expectOnly(inRoot(), vmptrld(VMCS_B), failInvalid(), 'vmptrld.revision-mismatch');
    const wrong = store(withCurrent(), VMCS_B, skylake().revisionId ^ 1);
    expectOnly(wrong, vmptrld(VMCS_B), failValid(VM_ERROR.VMPTRLD_INCORRECT_REVISION), 'vmptrld.revision-mismatch');
  });

  it('fails with VMfail(11) for a shadow VMCS on a processor without VMCS shadowing', () => {
    const state = layRegion(enterVmx(fresh(core2())), VMCS_A, true);
    expectOnly(state, vmptrld(VMCS_A), failInvalid(), 'vmptrld.shadow-vmcs-unsupported');
  });

  it('accepts a shadow VMCS on a processor with VMCS shadowing', () => {
    const state = layRegion(inRoot(skylake()), VMCS_A, true);
    expectOnly(state, vmptrld(VMCS_A), succeed(), 'vmptrld.success');
  });

  it('accepts a region that was never VMCLEARed; its fields are then unknown', () => {
    const state = expectOnly(layRegion(inRoot(), VMCS_A), vmptrld(VMCS_A), succeed(), 'vmptrld.success');
    const verdict = step(state, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) });
    expect(verdict).toMatchObject({ kind: 'defined', branches: [{ expected: { value: { kind: 'any' } } }] });
  });
});

describe('VMPTRLD effects', () => {
  it('makes the VMCS current (VMPTRST stores its address) while the previous one stays active with its fields', () => {
    let state = write(withCurrent(), FIELD.GUEST_RIP, 0x1111n);
    state = loadVmcs(state, VMCS_B);
    expectOnly(state, { kind: 'vmptrst', cpu: 0 }, succeed(VMCS_B), 'vmptrst.success');
    state = write(state, FIELD.GUEST_RIP, 0x2222n);
    state = expectOnly(state, vmptrld(VMCS_A), succeed(), 'vmptrld.success');
    expectOnly(state, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) }, succeed(0x1111n), 'vmread.success');
    state = expectOnly(state, vmptrld(VMCS_B), succeed(), 'vmptrld.success');
    expectOnly(state, { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) }, succeed(0x2222n), 'vmread.success');
  });

  it('is undefined for a VMCS active on another processor', () => {
    const state = enterVmx(withCurrent(), 1);
    expectUndefined(state, vmptrld(VMCS_A, 1), 'vmptrld.active-on-another-processor');
  });

  it('is undefined for the VMXON region of another processor in VMX operation', () => {
    const state = enterVmx(inRoot(), 1);
    expectUndefined(state, vmptrld(VMXON_1, 0), 'vmptrld.vmxon-region-of-another-processor');
  });
});
