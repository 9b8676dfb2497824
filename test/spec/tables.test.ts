import { describe, expect, it } from 'vitest';
import { describeMsr, MSR, MSR_INFO, VMX_BASIC_RESERVED_MASK } from '../../spec/capability-msrs.ts';
import { CONTROL_SET_NAMES, CONTROL_SETS, controlName, default1Mask, knownControlMask } from '../../spec/controls.ts';
import { EXIT_REASON, EXIT_REASONS, exitReasonInfo } from '../../spec/exit-reasons.ts';
import { VM_ERROR, VM_ERRORS, vmErrorInfo } from '../../spec/errors.ts';

// Expectations from the SDM tables: Vol. 3C §31.4 Table 31-1, Vol. 3D Appendix C Table C-1,
// Vol. 3C §25.6-25.8, Vol. 3D Appendix A (December 2023).
describe('VM-instruction error numbers', () => {
  it('match Table 31-1 for spot checks', () => {
    expect(VM_ERROR.VMCALL_IN_VMX_ROOT).toBe(1);
    expect(VM_ERROR.VMLAUNCH_NON_CLEAR).toBe(4);
    expect(VM_ERROR.ENTRY_INVALID_CONTROLS).toBe(7);
    expect(VM_ERROR.VMPTRLD_INCORRECT_REVISION).toBe(11);
    expect(VM_ERROR.UNSUPPORTED_FIELD).toBe(12);
    expect(VM_ERROR.READ_ONLY_FIELD).toBe(13);
    expect(VM_ERROR.VMXON_IN_VMX_ROOT).toBe(15);
    expect(VM_ERROR.ENTRY_MOV_SS_BLOCKING).toBe(26);
    expect(VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND).toBe(28);
    expect(vmErrorInfo(12)?.meaning).toMatch(/VMREAD or VMWRITE of an unsupported VMCS component/);
  });

  it('leave 14, 21 and 27 unused, and agree with the named constants', () => {
    for (const unused of [0, 14, 21, 27, 29]) expect(vmErrorInfo(unused)).toBeUndefined();
    expect(VM_ERRORS).toHaveLength(Object.keys(VM_ERROR).length);
    for (const error of VM_ERRORS) expect(VM_ERROR[error.name]).toBe(error.number);
  });
});

describe('basic exit reasons', () => {
  it('match Table C-1 for spot checks', () => {
    expect(EXIT_REASON.VMCALL).toBe(18);
    expect(EXIT_REASON.VMCLEAR).toBe(19);
    expect(EXIT_REASON.VMLAUNCH).toBe(20);
    expect(EXIT_REASON.VMPTRLD).toBe(21);
    expect(EXIT_REASON.VMPTRST).toBe(22);
    expect(EXIT_REASON.VMREAD).toBe(23);
    expect(EXIT_REASON.VMRESUME).toBe(24);
    expect(EXIT_REASON.VMWRITE).toBe(25);
    expect(EXIT_REASON.VMXOFF).toBe(26);
    expect(EXIT_REASON.VMXON).toBe(27);
    expect(EXIT_REASON.INVEPT).toBe(50);
    expect(EXIT_REASON.INVVPID).toBe(53);
    expect(EXIT_REASON.VMFUNC).toBe(59);
    expect(exitReasonInfo(33)?.title).toBe('VM-entry failure due to invalid guest state');
  });

  it('mark exactly 33, 34 and 41 as VM-entry failures and leave 35, 38, 42, 71 unused', () => {
    expect(EXIT_REASONS.filter((r) => r.entryFailure).map((r) => r.number)).toEqual([33, 34, 41]);
    for (const unused of [35, 38, 42, 71, 78]) expect(exitReasonInfo(unused)).toBeUndefined();
    const numbers = EXIT_REASONS.map((r) => r.number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  });
});

describe('controls', () => {
  it('give the default1 classes of Appendix A.2', () => {
    expect(default1Mask('pin')).toBe(0x16n);
    expect(default1Mask('primary')).toBe(0x0401e172n);
    expect(default1Mask('exit')).toBe(0x36dffn);
    expect(default1Mask('entry')).toBe(0x11ffn);
    expect(default1Mask('secondary')).toBe(0n);
  });

  it('name control bits as the SDM tables do', () => {
    expect(controlName('primary', 31)).toBe('Activate secondary controls');
    expect(controlName('secondary', 5)).toBe('Enable VPID');
    expect(controlName('secondary', 29)).toBeUndefined();
    expect(controlName('vmfunc', 0)).toBe('EPTP switching');
    expect(knownControlMask('secondary-exit')).toBe(0n);
    expect(knownControlMask('pin')).toBe(0xffn);
  });

  it('list each set once, with bits in order and inside the set width', () => {
    expect(CONTROL_SET_NAMES).toHaveLength(Object.keys(CONTROL_SETS).length);
    for (const set of CONTROL_SET_NAMES) {
      const info = CONTROL_SETS[set];
      expect(info.set).toBe(set);
      const bits = info.bits.map((b) => b.bit);
      expect(bits).toEqual([...new Set(bits)].sort((a, b) => a - b));
      for (const bit of bits) expect(bit).toBeLessThan(info.width);
    }
  });
});

describe('capability MSRs', () => {
  it('have the addresses of Appendix A', () => {
    expect(MSR.IA32_VMX_BASIC).toBe(0x480);
    expect(MSR.IA32_VMX_VMCS_ENUM).toBe(0x48a);
    expect(MSR.IA32_VMX_TRUE_ENTRY_CTLS).toBe(0x490);
    expect(MSR.IA32_VMX_EXIT_CTLS2).toBe(0x493);
    expect(describeMsr('IA32_VMX_EPT_VPID_CAP')).toBe('IA32_VMX_EPT_VPID_CAP (48CH)');
    expect(describeMsr('IA32_FEATURE_CONTROL')).toBe('IA32_FEATURE_CONTROL (3AH)');
  });

  it('describe every MSR once, with its address', () => {
    expect(MSR_INFO.map((m) => m.name).sort()).toEqual(Object.keys(MSR).sort());
    for (const info of MSR_INFO) expect(info.address).toBe(MSR[info.name]);
  });

  it('reserve bits 47:45 and 63:57 of IA32_VMX_BASIC', () => {
    expect(VMX_BASIC_RESERVED_MASK).toBe(0xfe00_e000_0000_0000n);
  });
});
