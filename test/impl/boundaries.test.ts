/**
 * Our emulator at the limits the VMX rules compare with, on both sides and at the limit: each
 * single misaligned bit below 12, the bit at the physical-address width and the one below, CPL 1,
 * 2 and 3, reserved encoding bits and field widths, INVEPT/INVVPID type registers with bits 63:32
 * set, INVVPID's reserved descriptor bits and canonical edges, and each field of an EPTP.
 *
 * Expected observations come from SDM Vol. 3C, December 2023: the Operation sections of §31.3
 * "VMX Instructions" (VMXON, VMCLEAR, VMPTRLD, VMREAD, VMWRITE, INVEPT, INVVPID and the others'
 * "ELSIF CPL > 0 THEN #GP(0)"), the conventions of §31.2 (VMfailInvalid sets CF, VMfailValid ZF),
 * the error numbers of §31.4 "VM Instruction Error Numbers" (2 VMCLEAR with invalid physical
 * address, 9 VMPTRLD with invalid physical address, 12 unsupported VMCS component, 28 invalid
 * operand to INVEPT/INVVPID), the encoding layout of §25.11.2 "VMREAD, VMWRITE, and Encodings of
 * VMCS Fields", VMWRITE's Description (outside 64-bit mode the source is 32 bits and the high bits
 * of a wider field are cleared), and the EPTP checks of §27.2.1.1 "VM-Execution Control Fields"
 * with the skylake profile's IA32_VMX_EPT_VPID_CAP (0xf0106734141: UC and WB, 4-level walks,
 * accessed/dirty flags; no 5-level walks, no supervisor shadow-stack control).
 */
import { describe, expect, it } from 'vitest';
import { FIELD } from '../../spec/fields.ts';
import type { Operation } from '../../spec/operations.ts';
import { FAIL_INVALID, failValid, GP, hex, Rig, SKYLAKE, SUCCEED, value, variant, VMCS_A, VMCS_B, VMXON_0 } from './fixtures.ts';

const BITS_BELOW_12 = Array.from({ length: 12 }, (_, b) => b);
const bit = (n: number): bigint => 1n << BigInt(n);
const WIDTH = SKYLAKE.physicalAddressWidth;

/** Stores the revision identifier at any physical address (the fixtures' layOut takes small ones). */
function layOutAt(rig: Rig, address: bigint): void {
  rig.step({ kind: 'write-memory', cpu: 0, address: hex(address), value: hex(rig.profile.revisionId) });
}

describe('VMPTRLD at the limits of its address checks', () => {
  it('fails with error 9 for a pointer misaligned in any single bit below 12, 2800H among them', () => {
    for (const b of BITS_BELOW_12) expect(new Rig().enterWithVmcs().vmptrld(BigInt(VMCS_B) | bit(b))).toEqual(failValid(9));
    expect(new Rig().enterWithVmcs().vmptrld(0x2800)).toEqual(failValid(9));
    expect(new Rig().enter().vmptrld(0x2800)).toEqual(FAIL_INVALID);
  });

  it('fails with error 9 for the bit at the physical-address width and loads a VMCS at the bit below it', () => {
    expect(new Rig().enterWithVmcs().vmptrld(bit(WIDTH))).toEqual(failValid(9));
    const rig = new Rig().enterWithVmcs();
    layOutAt(rig, bit(WIDTH - 1));
    expect(rig.vmptrld(bit(WIDTH - 1))).toEqual(SUCCEED);
    expect(rig.vmptrst()).toEqual(value(hex(bit(WIDTH - 1))));
  });

  it('with a 32-bit physical-address width, fails for bit 32 and loads at bit 31', () => {
    const rig = new Rig(variant(SKYLAKE, 'narrow', { physicalAddressWidth: 32 })).enterWithVmcs();
    expect(rig.vmptrld(bit(32))).toEqual(failValid(9));
    layOutAt(rig, bit(31));
    expect(rig.vmptrld(bit(31))).toEqual(SUCCEED);
  });

  it('raises #GP(0) at CPL 1, 2 and 3', () => {
    for (const cpl of [1, 2, 3]) {
      const rig = new Rig().enterWithVmcs();
      rig.layOut(VMCS_B);
      rig.set('cpl', cpl);
      expect(rig.vmptrld(VMCS_B)).toEqual(GP());
    }
  });
});

describe('VMCLEAR at the limits of its checks', () => {
  it('fails with error 2 for a pointer misaligned in any single bit below 12, 2800H among them', () => {
    for (const b of BITS_BELOW_12) expect(new Rig().enterWithVmcs().vmclear(BigInt(VMCS_B) | bit(b))).toEqual(failValid(2));
    expect(new Rig().enterWithVmcs().vmclear(0x2800)).toEqual(failValid(2));
    expect(new Rig().enter().vmclear(0x2800)).toEqual(FAIL_INVALID);
  });

  it('fails with error 2 for the bit at the physical-address width and clears at the bit below it', () => {
    expect(new Rig().enterWithVmcs().vmclear(bit(WIDTH))).toEqual(failValid(2));
    expect(new Rig().enterWithVmcs().vmclear(bit(WIDTH - 1))).toEqual(SUCCEED);
  });

  it('raises #GP(0) at CPL 1, 2 and 3', () => {
    for (const cpl of [1, 2, 3]) {
      const rig = new Rig().enterWithVmcs();
      rig.set('cpl', cpl);
      expect(rig.vmclear(VMCS_A)).toEqual(GP());
    }
  });
});

