/**
 * VMCLEAR, VMPTRLD and VMPTRST, from SDM Vol. 3C, December 2023, §31.3 "VMCLEAR—Clear
 * Virtual-Machine Control Structure", "VMPTRLD—Load Pointer to Virtual-Machine Control
 * Structure", "VMPTRST—Store Pointer to Virtual-Machine Control Structure", and §25.1
 * "Overview" (the states of a VMCS).
 */
import { describe, expect, it } from 'vitest';
import { fieldTableFor } from '../../impl/field-table.ts';
import { FIELD, VMCS_FIELDS } from '../../spec/fields.ts';
import {
  CORE2,
  FAIL_INVALID,
  failValid,
  GP,
  hex,
  MAXIMAL,
  NO_CURRENT_VMCS,
  Rig,
  SKYLAKE,
  SUCCEED,
  UD,
  value,
  variant,
  VMCS_A,
  VMCS_B,
  VMXON_0,
} from './fixtures.ts';

/**
 * Skylake without RDRAND and RDSEED (CPUID feature flags 0): the register forms keep their #UD
 * (§31.3); with them they are RDRAND BX, RDRAND EBX and RDSEED EBX (Vol. 2B "RDRAND", "RDSEED":
 * 0F C7 /6 and /7 with ModRM.mod = 11b; 66H selects the 16-bit operand size).
 */
const NO_RANDOM = variant(SKYLAKE, 'skylake-without-rdrand', { cpuid: { rdrand: false, rdseed: false } });

describe('the register forms (ModRM.mod = 11b) on a processor with RDRAND and RDSEED', () => {
  it('execute as RDRAND BX, RDRAND EBX and RDSEED EBX: CF = 1 and the value, inside or outside VMX operation', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A), form: 'register' })).toEqual({ kind: 'ok', value: '0x7c15', flags: 1 });
    rig.enter();
    expect(rig.step({ kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A), form: 'register' })).toEqual({ kind: 'ok', value: '0x7f4a7c15', flags: 1 });
    expect(rig.step({ kind: 'vmptrst', cpu: 0, form: 'register' })).toEqual({ kind: 'ok', value: '0x27d4eb4f', flags: 1 });
    // The VMXON register form has an F3 prefix, which RDRAND does not allow: still #UD.
    expect(rig.step({ kind: 'vmxon', cpu: 0, pointer: hex(VMXON_0), form: 'register' })).toEqual(UD(1));
  });
});

