/**
 * The exit information VMX instructions hand to the VM exit in VMX non-root operation: exit
 * reason (Vol. 3D Appendix C), exit qualification (SDM Vol. 3C, December 2023, §28.2.1 "Basic
 * VM-Exit Information"), instruction length and instruction information (§28.2.5 "Information
 * for VM Exits Due to Instruction Execution", its three format tables), for the operand
 * conventions of spec/instruction-encodings.ts. `vmExitWith` is observed through a spy, so these
 * tests hold whatever the VM exit then does with the information.
 *
 * Expected values, bit by bit from the tables:
 * - register VMREAD/VMWRITE: Reg1 (6:3) = RDX = 2, bit 10 = 1, Reg2 (31:28) = RCX = 1 → 10000410H;
 * - memory operand [RBX]/[EBX] in DS: address size (9:7) 2 in 64-bit mode / 1 otherwise, segment
 *   (17:15) DS = 3, index invalid (22) = 1, base (26:23) RBX = 3, base valid (27) = 0
 *   → 01C18100H (64-bit), 01C18080H (32-bit); VMREAD/VMWRITE and INVEPT/INVVPID add Reg2 = RCX.
 * Undefined bits (0 in the value, named in the mask): register VMREAD/VMWRITE: all but Reg1, bit
 * 10 and Reg2 → 0FFFFB87H; memory VMREAD/VMWRITE: bit 2, Reg1, 14:11, scaling and index (no index
 * register) → 003C787FH, as INVEPT/INVVPID (6:2, 14:11, scaling, index); VMCLEAR format: also
 * 31:28 → F03C787FH. The displacement qualification's bits 63:32 are undefined outside 64-bit mode.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { step } from '../../../model/index.ts';
import type { ModelState } from '../../../model/index.ts';
import { instructionInformationFor } from '../../../model/instructions/instruction-exit.ts';
import { vmExitWith } from '../../../model/vm-exit.ts';
import type { ExitInformation } from '../../../spec/exit-information.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import { exit, expectOnly, hex, patchCpu, store, ud } from '../helpers.ts';
import { ACTIVATE_SECONDARY, guest, shadowingGuest, VM_FUNCTIONS, VMREAD_BITMAP } from '../non-root-setup.ts';

vi.mock('../../../model/vm-exit.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../model/vm-exit.ts')>();
  return { ...actual, vmExitWith: vi.fn(actual.vmExitWith) };
});

const spy = vi.mocked(vmExitWith);
beforeEach(() => {
  spy.mockClear();
});

/** A guest with the controls the VMX instructions read known, VMCS shadowing off. */
const plainGuest = (): ModelState => guest({ primary: ACTIVATE_SECONDARY, secondary: VM_FUNCTIONS, vmFunctions: 1n });
/** `state` in 32-bit protected mode (IA32_EFER.LMA = 0, CS.L = 0). */
const protectedMode = (state: ModelState): ModelState => patchCpu(state, 0, { eferLma: 0, csL: 0 });

/** Steps `op`, expects the single VM exit `reason` by `ruleId`, and returns the exit information handed over. */
function exitInformation(state: ModelState, op: Operation, reason: number, ruleId: string): ExitInformation {
  expectOnly(state, op, exit(reason), ruleId);
  const info = spy.mock.lastCall?.[3];
  expect(info).toBeDefined();
  return info as ExitInformation;
}

const POINTER_64 = 0x01c1_8100;
const POINTER_32 = 0x01c1_8080;
const REG2_RCX = 0x1000_0000;

