import { describe, expect, it } from 'vitest';
import {
  ADDRESS_SIZE,
  SEGMENT,
  descriptorTableInformation,
  insOutsInformation,
  invalidationInformation,
  ldtrTrInformation,
  randomInformation,
  vmreadVmwriteInformation,
  vmxMemoryInformation,
} from '../../spec/instruction-information.ts';
import { EXIT_INTERRUPTION_TYPE, exitInterruptionInformation } from '../../spec/exit-interruption-information.ts';

// Expectations from SDM Vol. 3C §28.2.5 "Information for VM Exits Due to Instruction Execution"
// (December 2023; the formats as in the 2016 text, Tables 27-8 to 27-14 there) and §28.2.2.
const RAX = 0, RCX = 1, RDX = 2, RBX = 3;
const memoryRbx = { addressSize: ADDRESS_SIZE.BITS_64, segment: SEGMENT.DS, base: RBX } as const;

describe('VMREAD and VMWRITE instruction information', () => {
  it('register VMREAD RDX <- field in RCX: Reg1 = 2 (bits 6:3), Mem/Reg = 1, Reg2 = 1 (bits 31:28): 0x10000410', () => {
    const info = vmreadVmwriteInformation({ register: RDX, reg2: RCX });
    expect(info.value).toBe(0x1000_0410);
    // For a register operand, scaling, address size, segment, index and base fields are undefined.
    expect(info.undefinedMask & 0x0fff_8383).toBe(0x0fff_8383);
    expect(info.undefinedMask & 0xf000_0478).toBe(0);
  });
  it('memory VMWRITE from [RBX] (64-bit address, DS) with the encoding in RCX', () => {
    const info = vmreadVmwriteInformation({ memory: memoryRbx, reg2: RCX });
    // address size 2 << 7 = 0x100, DS 3 << 15 = 0x18000, index invalid 1 << 22, base RBX 3 << 23, Reg2 1 << 28
    expect(info.value).toBe(0x100 | 0x1_8000 | 0x40_0000 | 0x180_0000 | 0x1000_0000);
    expect(info.undefinedMask & 0x78).toBe(0x78); // Reg1 undefined for a memory operand
  });
  it('refuses both or neither operand form', () => {
    expect(() => vmreadVmwriteInformation({ register: RAX, memory: memoryRbx, reg2: RCX })).toThrow(/either a register or memory/);
    expect(() => vmreadVmwriteInformation({ reg2: RCX })).toThrow(/give the operand/);
  });
});

describe('the other instruction-information formats', () => {
  it('VMPTRLD [EBX] outside 64-bit mode: 32-bit address size, DS, no index, base RBX, bit 10 clear', () => {
    const info = vmxMemoryInformation({ memory: { addressSize: ADDRESS_SIZE.BITS_32, segment: SEGMENT.DS, base: RBX } });
    expect(info.value).toBe(0x80 | 0x1_8000 | 0x40_0000 | 0x180_0000);
    expect(info.undefinedMask & 0xf000_0000).toBe(0xf000_0000 | 0);
  });
  it('INVEPT RCX, [RBX]: Reg2 = RCX in bits 31:28', () => {
    expect(invalidationInformation({ memory: memoryRbx, reg2: RCX }).value).toBe(0x100 | 0x1_8000 | 0x40_0000 | 0x180_0000 | 0x1000_0000);
  });
  it('an index register with scaling by 8 and no base: index valid, base invalid', () => {
    const info = invalidationInformation({ memory: { addressSize: ADDRESS_SIZE.BITS_64, segment: SEGMENT.SS, index: 9, scaling: 3 }, reg2: 0 });
    expect(info.value).toBe(3 | 0x100 | (2 << 15) | (9 << 18) | (1 << 27));
  });
  it('OUTS: address size and segment; INS: segment undefined', () => {
    expect(insOutsInformation({ addressSize: ADDRESS_SIZE.BITS_64, segment: SEGMENT.DS, ins: false }).value).toBe(0x100 | 0x1_8000);
    const ins = insOutsInformation({ addressSize: ADDRESS_SIZE.BITS_32, ins: true });
    expect(ins.value).toBe(0x80);
    expect(ins.undefinedMask & 0x3_8000).toBe(0x3_8000);
  });
  it('LIDT: identity 3 in bits 29:28, operand size in bit 11', () => {
    const info = descriptorTableInformation({ memory: memoryRbx, identity: 'LIDT', in64BitMode: true });
    expect(info.value).toBe(0x100 | 0x1_8000 | 0x40_0000 | 0x180_0000 | 0x3000_0000);
    expect(info.undefinedMask & 0x800).toBe(0x800);
    expect(descriptorTableInformation({ memory: memoryRbx, identity: 'SGDT', operandSize32: true, in64BitMode: false }).value & 0x3000_0800).toBe(0x800);
  });
  it('LTR AX: Reg1 0, Mem/Reg 1, identity 3; SLDT [RBX]: identity 0', () => {
    expect(ldtrTrInformation({ identity: 'LTR', register: RAX }).value).toBe(0x400 | 0x3000_0000);
    expect(ldtrTrInformation({ identity: 'SLDT', memory: memoryRbx }).value).toBe(0x100 | 0x1_8000 | 0x40_0000 | 0x180_0000);
  });
  it('RDRAND R10 (64-bit): destination 10 in bits 6:3, operand size 2 in bits 12:11', () => {
    expect(randomInformation({ register: 10, operandSize: 8 }).value).toBe((10 << 3) | (2 << 11));
    expect(randomInformation({ register: 0, operandSize: 2 }).value).toBe(0);
  });
});

describe('VM-exit interruption information', () => {
  it('#GP with an error code: vector 13, type 3, bit 11, valid: 0x80000b0d', () => {
    expect(exitInterruptionInformation({ vector: 13, type: EXIT_INTERRUPTION_TYPE.HARDWARE_EXCEPTION, errorCodeValid: true })).toBe(0x8000_0b0d);
  });
  it('#BP from INT3 is a software exception (type 6): 0x80000603; NMI unblocking sets bit 12', () => {
    expect(exitInterruptionInformation({ vector: 3, type: EXIT_INTERRUPTION_TYPE.SOFTWARE_EXCEPTION, errorCodeValid: false })).toBe(0x8000_0603);
    expect(exitInterruptionInformation({ vector: 14, type: EXIT_INTERRUPTION_TYPE.HARDWARE_EXCEPTION, errorCodeValid: true, nmiUnblockingDueToIret: true })).toBe(0x8000_1b0e);
  });
});