describe('VMPTRLD', () => {
  it('makes the VMCS current: VMPTRST stores its address', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_A);
    expect(rig.vmptrld(VMCS_A)).toEqual(SUCCEED);
    expect(rig.vmptrst()).toEqual(value(hex(VMCS_A)));
  });

  it('does not need a VMCLEAR first: a zeroed region with the right revision identifier loads with zero fields', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_A);
    expect(rig.vmptrld(VMCS_A)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x0'));
  });

  it('fails with error 9 for a pointer not 4-KByte aligned (VMfailInvalid without a current VMCS)', () => {
    const rig = new Rig().enter();
    expect(rig.vmptrld(VMCS_A + 0x10)).toEqual(FAIL_INVALID);
    rig.layOut(VMCS_B);
    rig.vmptrld(VMCS_B);
    expect(rig.vmptrld(VMCS_A + 1)).toEqual(failValid(9));
  });

  it('fails with error 9 for a pointer beyond the physical-address width', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmptrld((1n << 46n) | BigInt(VMCS_B))).toEqual(failValid(9));
    expect(rig.vmptrld(1n << 63n)).toEqual(failValid(9));
  });

  it('limits pointers to 32 bits on a processor with a 32-bit physical-address width', () => {
    const rig = new Rig(variant(SKYLAKE, 'narrow', { physicalAddressWidth: 32 })).enterWithVmcs();
    expect(rig.vmptrld(0x1_0000_0000)).toEqual(failValid(9));
    expect(rig.vmclear(0x1_0000_0000)).toEqual(failValid(2));
  });

  it('fails with error 10 for the VMXON pointer, writing the error into the still-current VMCS', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmptrld(VMXON_0)).toEqual(failValid(10));
    expect(rig.vmptrst()).toEqual(value(hex(VMCS_A)));
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0xa'));
  });

  it('fails invalid for the VMXON pointer when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.vmptrld(VMXON_0)).toEqual(FAIL_INVALID);
  });

  it('fails with error 11 when the region holds another revision identifier', () => {
    const rig = new Rig().enterWithVmcs();
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(VMCS_B), value: hex(rig.profile.revisionId + 1) });
    expect(rig.vmptrld(VMCS_B)).toEqual(failValid(11));
    expect(rig.vmptrld(0x7000)).toEqual(failValid(11));
  });

  it('fails with error 11 for a shadow VMCS (bit 31) when VMCS shadowing is unsupported (Core 2)', () => {
    const rig = new Rig(CORE2).enterWithVmcs();
    rig.layOut(VMCS_B, 0, 0x8000_0000);
    expect(rig.vmptrld(VMCS_B)).toEqual(failValid(11));
  });

  it('loads a shadow VMCS when VMCS shadowing is supported (Skylake)', () => {
    const rig = new Rig().enterWithVmcs();
    rig.layOut(VMCS_B, 0, 0x8000_0000);
    expect(rig.vmptrld(VMCS_B)).toEqual(SUCCEED);
    expect(rig.vmwrite(FIELD.GUEST_RIP, 5)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x5'));
  });

  it('keeps the data of the previously current VMCS, which stays active', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.GUEST_RIP, 0xaaaa);
    rig.layOut(VMCS_B);
    expect(rig.vmptrld(VMCS_B)).toEqual(SUCCEED);
    rig.vmwrite(FIELD.GUEST_RIP, 0xbbbb);
    expect(rig.vmptrld(VMCS_A)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0xaaaa'));
    expect(rig.vmptrld(VMCS_B)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0xbbbb'));
  });

  it('raises #UD for a register operand, outside VMX operation, and in compatibility mode', () => {
    const rig = new Rig(NO_RANDOM);
    rig.layOut(VMCS_A);
    expect(rig.vmptrld(VMCS_A)).toEqual(UD());
    rig.enter();
    expect(rig.step({ kind: 'vmptrld', cpu: 0, pointer: hex(VMCS_A), form: 'register' })).toEqual(UD());
    rig.set('cs.l', 0);
    expect(rig.vmptrld(VMCS_A)).toEqual(UD());
  });

  it('raises #GP(0) at CPL > 0', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_A);
    rig.set('cpl', 3);
    expect(rig.vmptrld(VMCS_A)).toEqual(GP());
  });

  it('handles many active VMCSs at once, each keeping its own data', () => {
    const rig = new Rig(MAXIMAL).enter();
    const regions = Array.from({ length: 20 }, (_, i) => 0x10_0000 + i * 0x1000);
    for (const [i, region] of regions.entries()) {
      rig.layOut(region);
      expect(rig.vmptrld(region)).toEqual(SUCCEED);
      expect(rig.vmwrite(FIELD.GUEST_RIP, i + 1)).toEqual(SUCCEED);
    }
    for (const [i, region] of regions.entries()) {
      rig.vmptrld(region);
      expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value(hex(i + 1)));
    }
  });
});

describe('VMCLEAR', () => {
  it('makes the current VMCS not current: VMPTRST then stores FFFFFFFF_FFFFFFFFH', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmclear(VMCS_A)).toEqual(SUCCEED);
    expect(rig.vmptrst()).toEqual(value(NO_CURRENT_VMCS));
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(FAIL_INVALID);
  });

  it('leaves the current VMCS current when it clears another one', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmclear(VMCS_B)).toEqual(SUCCEED);
    expect(rig.vmptrst()).toEqual(value(hex(VMCS_A)));
  });

  it('needs no revision identifier in the region', () => {
    const rig = new Rig().enter();
    expect(rig.vmclear(0x9000)).toEqual(SUCCEED);
  });

  it('writes the VMCS data to the region, so that a later VMPTRLD sees it', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.GUEST_RIP, 0x1122_3344_5566_7788n);
    rig.vmwrite(FIELD.GUEST_ES_SELECTOR, 0x18);
    rig.vmclear(VMCS_A);
    rig.vmptrld(VMCS_A);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x1122334455667788'));
    expect(rig.vmread(FIELD.GUEST_ES_SELECTOR)).toEqual(value('0x18'));
  });

  it('fails with error 2 for an unaligned pointer or one beyond the physical-address width', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmclear(VMCS_B + 4)).toEqual(failValid(2));
    expect(rig.vmclear(1n << 50n)).toEqual(failValid(2));
    expect(rig.vmptrst()).toEqual(value(hex(VMCS_A)));
  });

  it('fails invalid for an invalid address when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.vmclear(VMCS_B + 4)).toEqual(FAIL_INVALID);
  });

  it('fails with error 3 for the VMXON pointer', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmclear(VMXON_0)).toEqual(failValid(3));
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0x3'));
  });

  it('fails invalid for the VMXON pointer when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.vmclear(VMXON_0)).toEqual(FAIL_INVALID);
  });

  it('raises #UD for a register operand and outside VMX operation, #GP(0) at CPL > 0', () => {
    const rig = new Rig(NO_RANDOM);
    expect(rig.vmclear(VMCS_A)).toEqual(UD());
    rig.enter();
    expect(rig.step({ kind: 'vmclear', cpu: 0, pointer: hex(VMCS_A), form: 'register' })).toEqual(UD());
    rig.set('cpl', 1);
    expect(rig.vmclear(VMCS_A)).toEqual(GP());
  });
});