describe('VMXON at the limits of its checks', () => {
  it('fails with VMfailInvalid for a pointer misaligned in any single bit below 12', () => {
    for (const b of BITS_BELOW_12) {
      const rig = new Rig();
      rig.layOut(VMXON_0);
      expect(rig.vmxon(0, Number(BigInt(VMXON_0) | bit(b)))).toEqual(FAIL_INVALID);
    }
  });

  it('fails for the bit at the physical-address width and enters VMX operation at the bit below it', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex(bit(WIDTH)) })).toEqual(FAIL_INVALID);
    layOutAt(rig, bit(WIDTH - 1));
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex(bit(WIDTH - 1)) })).toEqual(SUCCEED);
  });

  it('raises #GP(0) at CPL 1, 2 and 3, outside VMX operation and in VMX root operation', () => {
    for (const cpl of [1, 2, 3]) {
      const outside = new Rig();
      outside.layOut(VMXON_0);
      outside.set('cpl', cpl);
      expect(outside.vmxon()).toEqual(GP());
      const inside = new Rig().enter();
      inside.set('cpl', cpl);
      expect(inside.vmxon()).toEqual(GP());
    }
  });
});

describe('the CPL check of every other VMX instruction', () => {
  const instructions: Operation[] = [
    { kind: 'vmxoff', cpu: 0 },
    { kind: 'vmptrst', cpu: 0 },
    { kind: 'vmread', cpu: 0, encoding: hex(FIELD.GUEST_RIP) },
    { kind: 'vmwrite', cpu: 0, encoding: hex(FIELD.GUEST_RIP), value: '0x0' },
    { kind: 'vmlaunch', cpu: 0 },
    { kind: 'vmresume', cpu: 0 },
    { kind: 'invept', cpu: 0, type: '0x2', descriptor: ['0x0', '0x0'] },
    { kind: 'invvpid', cpu: 0, type: '0x2', descriptor: ['0x0', '0x0'] },
    { kind: 'vmcall', cpu: 0 },
  ];
  for (const instruction of instructions) {
    it(`${instruction.kind} raises #GP(0) at CPL 1, 2 and 3`, () => {
      for (const cpl of [1, 2, 3]) {
        const rig = new Rig().enterWithVmcs();
        rig.set('cpl', cpl);
        expect(rig.step(instruction)).toEqual(GP());
      }
    });
  }
});

describe('VMREAD and VMWRITE at the limits of the encoding and the field width', () => {
  const rip = BigInt(FIELD.GUEST_RIP);

  it('fail with error 12 for reserved bit 12 and for each of bits 31:15', () => {
    const rig = new Rig().enterWithVmcs();
    for (const b of [12, ...Array.from({ length: 17 }, (_, i) => 15 + i)]) {
      expect(rig.vmread(rip | bit(b))).toEqual(failValid(12));
      expect(rig.vmwrite(rip | bit(b), 0)).toEqual(failValid(12));
    }
  });

  it('fail with error 12 for each of bits 63:32 in 64-bit mode, and ignore them outside it', () => {
    const rig = new Rig().enterWithVmcs();
    for (const b of [32, 33, 47, 62, 63]) {
      expect(rig.vmread(rip | bit(b))).toEqual(failValid(12));
      expect(rig.vmwrite(rip | bit(b), 0)).toEqual(failValid(12));
    }
    rig.set('efer.lma', 0);
    expect(rig.vmwrite(rip | bit(32), 7)).toEqual(SUCCEED);
    expect(rig.vmread(rip | bit(63))).toEqual(value('0x7'));
  });

  it('accept the high access type only for a 64-bit field', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmread(FIELD.GUEST_ES_SELECTOR | 1)).toEqual(failValid(12));
    expect(rig.vmread(FIELD.GUEST_RIP | 1)).toEqual(failValid(12));
    expect(rig.vmwrite(FIELD.VMCS_LINK_POINTER, 0x1234_5678_9abc_def0n)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.VMCS_LINK_POINTER | 1)).toEqual(value('0x12345678'));
  });

  it('cut a written value to the field width: bit 16 of a 16-bit field, bit 32 of a 32-bit field', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.GUEST_ES_SELECTOR, 0x1_ffff);
    expect(rig.vmread(FIELD.GUEST_ES_SELECTOR)).toEqual(value('0xffff'));
    rig.vmwrite(FIELD.GUEST_ES_LIMIT, 0x1_ffff_ffffn);
    expect(rig.vmread(FIELD.GUEST_ES_LIMIT)).toEqual(value('0xffffffff'));
    rig.vmwrite(FIELD.GUEST_RIP, 0x8000_0000_0000_0001n);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x8000000000000001'));
  });

  it('outside 64-bit mode write bits 31:0 of the value and clear the high bits of a wider field', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('efer.lma', 0);
    expect(rig.vmwrite(FIELD.GUEST_RIP, 0xffff_ffff_0000_0001n)).toEqual(SUCCEED);
    rig.set('efer.lma', 1);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x1'));
  });
});

