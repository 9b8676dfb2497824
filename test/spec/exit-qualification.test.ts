import { describe, expect, it } from 'vitest';
import { bit, bits, fieldMask, getField, placeField } from '../../spec/bit-fields.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import {
  APIC_ACCESS_QUALIFICATION,
  CR_ACCESS_TYPE,
  DEBUG_QUALIFICATION,
  EPT_VIOLATION_QUALIFICATION,
  TASK_SWITCH_QUALIFICATION,
  TASK_SWITCH_SOURCE,
  crAccessQualification,
  decodeCrAccessQualification,
  decodeIoQualification,
  displacementQualification,
  exitSavesQualification,
  ioQualification,
  linearAddressQualification,
  movDrQualification,
} from '../../spec/exit-qualification.ts';

// Expectations from SDM Vol. 3C §28.2.1 "Basic VM-Exit Information" and its exit-qualification
// tables (December 2023; bit positions as in the 2016 text, Tables 27-1 to 27-7 there).
describe('bit fields', () => {
  it('reads and places runs of bits, and rejects values that do not fit', () => {
    expect(fieldMask(bits(11, 8))).toBe(0xf00n);
    expect(getField(0x904n, bits(11, 8))).toBe(9);
    expect(placeField(bit(6), 1, 'flag')).toBe(0x40n);
    expect(() => placeField(bits(11, 8), 16, 'register')).toThrow(/register 16 does not fit in bits 11:8/);
    expect(() => bits(3, 4)).toThrow(/bad bit range/);
  });
});

describe('exit qualification for control-register accesses', () => {
  it('MOV CR4, R9 is CR 4, access type 0 (MOV to CR), register 9: 0x904', () => {
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_TO_CR, cr: 4, gpr: 9 })).toBe(0x904n);
  });
  it('MOV RAX, CR3 is CR 3, access type 1: 0x13; MOV R15, CR8 is 0xf18', () => {
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_FROM_CR, cr: 3, gpr: 0 })).toBe(0x13n);
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_FROM_CR, cr: 8, gpr: 15 })).toBe(0xf18n);
  });
  it('MOV to CR0 from RAX with parts left out is 0', () => {
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_TO_CR })).toBe(0n);
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.LMSW })).toBe(0x30n);
  });
  it('CLTS is access type 2 with every other part cleared', () => {
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.CLTS, cr: 4, gpr: 3 })).toBe(0x20n);
  });
  it('LMSW puts the source data in bits 31:16 and the operand type in bit 6, register and CR cleared', () => {
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.LMSW, lmswSourceData: 0x000b, gpr: 5 })).toBe(0x000b_0030n);
    expect(crAccessQualification({ accessType: CR_ACCESS_TYPE.LMSW, lmswSourceData: 0xffff, lmswMemory: true })).toBe(0xffff_0070n);
    expect(decodeCrAccessQualification(0xffff_0070n)).toEqual({ accessType: 3, cr: 0, gpr: 0, lmswMemory: true, lmswSourceData: 0xffff });
  });
  it('rejects a register number that does not fit bits 11:8', () => {
    expect(() => crAccessQualification({ accessType: CR_ACCESS_TYPE.MOV_TO_CR, cr: 0, gpr: 16 })).toThrow(/register 16/);
  });
});

describe('exit qualification for MOV DR', () => {
  it('MOV DR7, RCX is DR 7, direction 0, register 1: 0x107; MOV R8, DR6 is 0x816', () => {
    expect(movDrQualification('to', 7, 1)).toBe(0x107n);
    expect(movDrQualification('from', 6, 8)).toBe(0x816n);
  });
});

describe('exit qualification for I/O instructions', () => {
  it('OUT DX, AL with DX = 80H is size 0, OUT, DX encoding, port 80H: 0x800000', () => {
    expect(ioQualification({ direction: 'out', port: 0x80, size: 1 })).toBe(0x80_0000n);
  });
  it('OUT 80H, AL (immediate) sets bit 6: 0x800040', () => {
    expect(ioQualification({ direction: 'out', port: 0x80, size: 1, immediate: true })).toBe(0x80_0040n);
  });
  it('REP INSD at port 0x3F8 is size 3, IN, string, REP (3 | 8 | 0x10 | 0x20): 0x3f8003b', () => {
    expect(ioQualification({ direction: 'in', port: 0x3f8, size: 4, string: true, rep: true })).toBe(0x3f8_003bn);
  });
  it('IN AX, DX at port FFFFH is size 1, IN: 0xffff0009, and decodes back', () => {
    const q = ioQualification({ direction: 'in', port: 0xffff, size: 2 });
    expect(q).toBe(0xffff_0009n);
    expect(decodeIoQualification(q)).toEqual({ direction: 'in', port: 0xffff, size: 2, string: false, rep: false, immediate: false });
  });
  it('decodes every access size, string and REP back', () => {
    expect(decodeIoQualification(ioQualification({ direction: 'out', port: 0x60, size: 1, immediate: true }))).toEqual({ direction: 'out', port: 0x60, size: 1, string: false, rep: false, immediate: true });
    expect(decodeIoQualification(0x3f8_003bn)).toEqual({ direction: 'in', port: 0x3f8, size: 4, string: true, rep: true, immediate: false });
  });
  it('rejects a port beyond FFFFH and a size of 3', () => {
    expect(() => ioQualification({ direction: 'in', port: 0x10000, size: 1 })).toThrow(/port 65536/);
    expect(() => ioQualification({ direction: 'in', port: 0, size: 3 as 1 })).toThrow(/size 3/);
  });
});

