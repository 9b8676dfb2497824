/** VMPTRST—Store Pointer to Virtual-Machine Control Structure (SDM Vol. 3C, December 2023, §31.3). */
import { describe, expect, it } from 'vitest';
import { step } from '../../model/index.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { CF, exit, expectOnly, fresh, gp, inRoot, patchCpu, succeed, ud, VMCS_A, withCurrent } from './helpers.ts';

/** The state on a processor without RDRAND and RDSEED, whose register forms of 0F C7 /6 and /7 are then #UD. */
const withoutRandom = <S extends { profile: { cpuid: object } }>(state: S): S => ({ ...state, profile: { ...state.profile, cpuid: { ...state.profile.cpuid, rdrand: false, rdseed: false } } });

const vmptrst = (cpu = 0, form?: 'register' | 'memory') => ({ kind: 'vmptrst', cpu, ...(form ? { form } : {}) }) as const;

describe('VMPTRST', () => {
  it('executes the register form as RDSEED r32 (0F C7 /7, mod = 11b) on a processor that has it: CF = 1 with any value, or CF = 0 with 0 (Vol. 2B page)', () => {
    const verdict = step(inRoot(), vmptrst(0, 'register'));
    expect(verdict.kind).toBe('defined');
    if (verdict.kind !== 'defined') return;
    expect(verdict.branches.map((b) => b.expected)).toEqual([
      { kind: 'ok', flags: 1 },
      { kind: 'ok', flags: 0, value: '0x0' },
    ]);
  });

  it('raises #UD for a register operand', () => {
    expectOnly(withoutRandom(inRoot()), vmptrst(0, 'register'), ud(), 'vmptrst.ud-register-operand');
  });

  it('raises #UD outside VMX operation and in real-address, virtual-8086 and compatibility mode', () => {
    expectOnly(fresh(), vmptrst(), ud(), 'vmptrst.ud-outside-vmx');
    expectOnly(patchCpu(inRoot(), 0, { cr0: 0n }), vmptrst(), ud(), 'vmptrst.ud-real-mode');
    expectOnly(patchCpu(inRoot(), 0, { rflagsVm: 1, flags: CF }), vmptrst(), ud(CF), 'vmptrst.ud-virtual-8086');
    expectOnly(patchCpu(inRoot(), 0, { csL: 0 }), vmptrst(), ud(), 'vmptrst.ud-compatibility-mode');
  });

  it('causes a VM exit in VMX non-root operation', () => {
    expectOnly(patchCpu(withCurrent(), 0, { vmx: 'non-root' }), vmptrst(), exit(EXIT_REASON.VMPTRST), 'vmptrst.vm-exit');
  });

  it('raises #GP(0) when CPL > 0', () => {
    expectOnly(patchCpu(inRoot(), 0, { cpl: 1 }), vmptrst(), gp(), 'vmptrst.gp-cpl');
  });

  it('stores FFFFFFFF_FFFFFFFFH without a current VMCS and the VMCS address with one; VMsucceed either way', () => {
    expectOnly(inRoot(), vmptrst(), succeed(0xffff_ffff_ffff_ffffn), 'vmptrst.success');
    expectOnly(withCurrent(), vmptrst(), succeed(VMCS_A), 'vmptrst.success');
  });
});
