/**
 * The exit information guest operations hand to the VM exit, from SDM Vol. 3C, December 2023,
 * §28.2.1 "Basic VM-Exit Information" (the exit-qualification tables for control-register
 * accesses, MOV DR, I/O instructions and debug exceptions; INVLPG's and a page fault's linear
 * address, bits 63:32 cleared outside 64-bit mode; the guest-linear address for LMSW with a memory
 * operand and for INS/OUTS; MWAIT's armed bit; cleared for every other exit), §28.2.2 "Information
 * for VM Exits Due to Vectored Events" (vector, type 3, error-code valid, valid; bit 12 undefined
 * for #DF and with "NMI exiting" but not "virtual NMIs"), and §28.2.5 "Information for VM Exits Due
 * to Instruction Execution" (instruction length for instruction exits, undefined for hardware
 * exceptions), with the encodings of spec/instruction-encodings.ts. `vmExitWith` is observed
 * through a spy, so these tests are not imported into rule-coverage.test.ts.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { step } from '../../../model/index.ts';
import type { ModelState } from '../../../model/index.ts';
import { vmExitWith } from '../../../model/vm-exit.ts';
import { PIN_CONTROL, PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import type { ExitInformation } from '../../../spec/exit-information.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import { core2, patchCpu } from '../helpers.ts';
import { bit, guestControls, guestWith, PROTECTED_32 } from './guest-setup.ts';

vi.mock('../../../model/vm-exit.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../model/vm-exit.ts')>();
  return { ...actual, vmExitWith: vi.fn(actual.vmExitWith) };
});

const spy = vi.mocked(vmExitWith);
beforeEach(() => {
  spy.mockClear();
});

/** Steps `op`, expects one VM exit with basic reason `reason`, and returns the exit information. */
function infoOf(state: ModelState, op: Operation, reason: number): ExitInformation {
  const verdict = step(state, op);
  expect(verdict.kind).toBe('defined');
  expect(verdict.kind === 'defined' ? verdict.branches.map((b) => b.expected) : []).toEqual([{ kind: 'vmexit', reason, flags: 0 }]);
  const info = spy.mock.lastCall?.[3];
  expect(info).toBeDefined();
  return info as ExitInformation;
}