describe('other exit qualifications', () => {
  it('INVLPG and page faults: the linear address, bits 63:32 cleared outside 64-bit mode', () => {
    expect(linearAddressQualification(0xffff_8000_1234_5000n, true)).toBe(0xffff_8000_1234_5000n);
    expect(linearAddressQualification(0xffff_8000_1234_5000n, false)).toBe(0x1234_5000n);
  });
  it('VMX instructions: the displacement sign-extended to 64 bits, 0 without one', () => {
    expect(displacementQualification(0)).toBe(0n);
    expect(displacementQualification(-8)).toBe(0xffff_ffff_ffff_fff8n);
  });
  it('debug exceptions: B3-B0 in bits 3:0, BD 13, BS 14, RTM 16', () => {
    expect(fieldMask(DEBUG_QUALIFICATION.BREAKPOINTS)).toBe(0xfn);
    expect(fieldMask(DEBUG_QUALIFICATION.BD)).toBe(0x2000n);
    expect(fieldMask(DEBUG_QUALIFICATION.BS)).toBe(0x4000n);
    expect(fieldMask(DEBUG_QUALIFICATION.RTM)).toBe(0x1_0000n);
  });
  it('task switch: selector 15:0, source 31:30 (3 = task gate in IDT)', () => {
    expect(placeField(TASK_SWITCH_QUALIFICATION.SOURCE, TASK_SWITCH_SOURCE.IDT_TASK_GATE, 's')).toBe(0xc000_0000n);
    expect(fieldMask(TASK_SWITCH_QUALIFICATION.SELECTOR)).toBe(0xffffn);
  });
  it('APIC access: offset 11:0, access type 15:12; EPT violation: NMI unblocking at bit 12', () => {
    expect(fieldMask(APIC_ACCESS_QUALIFICATION.ACCESS_TYPE)).toBe(0xf000n);
    expect(fieldMask(EPT_VIOLATION_QUALIFICATION.NMI_UNBLOCKING_DUE_TO_IRET)).toBe(0x1000n);
    expect(fieldMask(EPT_VIOLATION_QUALIFICATION.GUEST_LINEAR_ADDRESS_VALID)).toBe(0x80n);
  });
});

describe('which VM exits save an exit qualification', () => {
  it('the instruction exits that report one do; CPUID, HLT, RDMSR and the VMLAUNCH exit clear it', () => {
    for (const reason of [EXIT_REASON.CONTROL_REGISTER_ACCESS, EXIT_REASON.IO_INSTRUCTION, EXIT_REASON.MOV_DR, EXIT_REASON.INVLPG, EXIT_REASON.VMREAD, EXIT_REASON.VMPTRLD, EXIT_REASON.INVEPT, EXIT_REASON.MWAIT]) {
      expect(exitSavesQualification(reason)).toBe(true);
    }
    for (const reason of [EXIT_REASON.CPUID, EXIT_REASON.HLT, EXIT_REASON.RDMSR, EXIT_REASON.WRMSR, EXIT_REASON.VMLAUNCH, EXIT_REASON.VMCALL, EXIT_REASON.XSETBV]) {
      expect(exitSavesQualification(reason)).toBe(false);
    }
  });
  it('exceptions: only #DB and #PF save one', () => {
    expect(exitSavesQualification(EXIT_REASON.EXCEPTION_OR_NMI, 14)).toBe(true);
    expect(exitSavesQualification(EXIT_REASON.EXCEPTION_OR_NMI, 1)).toBe(true);
    expect(exitSavesQualification(EXIT_REASON.EXCEPTION_OR_NMI, 13)).toBe(false);
    expect(exitSavesQualification(EXIT_REASON.EXCEPTION_OR_NMI)).toBe(false);
  });
});
