/**
 * VMREAD and VMWRITE, from SDM Vol. 3C, December 2023, §31.3 "VMREAD—Read Field from
 * Virtual-Machine Control Structure" and "VMWRITE—Write Field to Virtual-Machine Control
 * Structure", with the encoding rules of §25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS
 * Fields" and Appendix B "Field Encoding in VMCS".
 */
import { describe, expect, it } from 'vitest';
import { FIELD } from '../../spec/fields.ts';
import { CORE2, FAIL_INVALID, failValid, GP, MAXIMAL, Rig, SUCCEED, UD, value } from './fixtures.ts';

const ALL_ONES = 0xffff_ffff_ffff_ffffn;

describe('VMWRITE then VMREAD in 64-bit mode', () => {
  it('round-trips a natural-width field in full 64 bits', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmwrite(FIELD.GUEST_RIP, 0xffff_8000_1234_5678n)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0xffff800012345678'));
  });

  it('round-trips a 64-bit field in full 64 bits', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmwrite(FIELD.TSC_OFFSET, 0x8000_0000_0000_0001n)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.TSC_OFFSET)).toEqual(value('0x8000000000000001'));
  });

  it('ignores source bits beyond a 32-bit field', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmwrite(FIELD.GUEST_ES_LIMIT, 0x1_2345_6789n)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_ES_LIMIT)).toEqual(value('0x23456789'));
  });

  it('ignores source bits beyond a 16-bit field', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmwrite(FIELD.GUEST_ES_SELECTOR, ALL_ONES)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.GUEST_ES_SELECTOR)).toEqual(value('0xffff'));
  });

  it('writes only bits 63:32 through the high access type of a 64-bit field', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.TSC_OFFSET, 0x1111_1111_2222_2222n);
    expect(rig.vmwrite(FIELD.TSC_OFFSET + 1, 0xffff_ffff_abcd_ef01n)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.TSC_OFFSET)).toEqual(value('0xabcdef0122222222'));
  });

  it('reads bits 63:32 of a 64-bit field, zero-extended, through the high access type', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.VMCS_LINK_POINTER, ALL_ONES);
    expect(rig.vmread(FIELD.VMCS_LINK_POINTER + 1)).toEqual(value('0xffffffff'));
  });

  it('reads zero from every field of a freshly cleared, zeroed region', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmread(FIELD.GUEST_CR0)).toEqual(value('0x0'));
    expect(rig.vmread(FIELD.EXIT_REASON)).toEqual(value('0x0'));
  });
});

describe('VMREAD and VMWRITE outside 64-bit mode (IA32_EFER.LMA = 0)', () => {
  it('use 32-bit operands: a natural-width field gets bits 31:0 of the source, its high bits cleared', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.GUEST_RIP, ALL_ONES);
    rig.set('efer.lma', 0);
    expect(rig.vmwrite(FIELD.GUEST_RIP, 0x1_2345_6789n)).toEqual(SUCCEED);
    rig.set('efer.lma', 1);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x23456789'));
  });

  it('read only bits 31:0 of a 64-bit field', () => {
    const rig = new Rig().enterWithVmcs();
    rig.vmwrite(FIELD.TSC_OFFSET, 0xaaaa_bbbb_cccc_ddddn);
    rig.set('efer.lma', 0);
    expect(rig.vmread(FIELD.TSC_OFFSET)).toEqual(value('0xccccdddd'));
    expect(rig.vmread(FIELD.TSC_OFFSET + 1)).toEqual(value('0xaaaabbbb'));
  });

  it('ignore bits 63:32 of the encoding register', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('efer.lma', 0);
    expect(rig.vmwrite((1n << 32n) | BigInt(FIELD.GUEST_RIP), 7)).toEqual(SUCCEED);
    expect(rig.vmread((0xffffn << 48n) | BigInt(FIELD.GUEST_RIP))).toEqual(value('0x7'));
  });
});