const invept = (type: bigint, eptp = 0x2000n | (3n << 3n) | 6n): Operation => ({ kind: 'invept', cpu: 0, type: hex(type), descriptor: [hex(eptp), '0x0'] });
const invvpid = (type: bigint, low = 1n, address = 0n): Operation => ({ kind: 'invvpid', cpu: 0, type: hex(type), descriptor: [hex(low), hex(address)] });

describe('INVEPT and INVVPID type registers with bits 63:32 set', () => {
  it('in 64-bit mode, type 1_00000002H and 1_00000001H are unsupported types: error 28', () => {
    const rig = new Rig().enterWithVmcs();
    for (const type of [bit(32) | 2n, bit(32) | 1n, bit(63) | 2n]) {
      expect(rig.step(invept(type))).toEqual(failValid(28));
      expect(rig.step(invvpid(type))).toEqual(failValid(28));
    }
  });

  it('outside 64-bit mode the register is 32 bits: type 1_00000002H is type 2 and succeeds', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('efer.lma', 0);
    expect(rig.step(invept(bit(32) | 2n))).toEqual(SUCCEED);
    expect(rig.step(invvpid(bit(32) | 2n))).toEqual(SUCCEED);
  });

  it('types 0, 3 and 4 of INVEPT and type 4 of INVVPID are unsupported', () => {
    const rig = new Rig().enterWithVmcs();
    for (const type of [0n, 3n, 4n]) expect(rig.step(invept(type))).toEqual(failValid(28));
    expect(rig.step(invvpid(4n))).toEqual(failValid(28));
  });
});

describe('INVVPID descriptors at their limits', () => {
  it('fails with error 28 when exactly one of bits 63:16 is set, and accepts VPID FFFFH', () => {
    const rig = new Rig().enterWithVmcs();
    for (const b of [16, 17, 31, 32, 63]) expect(rig.step(invvpid(1n, 1n | bit(b)))).toEqual(failValid(28));
    expect(rig.step(invvpid(1n, 0xffffn))).toEqual(SUCCEED);
  });

  it('takes the last and first canonical addresses, either outcome between 48 and 57 bits, rejects past 57 bits', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(invvpid(0n, 1n, 0x0000_7fff_ffff_ffffn))).toEqual(SUCCEED);
    expect(rig.step(invvpid(0n, 1n, 0xffff_8000_0000_0000n))).toEqual(SUCCEED);
    expect([SUCCEED, failValid(28)]).toContainEqual(rig.step(invvpid(0n, 1n, 0x0000_8000_0000_0000n)));
    expect(rig.step(invvpid(0n, 1n, 0x0100_0000_0000_0000n))).toEqual(failValid(28));
    expect(rig.step(invvpid(0n, 1n, 0xfeff_ffff_ffff_ffffn))).toEqual(failValid(28));
  });
});

describe('single-context INVEPT with each EPTP field at its limit (skylake capabilities)', () => {
  const base = 0x2000n | (3n << 3n) | 6n;
  const run = (eptp: bigint) => new Rig().enterWithVmcs().step(invept(1n, eptp));

  it('accepts memory types UC (0) and WB (6) only', () => {
    for (const type of [0n, 6n]) expect(run((base & ~7n) | type)).toEqual(SUCCEED);
    for (const type of [1n, 2n, 3n, 4n, 5n, 7n]) expect(run((base & ~7n) | type)).toEqual(failValid(28));
  });

  it('accepts a 4-level walk only', () => {
    expect(run(base)).toEqual(SUCCEED);
    for (const length of [1n, 2n, 3n, 5n, 6n, 7n, 8n]) expect(run((base & ~(7n << 3n)) | ((length - 1n) << 3n))).toEqual(failValid(28));
  });

  it('accepts bit 6, rejects bit 7 and each of reserved bits 11:8', () => {
    expect(run(base | bit(6))).toEqual(SUCCEED);
    for (const b of [7, 8, 9, 10, 11]) expect(run(base | bit(b))).toEqual(failValid(28));
  });

  it('accepts the address bit below the physical-address width and rejects the bit at it', () => {
    expect(run(base | bit(WIDTH - 1))).toEqual(SUCCEED);
    expect(run(base | bit(WIDTH))).toEqual(failValid(28));
  });
});