describe('VMCS data in the region (impl layout, impl/field-table.ts)', () => {
  const wordOf = (rig: Rig, encoding: number) => (fieldTableFor(rig.profile).entry[encoding] as number) >> 3;

  it('VMCLEAR writes each field at its layout offset, low word first', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.GUEST_RIP, 0x1111_2222_3333_4444n);
    rig.vmclear(VMCS_A);
    const word = wordOf(rig, FIELD.GUEST_RIP);
    expect(rig.engine.machine.readMemory(VMCS_A + 4 * word, 0)).toBe(0x3333_4444);
    expect(rig.engine.machine.readMemory(VMCS_A + 4 * word + 4, 0)).toBe(0x1111_2222);
    expect(rig.engine.machine.readMemory(VMCS_A, 0)).toBe(rig.profile.revisionId);
  });

  it('VMPTRLD takes field data from the region; a 16-bit field reads only the low half of its word', () => {
    const rig = new Rig().enter();
    rig.layOut(VMCS_B);
    const word = wordOf(rig, FIELD.GUEST_ES_SELECTOR);
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(VMCS_B + 4 * word), value: '0xffff1234' });
    expect(rig.vmptrld(VMCS_B)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_ES_SELECTOR)).toEqual(value('0x1234'));
  });

  it('ordinary writes to the region of an active VMCS are seen at once (impl keeps the data in the region; the SDM makes them undefined)', () => {
    const rig = new Rig().enterWithVmcs();
    const word = wordOf(rig, FIELD.GUEST_RIP);
    rig.vmwrite(FIELD.GUEST_RIP, 5);
    expect(rig.engine.machine.readMemory(VMCS_A + 4 * word, 0)).toBe(5);
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(VMCS_A + 4 * word), value: '0x99' });
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x99'));
    rig.vmclear(VMCS_A);
    rig.vmptrld(VMCS_A);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x99'));
  });

  it('keeps a region whose chunks lie apart in memory whole when it becomes a VMCS (maximal layout spans two chunks)', () => {
    const rig = new Rig(MAXIMAL).enter();
    const table = fieldTableFor(rig.profile);
    expect(table.regionWords).toBeGreaterThan(256); // 1-KByte chunks: the layout spans two
    // A writable field stored past the first chunk.
    const far = VMCS_FIELDS.find((f) => f.type !== 'exit-information' && (table.entry[f.encoding] as number) >> 3 >= 256);
    if (far === undefined) throw new Error('no writable field past the first chunk');
    // The region's second chunk is created first, then an unrelated chunk, then its first.
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(VMCS_B + 4 * wordOf(rig, far.encoding)), value: '0x3' });
    rig.step({ kind: 'write-memory', cpu: 0, address: hex(0x70_0000), value: '0x1' });
    rig.layOut(VMCS_B);
    expect(rig.vmptrld(VMCS_B)).toEqual(SUCCEED);
    expect(rig.vmread(far.encoding)).toEqual(value('0x3'));
    rig.vmwrite(far.encoding, 2);
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0x0'));
    expect(rig.engine.machine.readMemory(VMCS_B + 4 * wordOf(rig, far.encoding), 0)).toBe(2);
    expect(rig.engine.machine.readMemory(0x70_0000, 0)).toBe(1);
    expect(rig.engine.machine.readMemory(VMCS_B, 0)).toBe(rig.profile.revisionId);
  });
});

describe('VMPTRST', () => {
  it('raises #UD for a register operand and outside VMX operation, #GP(0) at CPL > 0', () => {
    const rig = new Rig(NO_RANDOM);
    expect(rig.vmptrst()).toEqual(UD());
    rig.enter();
    expect(rig.step({ kind: 'vmptrst', cpu: 0, form: 'register' })).toEqual(UD());
    expect(rig.step({ kind: 'vmptrst', cpu: 0, form: 'memory' })).toEqual(value(NO_CURRENT_VMCS));
    rig.set('cpl', 3);
    expect(rig.vmptrst()).toEqual(GP());
  });

  it('clears the flags left by an earlier VMfail', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmclear(VMXON_0)).toEqual(failValid(3));
    expect(rig.vmptrst()).toEqual(value(hex(VMCS_A)));
  });
});