describe('VMREAD and VMWRITE of unsupported components (error 12)', () => {
  const cases: [string, bigint][] = [
    ['an encoding no field has', 0x0ffen],
    ['reserved bit 12 set', BigInt(FIELD.GUEST_RIP | 0x1000)],
    ['a bit in 31:15 set', BigInt(FIELD.GUEST_RIP) | 0x8000n],
    ['bit 31 set', BigInt(FIELD.GUEST_RIP) | 0x8000_0000n],
    ['a bit in 63:32 set in 64-bit mode', BigInt(FIELD.GUEST_RIP) | (1n << 32n)],
    ['the high access type of a natural-width field', BigInt(FIELD.GUEST_RIP + 1)],
    ['the high access type of a 32-bit field', BigInt(FIELD.GUEST_ES_LIMIT + 1)],
  ];
  for (const [what, encoding] of cases) {
    it(`VMWRITE and VMREAD fail valid with error 12 for ${what}`, () => {
      const rig = new Rig().enterWithVmcs();
      expect(rig.vmwrite(encoding, 1)).toEqual(failValid(12));
      expect(rig.vmread(encoding)).toEqual(failValid(12));
      expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0xc'));
    });
  }

  it('fail with error 12 for a field whose enabling control the processor lacks (EPT pointer on Core 2)', () => {
    const rig = new Rig(CORE2).enterWithVmcs();
    expect(rig.vmwrite(FIELD.EPT_POINTER, 0)).toEqual(failValid(12));
    expect(rig.vmread(FIELD.EPT_POINTER)).toEqual(failValid(12));
  });
});

describe('VMWRITE to VM-exit information fields', () => {
  it('fails with error 13 when IA32_VMX_MISC[29] = 0 (Core 2)', () => {
    const rig = new Rig(CORE2).enterWithVmcs();
    expect(rig.vmwrite(FIELD.EXIT_REASON, 1)).toEqual(failValid(13));
    expect(rig.vmwrite(FIELD.VM_INSTRUCTION_ERROR, 1)).toEqual(failValid(13));
    expect(rig.vmread(FIELD.VM_INSTRUCTION_ERROR)).toEqual(value('0xd'));
    expect(rig.vmwrite(FIELD.EXIT_QUALIFICATION, 1)).toEqual(failValid(13));
    expect(rig.vmwrite(FIELD.GUEST_PHYSICAL_ADDRESS, 1)).toEqual(failValid(12));
  });

  it('succeeds when IA32_VMX_MISC[29] = 1 (Skylake)', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.vmwrite(FIELD.EXIT_QUALIFICATION, 0x42)).toEqual(SUCCEED);
    expect(rig.vmread(FIELD.EXIT_QUALIFICATION)).toEqual(value('0x42'));
  });

  it('checks for an unsupported component before the read-only check', () => {
    const rig = new Rig(CORE2).enterWithVmcs();
    expect(rig.vmwrite(FIELD.EXIT_REASON + 1, 1)).toEqual(failValid(12));
  });
});

describe('VMREAD and VMWRITE preamble', () => {
  it('fail invalid when no VMCS is current', () => {
    const rig = new Rig().enter();
    expect(rig.vmwrite(FIELD.GUEST_RIP, 1)).toEqual(FAIL_INVALID);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(FAIL_INVALID);
  });

  it('fail invalid before looking at the encoding', () => {
    const rig = new Rig().enter();
    expect(rig.vmread(0x7fffn << 20n)).toEqual(FAIL_INVALID);
  });

  it('raise #UD outside VMX operation, in compatibility mode and in virtual-8086 mode', () => {
    const rig = new Rig(MAXIMAL);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(UD());
    expect(rig.vmwrite(FIELD.GUEST_RIP, 0)).toEqual(UD());
    rig.enterWithVmcs();
    rig.set('cs.l', 0);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(UD());
    expect(rig.vmwrite(FIELD.GUEST_RIP, 0)).toEqual(UD());
    rig.set('cs.l', 1);
    rig.set('rflags.vm', 1);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(UD());
    rig.set('rflags.vm', 0);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x0'));
  });

  it('raise #GP(0) at CPL > 0', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('cpl', 3);
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(GP());
    expect(rig.vmwrite(FIELD.GUEST_RIP, 0)).toEqual(GP());
  });

  it('accept a memory operand form', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step({ kind: 'vmwrite', cpu: 0, encoding: '0x681e', value: '0x9', form: 'memory' })).toEqual(SUCCEED);
    expect(rig.step({ kind: 'vmread', cpu: 0, encoding: '0x681E', form: 'memory' })).toEqual(value('0x9'));
    expect(rig.step({ kind: 'vmread', cpu: 0, encoding: '0X681e', form: 'register' })).toEqual(value('0x9'));
  });
});
