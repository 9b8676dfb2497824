/**
 * The exit information of the format-5 guest operations, from SDM Vol. 3C, December 2023, §28.2.1
 * "Basic VM-Exit Information" (the displacement of the memory operand, 0 for `[RBX]` and for a
 * register operand, for INVPCID, LGDT ... STR, XSAVES, XRSTORS, its bits above a 32-bit address
 * size undefined; cleared for RDRAND, RDSEED, GETSEC; WBNOINVD's qualification bit 0) and §28.2.5
 * "Information for VM Exits Due to Instruction Execution" (the instruction-information formats,
 * computed here by hand from the tables: `[RBX]` in DS is address size at bits 9:7, segment 3 at
 * 17:15, index invalid bit 22, base 3 at 26:23), with the lengths of spec/instruction-encodings.ts.
 * `vmExitWith` is observed through a spy, as in exit-information.test.ts.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { step } from '../../../model/index.ts';
import type { ModelState } from '../../../model/index.ts';
import { vmExitWith } from '../../../model/vm-exit.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import type { ExitInformation } from '../../../spec/exit-information.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import { patchCpu, withCurrent } from '../helpers.ts';
import { ACTIVATE_SECONDARY, bit, guestControls, guestWith, PROTECTED_32 } from './guest-setup.ts';

vi.mock('../../../model/vm-exit.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../model/vm-exit.ts')>();
  return { ...actual, vmExitWith: vi.fn(actual.vmExitWith) };
});

const spy = vi.mocked(vmExitWith);
beforeEach(() => {
  spy.mockClear();
});

function infoOf(state: ModelState, op: Operation, reason: number): ExitInformation {
  const verdict = step(state, op);
  expect(verdict.kind === 'defined' ? verdict.branches.map((b) => b.expected) : verdict).toEqual([{ kind: 'vmexit', reason, flags: 0 }]);
  return spy.mock.lastCall?.[3] as ExitInformation;
}

/** `[RBX]` in DS, no index, with a 64-bit (2) or 32-bit (1) address size. */
const RBX_DS_64 = (2 << 7) | (3 << 15) | (1 << 22) | (3 << 23);
const RBX_DS_32 = (1 << 7) | (3 << 15) | (1 << 22) | (3 << 23);
const DT = bit(SECONDARY_CONTROL.DESCRIPTOR_TABLE_EXITING);

describe('exit information of the format-5 guest operations', () => {
  it('RDRAND EDX: qualification cleared, length 3, destination 2 at bits 6:3 and operand size 1 (32-bit) at 12:11', () => {
    const info = infoOf(guestControls(0n, bit(SECONDARY_CONTROL.RDRAND_EXITING)), { kind: 'rdrand', cpu: 0, gpr: 2, size: 32 }, EXIT_REASON.RDRAND);
    expect(info).toMatchObject({ reason: 57, qualification: 0n, instructionLength: 3, instructionInformation: (2 << 3) | (1 << 11) });
  });
  it('RDSEED R9 64-bit: length 4 (REX), destination 9, operand size 2', () => {
    const info = infoOf(guestControls(0n, bit(SECONDARY_CONTROL.RDSEED_EXITING)), { kind: 'rdseed', cpu: 0, gpr: 9, size: 64 }, EXIT_REASON.RDSEED);
    expect(info).toMatchObject({ instructionLength: 4, instructionInformation: (9 << 3) | (2 << 11) });
  });
  it('INVPCID RCX, [RBX]: displacement 0, length 5, memory operand and Reg2 = 1 at bits 31:28', () => {
    const state = guestControls(bit(PRIMARY_CONTROL.INVLPG_EXITING), bit(SECONDARY_CONTROL.ENABLE_INVPCID));
    const info = infoOf(state, { kind: 'invpcid', cpu: 0, type: '0x1', descriptor: ['0x0', '0x0'] }, EXIT_REASON.INVPCID);
    expect(info).toMatchObject({ qualification: 0n, instructionLength: 5, instructionInformation: RBX_DS_64 | (1 << 28) });
  });
  it('SIDT [RBX]: identity 1 at bits 29:28; LGDT [EBX] outside 64-bit mode: operand size 32 (bit 11), identity 2, qualification bits 63:32 undefined', () => {
    expect(infoOf(guestControls(0n, DT), { kind: 'descriptor-table', cpu: 0, instruction: 'sidt' }, EXIT_REASON.GDTR_IDTR_ACCESS)).toMatchObject({
      qualification: 0n,
      instructionLength: 3,
      instructionInformation: RBX_DS_64 | (1 << 28),
    });
    const info = infoOf(guestControls(0n, DT, PROTECTED_32), { kind: 'descriptor-table', cpu: 0, instruction: 'lgdt', limit: '0x7f', base: '0x1000' }, EXIT_REASON.GDTR_IDTR_ACCESS);
    expect(info).toMatchObject({ instructionInformation: RBX_DS_32 | (1 << 11) | (2 << 28), qualificationUndefinedMask: 0xffff_ffff_0000_0000n });
  });
  it('STR R9W: Reg1 = 9, Mem/Reg = 1, identity 1, length 4 (REX); LTR [RBX]: identity 3', () => {
    expect(infoOf(guestControls(0n, DT), { kind: 'descriptor-table', cpu: 0, instruction: 'str', form: 'register', gpr: 9 }, EXIT_REASON.LDTR_TR_ACCESS)).toMatchObject({
      qualification: 0n,
      instructionLength: 4,
      instructionInformation: (9 << 3) | (1 << 10) | (1 << 28),
    });
    expect(infoOf(guestControls(0n, DT), { kind: 'descriptor-table', cpu: 0, instruction: 'ltr', selector: '0x40' }, EXIT_REASON.LDTR_TR_ACCESS)).toMatchObject({
      instructionInformation: RBX_DS_64 | (3 << 28),
    });
  });
  it('GETSEC: qualification cleared, length 2, no instruction information', () => {
    expect(infoOf(patchCpu(withCurrent(), 0, { vmx: 'non-root', cr4: 0x6020n }), { kind: 'getsec', cpu: 0 }, EXIT_REASON.GETSEC)).toEqual({ reason: 11, qualification: 0n, instructionLength: 2 });
  });
  it('XRSTORS [RBX]: length 3, the memory-operand format of VMCLEAR', () => {
    const state = patchCpu(
      guestWith([[FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS, ACTIVATE_SECONDARY], [FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS, bit(SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS)], [FIELD.XSS_EXITING_BITMAP, 0x100n]], { cr4: 0x42020n }),
      0,
      { msrs: new Map([[0xda0, 0x100n]]) },
    );
    expect(infoOf(state, { kind: 'xrstors', cpu: 0, mask: '0x100' }, EXIT_REASON.XRSTORS)).toMatchObject({ qualification: 0n, instructionLength: 3, instructionInformation: RBX_DS_64 });
  });
  it('WBNOINVD: length 3; its qualification open (WBNOINVD sets bit 0, a processor without it runs WBINVD); WBINVD clears it', () => {
    const state = guestControls(0n, bit(SECONDARY_CONTROL.WBINVD_EXITING));
    expect(infoOf(state, { kind: 'wbinvd', cpu: 0, variant: 'wbnoinvd' }, EXIT_REASON.WBINVD_OR_WBNOINVD)).toEqual({ reason: 54, qualification: undefined, instructionLength: 3 });
    expect(infoOf(state, { kind: 'wbinvd', cpu: 0 }, EXIT_REASON.WBINVD_OR_WBNOINVD)).toEqual({ reason: 54, qualification: 0n, instructionLength: 2 });
  });
});