describe('exit information of guest instructions', () => {
  it('CPUID: reason 10, qualification cleared, length 2', () => {
    expect(infoOf(guestWith(), { kind: 'cpuid', cpu: 0, eax: '0x1', ecx: '0x0' }, EXIT_REASON.CPUID)).toEqual({ reason: 10, qualification: 0n, instructionLength: 2 });
  });
  it('MOV CR4, R9 changing an owned bit: qualification 904H, length 4 (REX prefix)', () => {
    const state = guestWith([[FIELD.CR4_GUEST_HOST_MASK, 0x2000n], [FIELD.CR4_READ_SHADOW, 0x2000n]]);
    expect(infoOf(state, { kind: 'mov-cr4', cpu: 0, value: '0x20', gpr: 9 }, EXIT_REASON.CONTROL_REGISTER_ACCESS)).toEqual({ reason: 28, qualification: 0x904n, instructionLength: 4 });
  });
  it('MOV CR4, ECX in 32-bit mode: qualification 104H, length 3', () => {
    const state = guestWith([[FIELD.CR4_GUEST_HOST_MASK, 0x2000n], [FIELD.CR4_READ_SHADOW, 0x2000n]], PROTECTED_32);
    expect(infoOf(state, { kind: 'mov-cr4', cpu: 0, value: '0x20', gpr: 1 }, EXIT_REASON.CONTROL_REGISTER_ACCESS)).toMatchObject({ qualification: 0x104n, instructionLength: 3 });
  });
  it('MOV R10, CR3 with CR3-store exiting: qualification A13H (CR3, MOV from CR, R10), length 4', () => {
    const state = guestControls(bit(PRIMARY_CONTROL.CR3_STORE_EXITING));
    expect(infoOf(state, { kind: 'mov-from-cr', cpu: 0, cr: 3, gpr: 10 }, EXIT_REASON.CONTROL_REGISTER_ACCESS)).toMatchObject({ qualification: 0xa13n, instructionLength: 4 });
  });
  it('CLTS: qualification 20H (CR0, access type CLTS), length 2', () => {
    const state = guestWith([[FIELD.CR0_GUEST_HOST_MASK, 0x8n], [FIELD.CR0_READ_SHADOW, 0x8n]]);
    expect(infoOf(state, { kind: 'clts', cpu: 0 }, EXIT_REASON.CONTROL_REGISTER_ACCESS)).toMatchObject({ qualification: 0x20n, instructionLength: 2 });
  });
  it('LMSW [RBX] with source 1: qualification 10070H (LMSW, memory operand, data 1), guest-linear address, length 3', () => {
    const state = guestWith([[FIELD.CR0_GUEST_HOST_MASK, 0x1n], [FIELD.CR0_READ_SHADOW, 0n]]);
    const info = infoOf(state, { kind: 'lmsw', cpu: 0, value: '0x1', form: 'memory', address: '0x8000' }, EXIT_REASON.CONTROL_REGISTER_ACCESS);
    expect(info).toEqual({ reason: 28, qualification: 0x10070n, instructionLength: 3, guestLinearAddress: 0x8000n });
  });
  it('MOV DR: from DR7 to RAX is 17H, to DR3 from R12 is C03H with length 4', () => {
    const state = guestControls(bit(PRIMARY_CONTROL.MOV_DR_EXITING));
    expect(infoOf(state, { kind: 'mov-dr', cpu: 0, direction: 'from', dr: 7, gpr: 0 }, EXIT_REASON.MOV_DR)).toMatchObject({ qualification: 0x17n, instructionLength: 3 });
    expect(infoOf(state, { kind: 'mov-dr', cpu: 0, direction: 'to', dr: 3, gpr: 12, value: '0x0' }, EXIT_REASON.MOV_DR)).toMatchObject({ qualification: 0xc03n, instructionLength: 4 });
  });
  it('OUT 80H, AL: qualification 800040H (1 byte, OUT, immediate, port 80H), length 2', () => {
    const state = guestControls(bit(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING));
    expect(infoOf(state, { kind: 'io', cpu: 0, direction: 'out', port: 0x80, size: 1, immediate: true }, EXIT_REASON.IO_INSTRUCTION)).toEqual({
      reason: 30,
      qualification: 0x80_0040n,
      instructionLength: 2,
    });
  });
  it('IN AX, DX at 3F8H: qualification 3F80009H, length 2 (66H prefix)', () => {
    const state = guestControls(bit(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING));
    expect(infoOf(state, { kind: 'io', cpu: 0, direction: 'in', port: 0x3f8, size: 2 }, EXIT_REASON.IO_INSTRUCTION)).toMatchObject({ qualification: 0x3f8_0009n, instructionLength: 2 });
  });
  it('REP OUTSD at 3F8H: qualification 3F80033H, the string operand as guest-linear address, length 2, instruction information 64-bit DS', () => {
    const state = guestControls(bit(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING));
    const info = infoOf(state, { kind: 'io', cpu: 0, direction: 'out', port: 0x3f8, size: 4, string: true, rep: true, address: '0x9000' }, EXIT_REASON.IO_INSTRUCTION);
    expect(info).toMatchObject({ qualification: 0x3f8_0033n, instructionLength: 2, guestLinearAddress: 0x9000n, instructionInformation: 0x1_8100 });
    expect(info).toMatchObject({ instructionInformationUndefinedMask: 0xfffc_7c7f });
  });
  it('INSB in 32-bit mode: address size 32 (bits 9:7 = 1), segment undefined; without IA32_VMX_BASIC[54] no instruction information', () => {
    const ins = { kind: 'io', cpu: 0, direction: 'in', port: 0x60, size: 1, string: true, address: '0x100009000' } as const;
    const info = infoOf(guestControls(bit(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING), undefined, PROTECTED_32), ins, EXIT_REASON.IO_INSTRUCTION);
    expect(info).toMatchObject({ qualification: 0x60_0018n, instructionLength: 1, guestLinearAddress: 0x9000n, instructionInformation: 0x80 });
    expect(info).toMatchObject({ instructionInformationUndefinedMask: 0xffff_fc7f });
    const basic = BigInt(core2().data.msrs.IA32_VMX_BASIC);
    expect((basic >> 54n) & 1n).toBe(0n);
    const old = guestWith([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, bit(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING)]], {}, core2());
    expect(infoOf(old, ins, EXIT_REASON.IO_INSTRUCTION)).toEqual({ reason: 30, qualification: 0x60_0018n, instructionLength: 1, guestLinearAddress: 0x1_0000_9000n });
  });
  it('INVLPG in 32-bit mode: the linear address with bits 63:32 cleared, length 3', () => {
    const state = guestControls(bit(PRIMARY_CONTROL.INVLPG_EXITING), undefined, PROTECTED_32);
    expect(infoOf(state, { kind: 'invlpg', cpu: 0, address: '0x123456789' }, EXIT_REASON.INVLPG)).toMatchObject({ qualification: 0x2345_6789n, instructionLength: 3 });
  });
  it('RDMSR and PAUSE clear the qualification; MWAIT leaves it undefined (monitor state not tracked)', () => {
    expect(infoOf(guestControls(0n), { kind: 'rdmsr', cpu: 0, ecx: '0x10' }, EXIT_REASON.RDMSR)).toEqual({ reason: 31, qualification: 0n, instructionLength: 2 });
    expect(infoOf(guestControls(bit(PRIMARY_CONTROL.PAUSE_EXITING), 0n), { kind: 'pause', cpu: 0 }, EXIT_REASON.PAUSE)).toMatchObject({ qualification: 0n, instructionLength: 2 });
    expect(infoOf(guestControls(bit(PRIMARY_CONTROL.MWAIT_EXITING)), { kind: 'mwait', cpu: 0 }, EXIT_REASON.MWAIT)).toMatchObject({ qualification: undefined, instructionLength: 3 });
  });
});

