/**
 * The exit information of the VM exits the VMX instructions cause in VMX non-root operation,
 * read back by the host with VMREAD after the exit. Expected values from SDM Vol. 3C, December
 * 2023: §28.2.1 "Basic VM-Exit Information" (exit qualification: the displacement of the memory
 * operand, 0 without one; cleared otherwise), §28.2.5 "Information for VM Exits Due to
 * Instruction Execution" (instruction length; the instruction-information formats for VMCLEAR,
 * VMPTRLD, VMPTRST, VMXON; for VMREAD and VMWRITE; for INVEPT, INVPCID and INVVPID), Appendix C
 * (basic exit reasons), with the encodings of spec/instruction-encodings.ts (Vol. 2 opcode
 * tables): VMXON F3 0F C7 /6 and VMCLEAR 66 0F C7 /6 are 4 bytes, INVEPT/INVVPID 66 0F 38 8x /r
 * 5 bytes, the others 3; memory operand [RBX] in DS, VMREAD/VMWRITE encoding in RCX and value in
 * RDX, INVEPT/INVVPID type in RCX.
 */
import { describe, expect, it } from 'vitest';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import type { Operation } from '../../../spec/operations.ts';
import { fillVmxExitInfo, VMX_EXIT_VMCALL, VMX_EXIT_VMREAD, VMX_EXIT_VMXON } from '../../../impl/non-root/vmx-exit-info.ts';
import { EXIT_INFO_INSTRUCTION_INFORMATION, EXIT_INFO_INSTRUCTION_LENGTH, EXIT_INFO_QUALIFICATION, ExitInfo } from '../../../impl/vm-exit/exit-info.ts';
import { CORE2, SKYLAKE, UD, variant } from '../fixtures.ts';
import { COMPATIBILITY, exit, exitInformation, guest, SIXTY_FOUR } from './vmx-rig.ts';

/**
 * Instruction information assembled from the fields of the SDM's tables: scaling 1:0, reg1 6:3,
 * address size 9:7 (0 16-bit, 1 32-bit, 2 64-bit), mem/reg 10, segment 17:15 (DS = 3), index
 * 21:18, index invalid 22, base 26:23 (RBX = 3), base invalid 27, reg2 31:28 (RCX = 1, RDX = 2).
 */
const MEMORY_64 = (2 << 7) | (3 << 15) | (1 << 22) | (3 << 23); // [RBX], DS, no index, 64-bit addresses
const MEMORY_32 = (1 << 7) | (3 << 15) | (1 << 22) | (3 << 23); // [EBX] outside 64-bit mode
const REG2_RCX = 1 << 28;

/** Skylake without RDRAND and RDSEED, whose register forms of VMCLEAR/VMPTRLD/VMPTRST keep their #UD. */
const NO_RANDOM = variant(SKYLAKE, 'skylake-without-rdrand', { cpuid: { rdrand: false, rdseed: false } });

const vmread: Operation = { kind: 'vmread', cpu: 0, encoding: '0x4400' };
const vmwrite: Operation = { kind: 'vmwrite', cpu: 0, encoding: '0x681e', value: '0x1234' };
const invept: Operation = { kind: 'invept', cpu: 0, type: '0x1', descriptor: ['0x5e', '0x0'] };
const invvpid: Operation = { kind: 'invvpid', cpu: 0, type: '0x1', descriptor: ['0x1', '0x0'] };

describe('exit information of a guest VMREAD and VMWRITE', () => {
  it('VMREAD of 4400H, register form, 64-bit mode: exit 23, length 3, reg2 = RCX, register, reg1 = RDX, address size 64', () => {
    const rig = guest({ changes: SIXTY_FOUR });
    expect(rig.step(vmread)).toEqual(exit(EXIT_REASON.VMREAD));
    // 0x10000510: bits 31:28 = 1 (RCX), bit 10 = 1, bits 9:7 = 2, bits 6:3 = 2 (RDX).
    expect(exitInformation(rig)).toEqual({ reason: 23n, qualification: 0n, length: 3n, information: 0x1000_0510n });
  });

  it('VMREAD, memory form, 64-bit mode: base RBX, no index, DS, address size 64, reg2 = RCX', () => {
    const rig = guest({ changes: SIXTY_FOUR });
    expect(rig.step({ ...vmread, form: 'memory' })).toEqual(exit(EXIT_REASON.VMREAD));
    expect(exitInformation(rig)).toEqual({ reason: 23n, qualification: 0n, length: 3n, information: BigInt(MEMORY_64 | REG2_RCX) });
  });

  it('on a processor without VMCS shadowing (Core 2: no secondary controls) VMREAD exits', () => {
    const rig = guest({ profile: CORE2, changes: SIXTY_FOUR });
    expect(rig.step(vmread)).toEqual(exit(EXIT_REASON.VMREAD));
    expect(exitInformation(rig)).toEqual({ reason: 23n, qualification: 0n, length: 3n, information: 0x1000_0510n });
  });

  it('VMWRITE, register form, 32-bit protected mode: exit 25, address size 32', () => {
    const rig = guest();
    expect(rig.step(vmwrite)).toEqual(exit(EXIT_REASON.VMWRITE));
    // bits 31:28 = 1 (RCX, the encoding), bit 10, bits 9:7 = 1, bits 6:3 = 2 (RDX, the value).
    expect(exitInformation(rig)).toEqual({ reason: 25n, qualification: 0n, length: 3n, information: 0x1000_0490n });
  });

  it('VMWRITE, memory form, 32-bit protected mode: [EBX] in DS, address size 32', () => {
    const rig = guest();
    expect(rig.step({ ...vmwrite, form: 'memory' })).toEqual(exit(EXIT_REASON.VMWRITE));
    expect(exitInformation(rig)).toEqual({ reason: 25n, qualification: 0n, length: 3n, information: BigInt(MEMORY_32 | REG2_RCX) });
  });
});