describe('exit information of VMX instructions in VMX non-root operation', () => {
  it('VMREAD, register form, 64-bit mode: reason 23, length 3, qualification 0, Reg1 = RDX, register, Reg2 = RCX', () => {
    const info = exitInformation(plainGuest(), { kind: 'vmread', cpu: 0, encoding: hex(0x4400) }, EXIT_REASON.VMREAD, 'vmread.vm-exit-shadowing-off');
    expect(info).toEqual({ reason: 23, qualification: 0n, instructionLength: 3, instructionInformation: 0x1000_0410, instructionInformationUndefinedMask: 0x0fff_fb87 });
  });

  it('VMREAD, memory form, 32-bit mode: [EBX] in DS with a 32-bit address size and Reg2 = RCX', () => {
    const op: Operation = { kind: 'vmread', cpu: 0, encoding: hex(0x4400), form: 'memory' };
    const info = exitInformation(protectedMode(plainGuest()), op, EXIT_REASON.VMREAD, 'vmread.vm-exit-shadowing-off');
    expect(info).toEqual({
      reason: 23,
      qualification: 0n,
      qualificationUndefinedMask: 0xffff_ffff_0000_0000n,
      instructionLength: 3,
      instructionInformation: POINTER_32 | REG2_RCX,
      instructionInformationUndefinedMask: 0x003c_787f,
    });
  });

  it('VMREAD exits for a set VMREAD-bitmap bit and for an encoding above bit 14, with the same information', () => {
    // Encoding 4400H: byte 880H of the bitmap, bit 0.
    const withBit = store(shadowingGuest(), VMREAD_BITMAP + 0x880n, 1);
    const bitmapSet = exitInformation(withBit, { kind: 'vmread', cpu: 0, encoding: hex(0x4400) }, EXIT_REASON.VMREAD, 'vmread.vm-exit-bitmap');
    expect(bitmapSet.instructionInformation).toBe(0x1000_0410);
    const high = exitInformation(shadowingGuest(), { kind: 'vmread', cpu: 0, encoding: hex(1n << 32n) }, EXIT_REASON.VMREAD, 'vmread.vm-exit-encoding-above-bit-14');
    expect(high).toEqual({ reason: 23, qualification: 0n, instructionLength: 3, instructionInformation: 0x1000_0410, instructionInformationUndefinedMask: 0x0fff_fb87 });
  });

  it('VMWRITE: reason 25 with the VMREAD/VMWRITE format (Reg1 = the value register RDX, Reg2 = the encoding register RCX)', () => {
    const op: Operation = { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RSP), value: hex(1) };
    expect(exitInformation(plainGuest(), op, EXIT_REASON.VMWRITE, 'vmwrite.vm-exit-shadowing-off')).toEqual({
      reason: 25,
      qualification: 0n,
      instructionLength: 3,
      instructionInformation: 0x1000_0410,
      instructionInformationUndefinedMask: 0x0fff_fb87,
    });
    const memory: Operation = { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RSP), value: hex(1), form: 'memory' };
    expect(exitInformation(plainGuest(), memory, EXIT_REASON.VMWRITE, 'vmwrite.vm-exit-shadowing-off').instructionInformation).toBe(POINTER_64 | REG2_RCX);
  });

  it('VMCLEAR, VMPTRLD, VMPTRST, VMXON: their reasons and lengths, the [RBX] format with bit 10 clear', () => {
    const pointer = hex(0x5000);
    const cases: Array<[Operation, number, number, string]> = [
      [{ kind: 'vmclear', cpu: 0, pointer }, EXIT_REASON.VMCLEAR, 4, 'vmclear.vm-exit'],
      [{ kind: 'vmptrld', cpu: 0, pointer }, EXIT_REASON.VMPTRLD, 3, 'vmptrld.vm-exit'],
      [{ kind: 'vmptrst', cpu: 0 }, EXIT_REASON.VMPTRST, 3, 'vmptrst.vm-exit'],
      [{ kind: 'vmxon', cpu: 0, pointer }, EXIT_REASON.VMXON, 4, 'vmxon.vm-exit'],
    ];
    for (const [op, reason, length, ruleId] of cases) {
      expect(exitInformation(plainGuest(), op, reason, ruleId)).toEqual({
        reason,
        qualification: 0n,
        instructionLength: length,
        instructionInformation: POINTER_64,
        instructionInformationUndefinedMask: 0xf03c_787f,
      });
      expect(exitInformation(protectedMode(plainGuest()), op, reason, ruleId).instructionInformation).toBe(POINTER_32);
    }
  });

  it('INVEPT and INVVPID: reasons 50 and 53, length 5, the [RBX] format with Reg2 = the type register RCX', () => {
    const descriptor: [string, string] = [hex(0), hex(0)];
    const invept = exitInformation(plainGuest(), { kind: 'invept', cpu: 0, type: hex(1), descriptor }, EXIT_REASON.INVEPT, 'invept.vm-exit');
    expect(invept).toEqual({ reason: 50, qualification: 0n, instructionLength: 5, instructionInformation: POINTER_64 | REG2_RCX, instructionInformationUndefinedMask: 0x003c_787f });
    const invvpid = exitInformation(protectedMode(plainGuest()), { kind: 'invvpid', cpu: 0, type: hex(1), descriptor }, EXIT_REASON.INVVPID, 'invvpid.vm-exit');
    expect(invvpid).toEqual({
      reason: 53,
      qualification: 0n,
      qualificationUndefinedMask: 0xffff_ffff_0000_0000n,
      instructionLength: 5,
      instructionInformation: POINTER_32 | REG2_RCX,
      instructionInformationUndefinedMask: 0x003c_787f,
    });
  });

  it('VMCALL, VMLAUNCH, VMRESUME, VMXOFF, VMFUNC: length 3, qualification cleared, no instruction information', () => {
    const cases: Array<[Operation, number, string]> = [
      [{ kind: 'vmcall', cpu: 0 }, EXIT_REASON.VMCALL, 'vmcall.vm-exit'],
      [{ kind: 'vmlaunch', cpu: 0 }, EXIT_REASON.VMLAUNCH, 'vmentry.vm-exit'],
      [{ kind: 'vmresume', cpu: 0 }, EXIT_REASON.VMRESUME, 'vmentry.vm-exit'],
      [{ kind: 'vmxoff', cpu: 0 }, EXIT_REASON.VMXOFF, 'vmxoff.vm-exit'],
      [{ kind: 'vmfunc', cpu: 0, eax: hex(1), ecx: hex(0) }, EXIT_REASON.VMFUNC, 'vmfunc.vm-exit-function-disabled'],
    ];
    for (const [op, reason, ruleId] of cases) {
      expect(exitInformation(plainGuest(), op, reason, ruleId)).toEqual({ reason, qualification: 0n, instructionLength: 3 });
    }
  });

  it('VMCALL exits in every mode of the guest, even real-address mode, where the other VMX instructions raise #UD', () => {
    const realMode = patchCpu(plainGuest(), 0, { cr0: 0x10n, eferLma: 0, csL: 0 });
    expect(exitInformation(realMode, { kind: 'vmcall', cpu: 0 }, EXIT_REASON.VMCALL, 'vmcall.vm-exit')).toEqual({ reason: 18, qualification: 0n, instructionLength: 3 });
    spy.mockClear();
    expectOnly(realMode, { kind: 'vmread', cpu: 0, encoding: hex(0x4400) }, ud(), 'vmread.ud-real-mode');
    expectOnly(realMode, { kind: 'vmclear', cpu: 0, pointer: hex(0x5000) }, ud(), 'vmclear.ud-real-mode');
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('#UD before the VM exit, and no #GP before it', () => {
  it('a guest in compatibility mode gets #UD for VMREAD, VMWRITE, VMPTRLD, VMLAUNCH, INVEPT, and no exit', () => {
    const compatibility = patchCpu(plainGuest(), 0, { csL: 0 });
    expectOnly(compatibility, { kind: 'vmread', cpu: 0, encoding: hex(0x4400) }, ud(), 'vmread.ud-compatibility-mode');
    expectOnly(compatibility, { kind: 'vmwrite', cpu: 0, encoding: hex(0x4400), value: hex(0) }, ud(), 'vmwrite.ud-compatibility-mode');
    expectOnly(compatibility, { kind: 'vmptrld', cpu: 0, pointer: hex(0x5000) }, ud(), 'vmptrld.ud-compatibility-mode');
    expectOnly(compatibility, { kind: 'vmlaunch', cpu: 0 }, ud(), 'vmentry.ud-compatibility-mode');
    expectOnly(compatibility, { kind: 'invept', cpu: 0, type: hex(1), descriptor: [hex(0), hex(0)] }, ud(), 'invept.ud-compatibility-mode');
    expect(spy).not.toHaveBeenCalled();
  });

  it('a guest in virtual-8086 mode gets #UD for VMXOFF and VMPTRST', () => {
    const v86 = patchCpu(plainGuest(), 0, { rflagsVm: 1, eferLma: 0, csL: 0 });
    expectOnly(v86, { kind: 'vmxoff', cpu: 0 }, ud(), 'vmxoff.ud-virtual-8086');
    expectOnly(v86, { kind: 'vmptrst', cpu: 0 }, ud(), 'vmptrst.ud-virtual-8086');
    expect(spy).not.toHaveBeenCalled();
  });

  it('VMXON with a register operand, or with the guest\'s CR4.VMXE clear, is #UD, not a VM exit', () => {
    expectOnly(plainGuest(), { kind: 'vmxon', cpu: 0, pointer: hex(0x5000), form: 'register' }, ud(), 'vmxon.ud-register-operand');
    expectOnly(patchCpu(plainGuest(), 0, { cr4: 0n }), { kind: 'vmxon', cpu: 0, pointer: hex(0x5000) }, ud(), 'vmxon.ud-cr4-vmxe-clear');
    expect(spy).not.toHaveBeenCalled();
  });

  it('at CPL 3 the VMX instructions exit: the Operation sections test VMX non-root operation before the CPL', () => {
    const user = patchCpu(plainGuest(), 0, { cpl: 3 });
    expectOnly(user, { kind: 'vmclear', cpu: 0, pointer: hex(0x5000) }, exit(EXIT_REASON.VMCLEAR), 'vmclear.vm-exit');
    expectOnly(user, { kind: 'vmread', cpu: 0, encoding: hex(0x4400) }, exit(EXIT_REASON.VMREAD), 'vmread.vm-exit-shadowing-off');
    expectOnly(user, { kind: 'vmxon', cpu: 0, pointer: hex(0x5000) }, exit(EXIT_REASON.VMXON), 'vmxon.vm-exit');
  });
});

describe('undefined bits of the instruction information', () => {
  it('register VMREAD/VMWRITE: only Reg1, bit 10 and Reg2 defined; bit 2, 14:11 and every memory part undefined', () => {
    const info = instructionInformationFor({ format: 'vmread-vmwrite', form: 'register' }, true);
    expect(info).toEqual({ value: 0x1000_0410, undefinedMask: 0x0fff_fb87 });
  });

  it('memory VMREAD/VMWRITE: Reg1, bit 2, 14:11, and scaling and index (no index register) undefined', () => {
    expect(instructionInformationFor({ format: 'vmread-vmwrite', form: 'memory' }, true)?.undefinedMask).toBe(0x003c_787f);
  });

  it('VMCLEAR format: 6:2, 14:11 and 31:28 undefined; INVEPT format: 6:2 and 14:11 undefined, Reg2 defined; none for VMCALL', () => {
    expect(instructionInformationFor({ format: 'pointer' }, false)).toEqual({ value: POINTER_32, undefinedMask: 0xf03c_787f });
    expect(instructionInformationFor({ format: 'invalidation' }, true)).toEqual({ value: POINTER_64 | REG2_RCX, undefinedMask: 0x003c_787f });
    expect(instructionInformationFor({ format: 'none' }, true)).toBeUndefined();
  });
});

describe('the spy sees what step computes', () => {
  it('step returns the exit the spy recorded', () => {
    const verdict = step(plainGuest(), { kind: 'vmcall', cpu: 0 });
    expect(verdict).toMatchObject({ kind: 'defined', branches: [{ expected: { kind: 'vmexit', reason: EXIT_REASON.VMCALL } }] });
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
