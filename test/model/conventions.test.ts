/**
 * The success and failure conventions of the VMX instructions (SDM Vol. 3C, December 2023, §31.2
 * "Conventions"): VMsucceed clears CF, PF, AF, ZF, SF and OF; VMfailInvalid sets CF and clears the
 * others; VMfailValid sets ZF, clears the others and stores the error number in the current
 * VMCS; VMfail picks between the two by the current-VMCS pointer. Faults leave the flags alone.
 */
import { describe, it } from 'vitest';
import { FIELD } from '../../spec/fields.ts';
import { ALL_FLAGS, CF, expectOnly, failInvalid, failValid, gp, hex, inRoot, patchCpu, succeed, VMCS_A, withCurrent, ZF } from './helpers.ts';

const vmreadError = { kind: 'vmread', cpu: 0, encoding: hex(FIELD.VM_INSTRUCTION_ERROR) } as const;

describe('VMX instruction conventions', () => {
  it('VMsucceed clears all six arithmetic flags, whatever they were', () => {
    const state = patchCpu(withCurrent(), 0, { flags: ALL_FLAGS });
    const after = expectOnly(state, { kind: 'vmptrst', cpu: 0 }, succeed(VMCS_A), 'vmptrst.success');
    expectOnly(patchCpu(after, 0, { cpl: 3 }), { kind: 'vmptrst', cpu: 0 }, gp(0), 'vmptrst.gp-cpl');
  });

  it('VMfailInvalid sets CF and clears the other five', () => {
    const state = patchCpu(inRoot(), 0, { flags: ALL_FLAGS });
    const after = expectOnly(state, { kind: 'vmptrld', cpu: 0, pointer: hex(1) }, failInvalid(), 'vmptrld.pointer-not-aligned');
    expectOnly(patchCpu(after, 0, { cpl: 3 }), { kind: 'vmptrst', cpu: 0 }, gp(CF), 'vmptrst.gp-cpl');
  });

  it('VMfailValid sets ZF, clears the other five and stores the error number where VMREAD finds it', () => {
    const state = patchCpu(withCurrent(), 0, { flags: ALL_FLAGS });
    const after = expectOnly(state, { kind: 'vmclear', cpu: 0, pointer: hex(1) }, failValid(2), 'vmclear.pointer-not-aligned');
    expectOnly(patchCpu(after, 0, { cpl: 3 }), { kind: 'vmptrst', cpu: 0 }, gp(ZF), 'vmptrst.gp-cpl');
    expectOnly(after, vmreadError, succeed(2n), 'vmread.success');
  });

  it('a later VMfailValid overwrites the error number of an earlier one', () => {
    let state = expectOnly(withCurrent(), { kind: 'vmclear', cpu: 0, pointer: hex(1) }, failValid(2), 'vmclear.pointer-not-aligned');
    state = expectOnly(state, { kind: 'vmxon', cpu: 0, pointer: hex(0x1000) }, failValid(15), 'vmxon.in-vmx-root');
    expectOnly(state, vmreadError, succeed(15n), 'vmread.success');
  });
});