describe('exit information of exceptions', () => {
  it('#PF: interruption information 80000B0EH, the error code, the faulting address as qualification, no instruction length', () => {
    const state = guestWith([[FIELD.EXCEPTION_BITMAP, bit(14)]]);
    const info = infoOf(state, { kind: 'exception', cpu: 0, vector: 14, errorCode: '0x2', address: '0xdead000' }, EXIT_REASON.EXCEPTION_OR_NMI);
    expect(info).toEqual({ reason: 0, qualification: 0xdead000n, interruptionInformation: 0x8000_0b0e, interruptionErrorCode: 2 });
  });
  it('#GP(0) of HLT at CPL 3 with bit 13 set: 80000B0DH, error code 0, qualification cleared', () => {
    const state = guestWith([[FIELD.EXCEPTION_BITMAP, bit(13)]], { cpl: 3 });
    expect(infoOf(state, { kind: 'hlt', cpu: 0 }, EXIT_REASON.EXCEPTION_OR_NMI)).toEqual({ reason: 0, qualification: 0n, interruptionInformation: 0x8000_0b0d, interruptionErrorCode: 0 });
  });
  it('#UD pushes no error code: 80000306H', () => {
    const state = guestWith([[FIELD.EXCEPTION_BITMAP, bit(6)]], { cpl: 3 });
    expect(infoOf(state, { kind: 'monitor', cpu: 0 }, EXIT_REASON.EXCEPTION_OR_NMI)).toEqual({ reason: 0, qualification: 0n, interruptionInformation: 0x8000_0306 });
  });
  it('#DB of MOV DR with DR7.GD: qualification BD (bit 13); #DB of an exception operation: undefined', () => {
    const state = patchCpu(guestWith([[FIELD.EXCEPTION_BITMAP, bit(1)]]), 0, { dr7: 0x2400n });
    expect(infoOf(state, { kind: 'mov-dr', cpu: 0, direction: 'from', dr: 0, gpr: 0 }, EXIT_REASON.EXCEPTION_OR_NMI)).toMatchObject({ qualification: 0x2000n, interruptionInformation: 0x8000_0301 });
    expect(infoOf(state, { kind: 'exception', cpu: 0, vector: 1 }, EXIT_REASON.EXCEPTION_OR_NMI)).toMatchObject({ qualification: undefined });
  });
  it('bit 12 undefined, so the interruption information is left undefined: #DF, and "NMI exiting" without "virtual NMIs"', () => {
    const doubleFault = guestWith([[FIELD.EXCEPTION_BITMAP, bit(8)]]);
    expect(infoOf(doubleFault, { kind: 'exception', cpu: 0, vector: 8, errorCode: '0x0' }, EXIT_REASON.EXCEPTION_OR_NMI)).toEqual({ reason: 0, qualification: 0n, interruptionInformation: undefined, interruptionErrorCode: 0 });
    const nmiExiting = guestWith([[FIELD.EXCEPTION_BITMAP, bit(6)], [FIELD.PIN_BASED_CONTROLS, bit(PIN_CONTROL.NMI_EXITING)]]);
    expect(infoOf(nmiExiting, { kind: 'exception', cpu: 0, vector: 6 }, EXIT_REASON.EXCEPTION_OR_NMI).interruptionInformation).toBeUndefined();
    const virtualNmis = guestWith([[FIELD.EXCEPTION_BITMAP, bit(6)], [FIELD.PIN_BASED_CONTROLS, bit(PIN_CONTROL.NMI_EXITING) | bit(PIN_CONTROL.VIRTUAL_NMIS)]]);
    expect(infoOf(virtualNmis, { kind: 'exception', cpu: 0, vector: 6 }, EXIT_REASON.EXCEPTION_OR_NMI).interruptionInformation).toBe(0x8000_0306);
  });
  it('a fault delivered in the guest is no VM exit', () => {
    step(guestWith(), { kind: 'exception', cpu: 0, vector: 6 });
    expect(spy).not.toHaveBeenCalled();
  });
});