describe('exit information of VMCLEAR, VMPTRLD, VMPTRST, VMXON, INVEPT and INVVPID in the guest', () => {
  const cases: [string, Operation, number, bigint, number][] = [
    ['VMCLEAR', { kind: 'vmclear', cpu: 0, pointer: '0x3000' }, EXIT_REASON.VMCLEAR, 4n, 0],
    ['VMPTRLD', { kind: 'vmptrld', cpu: 0, pointer: '0x3000' }, EXIT_REASON.VMPTRLD, 3n, 0],
    ['VMPTRST', { kind: 'vmptrst', cpu: 0 }, EXIT_REASON.VMPTRST, 3n, 0],
    ['VMXON', { kind: 'vmxon', cpu: 0, pointer: '0x1000' }, EXIT_REASON.VMXON, 4n, 0],
    ['INVEPT', invept, EXIT_REASON.INVEPT, 5n, REG2_RCX],
    ['INVVPID', invvpid, EXIT_REASON.INVVPID, 5n, REG2_RCX],
  ];
  for (const [name, op, reason, length, reg2] of cases) {
    it(`${name}: exit ${reason}, length ${length}, memory operand [RBX] in DS (bit 10 clear), qualification 0`, () => {
      const sixtyFour = guest({ changes: SIXTY_FOUR });
      expect(sixtyFour.step(op)).toEqual(exit(reason));
      expect(exitInformation(sixtyFour)).toEqual({ reason: BigInt(reason), qualification: 0n, length, information: BigInt(MEMORY_64 | reg2) });
      const protectedMode = guest();
      expect(protectedMode.step(op)).toEqual(exit(reason));
      expect(exitInformation(protectedMode)).toEqual({ reason: BigInt(reason), qualification: 0n, length, information: BigInt(MEMORY_32 | reg2) });
    });
  }
});

describe('exit information of VMCALL, VMLAUNCH, VMRESUME, VMXOFF and VMFUNC in the guest', () => {
  const cases: [string, Operation, number][] = [
    ['VMCALL', { kind: 'vmcall', cpu: 0 }, EXIT_REASON.VMCALL],
    ['VMLAUNCH', { kind: 'vmlaunch', cpu: 0 }, EXIT_REASON.VMLAUNCH],
    ['VMRESUME', { kind: 'vmresume', cpu: 0 }, EXIT_REASON.VMRESUME],
    ['VMXOFF', { kind: 'vmxoff', cpu: 0 }, EXIT_REASON.VMXOFF],
  ];
  for (const [name, op, reason] of cases) {
    it(`${name}: exit ${reason}, length 3 (0F 01 Cx), qualification cleared`, () => {
      const rig = guest({ changes: SIXTY_FOUR });
      expect(rig.step(op)).toEqual(exit(reason));
      const seen = exitInformation(rig);
      // The instruction information is undefined for these exits: not compared.
      expect([seen.reason, seen.qualification, seen.length]).toEqual([BigInt(reason), 0n, 3n]);
    });
  }
});

