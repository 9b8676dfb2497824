/** VMPTRST—Store Pointer to Virtual-Machine Control Structure (SDM Vol. 3C, December 2023, §31.3). */
import { describe, it } from 'vitest';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { CF, exit, expectOnly, fresh, gp, inRoot, patchCpu, succeed, ud, VMCS_A, withCurrent } from './helpers.ts';

const vmptrst = (cpu = 0, form?: 'register' | 'memory') => ({ kind: 'vmptrst', cpu, ...(form ? { form } : {}) }) as const;

describe('VMPTRST', () => {
  it('raises #UD for a register operand', () => {
    expectOnly(inRoot(), vmptrst(0, 'register'), ud(), 'vmptrst.ud-register-operand');
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