describe('the #UD checks that precede the VM exit', () => {
  const exiting: Operation[] = [
    vmread,
    vmwrite,
    { kind: 'vmclear', cpu: 0, pointer: '0x3000' },
    { kind: 'vmptrld', cpu: 0, pointer: '0x3000' },
    { kind: 'vmptrst', cpu: 0 },
    { kind: 'vmxon', cpu: 0, pointer: '0x1000' },
    { kind: 'vmlaunch', cpu: 0 },
    { kind: 'vmresume', cpu: 0 },
    { kind: 'vmxoff', cpu: 0 },
    invept,
    invvpid,
  ];

  it('compatibility mode: #UD for every VMX instruction but VMCALL, which exits', () => {
    for (const op of exiting) {
      const rig = guest({ changes: COMPATIBILITY });
      expect(rig.step(op), op.kind).toEqual(UD());
    }
    const rig = guest({ changes: COMPATIBILITY });
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(exit(EXIT_REASON.VMCALL));
  });

  it('virtual-8086 mode (RFLAGS.VM = 1, set directly in the guest): #UD for every VMX instruction but VMCALL, which exits', () => {
    // #UD exits through the exception bitmap: its delivery in virtual-8086 mode is not modelled.
    for (const op of exiting) {
      const rig = guest({ changes: { EXCEPTION_BITMAP: () => 1n << 6n } });
      rig.set('rflags.vm', 1);
      expect(rig.step(op), op.kind).toEqual(exit(EXIT_REASON.EXCEPTION_OR_NMI));
    }
    const delivered = guest();
    delivered.set('rflags.vm', 1);
    expect(delivered.step(exiting[0] as Operation)).toMatchObject({ kind: 'unimplemented', what: 'event delivery in virtual-8086 mode' });
    const rig = guest();
    rig.set('rflags.vm', 1);
    expect(rig.step({ kind: 'vmcall', cpu: 0 })).toEqual(exit(EXIT_REASON.VMCALL));
  });

  it('a register operand where the instruction takes only memory (ModRM.mod = 11b): #UD, no exit (processor without RDRAND/RDSEED)', () => {
    const registerForms: Operation[] = [
      { kind: 'vmxon', cpu: 0, pointer: '0x1000', form: 'register' },
      { kind: 'vmclear', cpu: 0, pointer: '0x3000', form: 'register' },
      { kind: 'vmptrld', cpu: 0, pointer: '0x3000', form: 'register' },
      { kind: 'vmptrst', cpu: 0, form: 'register' },
      { ...invept, form: 'register' } as Operation,
      { ...invvpid, form: 'register' } as Operation,
    ];
    for (const op of registerForms) {
      const rig = guest({ changes: SIXTY_FOUR, profile: NO_RANDOM });
      expect(rig.step(op), op.kind).toEqual(UD());
      expect(rig.engine.machine.inVmxNonRoot(0)).toBe(true);
    }
  });

  it('the exit comes before the CPL check: a guest at CPL 3 exits', () => {
    for (const op of exiting) {
      const rig = guest({ changes: SIXTY_FOUR });
      rig.set('cpl', 3);
      expect(rig.step(op).kind, op.kind).toBe('vmexit');
    }
  });
});

describe('the exit information of one exit does not leak into the next', () => {
  it('a VMCLEAR exit after a VMREAD exit writes its own length and information', () => {
    const rig = guest({ changes: SIXTY_FOUR });
    expect(rig.step(vmread)).toEqual(exit(EXIT_REASON.VMREAD));
    expect(rig.step({ kind: 'vmresume', cpu: 0 })).toEqual({ kind: 'vmentry', flags: 0 });
    expect(rig.step({ kind: 'vmclear', cpu: 0, pointer: '0x3000' })).toEqual(exit(EXIT_REASON.VMCLEAR));
    expect(exitInformation(rig)).toEqual({ reason: 19n, qualification: 0n, length: 4n, information: BigInt(MEMORY_64) });
  });
});

describe('the exit-information record a VMX instruction fills', () => {
  it('defines qualification, length and information for VMREAD; replaces what a previous exit left', () => {
    const info = new ExitInfo();
    info.linearLo = 0x1234;
    fillVmxExitInfo(info, VMX_EXIT_VMREAD, 1, 1);
    expect(info.defined).toBe(EXIT_INFO_QUALIFICATION | EXIT_INFO_INSTRUCTION_LENGTH | EXIT_INFO_INSTRUCTION_INFORMATION);
    expect([info.qualificationLo, info.qualificationHi, info.instructionLength, info.instructionInformation, info.linearLo]).toEqual([0, 0, 3, 0x1000_0510, 0]);
  });

  it('leaves the instruction information undefined for VMCALL (not among the instructions §28.2.5 lists)', () => {
    const info = new ExitInfo();
    fillVmxExitInfo(info, VMX_EXIT_VMCALL, 0, 0);
    expect(info.defined).toBe(EXIT_INFO_QUALIFICATION | EXIT_INFO_INSTRUCTION_LENGTH);
    expect(info.instructionLength).toBe(3);
  });

  it('VMXON: 4 bytes in either mode', () => {
    const info = new ExitInfo();
    fillVmxExitInfo(info, VMX_EXIT_VMXON, 0, 0);
    expect(info.instructionLength).toBe(4);
    fillVmxExitInfo(info, VMX_EXIT_VMXON, 1, 0);
    expect(info.instructionLength).toBe(4);
  });
});
