/**
 * SGDT, SIDT, LGDT, LIDT, SLDT, STR, LLDT and LTR, outside and inside VMX non-root operation.
 * Expected values from the SDM, December 2023: Vol. 2A/2B pages "LGDT/LIDT", "LLDT", "LTR",
 * "SGDT", "SIDT", "SLDT", "STR" (operations and exception lists: SLDT/STR/LLDT/LTR not recognized
 * in real-address and virtual-8086 mode; LGDT/LIDT/LLDT/LTR #GP(0) at CPL > 0; SGDT/SIDT/SLDT/STR
 * #GP(0) at CPL > 0 with CR4.UMIP = 1; LTR of a null selector #GP(0)); Vol. 3A §10.1.1 Table
 * 10-1 (GDTR and IDTR after reset: base 0, limit FFFFH; LDTR and TR selector 0); Vol. 3C §26.1.3
 * ("descriptor-table exiting"), §26.1.1 (privilege-based faults first), §28.2.1 (qualification:
 * the displacement, 0 here), §28.2.5 (length; the information formats "as Used for LIDT, LGDT,
 * SIDT, or SGDT" (operand size bit 11, identity 29:28: SGDT 0, SIDT 1, LGDT 2, LIDT 3) and "as
 * Used for LLDT, LTR, SLDT, and STR" (Reg1 6:3 and Mem/Reg 10 for a register; identity SLDT 0,
 * STR 1, LLDT 2, LTR 3)), §28.5.2 (a VM exit loads GDTR and IDTR bases from the host fields with
 * limits FFFFH, TR from the host selector, LDTR selector 0); Vol. 3D Appendix C (reasons 46, 47).
 * 0F 01 /n and 0F 00 /n are 3 bytes; a REX prefix adds one for R8-R15 in 64-bit mode.
 */
import { describe, expect, it } from 'vitest';
import { SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { DescriptorTableInstruction } from '../../../spec/system-instruction-operations.ts';
import type { Operation } from '../../../spec/operations.ts';
import { GP, MAXIMAL, ok, Rig, UD } from '../fixtures.ts';
import { exit, exitInformation, guest, GUEST_RIP, hostRead, secondary, SIXTY_FOUR } from './vmx-rig.ts';

const dt = (instruction: DescriptorTableInstruction, more: Partial<Extract<Operation, { kind: 'descriptor-table' }>> = {}): Operation => ({
  kind: 'descriptor-table',
  cpu: 0,
  instruction,
  ...more,
});
const stored = (value: string) => ({ kind: 'ok', value, flags: 0 }) as const;

const MEMORY_64 = (2 << 7) | (3 << 15) | (1 << 22) | (3 << 23);
const MEMORY_32 = (1 << 7) | (3 << 15) | (1 << 22) | (3 << 23);
const OPERAND_SIZE_32 = 1 << 11;
const identity = (n: number) => n << 28;
const REGISTER = 1 << 10;

describe('outside VMX non-root operation', () => {
  it('SGDT/SIDT/SLDT/STR give the values after reset: bases 0, selectors 0', () => {
    expect(new Rig().run([dt('sgdt'), dt('sidt'), dt('sldt'), dt('str', { form: 'register', gpr: 3 })])).toEqual([stored('0x0'), stored('0x0'), stored('0x0'), stored('0x0')]);
  });

  it('LGDT/LIDT load base and limit (64-bit base in 64-bit mode, bits 31:0 otherwise); SGDT/SIDT store them back', () => {
    const rig = new Rig();
    expect(rig.run([dt('lgdt', { limit: '0x7f', base: '0xffff800000001000' }), dt('lidt', { limit: '0xfff', base: '0x12345678' })])).toEqual([ok(), ok()]);
    expect(rig.run([dt('sgdt'), dt('sidt')])).toEqual([stored('0xffff800000001000'), stored('0x12345678')]);
    rig.set('cs.l', 0);
    expect(rig.step(dt('lgdt', { limit: '0x7f', base: '0xaaaaaaaa55555555' }))).toEqual(ok());
    expect(rig.step(dt('sgdt'))).toEqual(stored('0x55555555'));
    rig.set('cs.l', 1);
    expect(rig.step(dt('sgdt'))).toEqual(stored('0x55555555'));
    // The other processor's registers are its own.
    expect(rig.step({ ...dt('sgdt'), cpu: 1 })).toEqual(stored('0x0'));
  });

  it('LLDT of a null selector (bits 15:2 zero) completes and SLDT stores it; LTR of one raises #GP(0); others are unimplemented', () => {
    const rig = new Rig();
    expect(rig.step(dt('lldt', { selector: '0x3' }))).toEqual(ok());
    expect(rig.step(dt('sldt'))).toEqual(stored('0x3'));
    expect(rig.step(dt('ltr', { selector: '0x2', form: 'register', gpr: 1 }))).toEqual(GP());
    expect(rig.step(dt('lldt', { selector: '0x8' })).kind).toBe('unimplemented');
    expect(rig.step(dt('ltr', { selector: '0x40' })).kind).toBe('unimplemented');
  });

  it('SLDT/STR/LLDT/LTR are not recognized in real-address or virtual-8086 mode (#UD); SGDT/LGDT are', () => {
    const rig = new Rig();
    rig.set('rflags.vm', 1);
    expect(rig.run([dt('sldt'), dt('str'), dt('lldt', { selector: '0x0' }), dt('ltr', { selector: '0x0' })])).toEqual([UD(), UD(), UD(), UD()]);
    // Virtual-8086 mode runs at CPL 3: SGDT works (no UMIP), LGDT raises #GP(0).
    expect(rig.run([dt('sgdt'), dt('lgdt', { limit: '0x0', base: '0x0' })])).toEqual([stored('0x0'), GP()]);
  });

  it('at CPL 3: the loads raise #GP(0); the stores work unless CR4.UMIP = 1', () => {
    const rig = new Rig(MAXIMAL);
    rig.set('cpl', 3);
    expect(rig.run([dt('lgdt', { limit: '0x0', base: '0x0' }), dt('lidt', { limit: '0x0', base: '0x0' }), dt('lldt', { selector: '0x0' }), dt('ltr', { selector: '0x8' })])).toEqual(
      [GP(), GP(), GP(), GP()],
    );
    expect(rig.run([dt('sgdt'), dt('sidt'), dt('sldt'), dt('str')])).toEqual(Array(4).fill(stored('0x0')));
    rig.set('cpl', 0);
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x2820' })).toEqual(ok()); // UMIP (11), VMXE, PAE
    expect(rig.run([dt('sgdt'), dt('sldt')])).toEqual([stored('0x0'), stored('0x0')]);
    rig.set('cpl', 3);
    expect(rig.run([dt('sgdt'), dt('sidt'), dt('sldt'), dt('str')])).toEqual(Array(4).fill(GP()));
  });

  it('a VM exit loads GDTR/IDTR bases from the host fields (limits FFFFH), TR from the host selector, LDTR 0', () => {
    const rig = guest({ changes: SIXTY_FOUR });
    rig.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' });
    // Host fields of the valid VMCS: GDTR base 30000H, IDTR base 40000H, TR selector 40H.
    expect(rig.run([dt('sgdt'), dt('sidt'), dt('str'), dt('sldt')])).toEqual([stored('0x30000'), stored('0x40000'), stored('0x40'), stored('0x0')]);
  });
});

describe('in VMX non-root operation without "descriptor-table exiting"', () => {
  it('read and write the guest registers, which the VM exit saves in the guest-state fields', () => {
    const rig = guest({ changes: SIXTY_FOUR });
    // The valid VMCS's guest: GDTR 30000H/FFH, IDTR 40000H/FFFH, TR selector 18H, LDTR 0 (unusable).
    expect(rig.run([dt('sgdt'), dt('sidt'), dt('str'), dt('sldt')])).toEqual([stored('0x30000'), stored('0x40000'), stored('0x18'), stored('0x0')]);
    expect(rig.run([dt('lgdt', { limit: '0x1ff', base: '0x7fff00001000' }), dt('lidt', { limit: '0x7ff', base: '0x5000' }), dt('lldt', { selector: '0x0' })])).toEqual([ok(), ok(), ok()]);
    expect(rig.step(dt('sgdt'))).toEqual(stored('0x7fff00001000'));
    expect(rig.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(exit(10));
    expect([hostRead(rig, FIELD.GUEST_GDTR_BASE), hostRead(rig, FIELD.GUEST_GDTR_LIMIT), hostRead(rig, FIELD.GUEST_IDTR_BASE), hostRead(rig, FIELD.GUEST_IDTR_LIMIT)]).toEqual([
      0x7fff_0000_1000n,
      0x1ffn,
      0x5000n,
      0x7ffn,
    ]);
    expect(hostRead(rig, FIELD.GUEST_LDTR_ACCESS_RIGHTS) & 0x1_0000n).toBe(0x1_0000n);
    // Eight instructions of 3 bytes completed before the CPUID.
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 24n);
    // The host's registers are the host fields' again.
    expect(rig.step(dt('sgdt'))).toEqual(stored('0x30000'));
  });
});

describe('"descriptor-table exiting"', () => {
  const exiting = { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.DESCRIPTOR_TABLE_EXITING) };

  it('GDTR/IDTR instructions exit with 46, identity SGDT 0 ... LIDT 3, [RBX], operand size 32', () => {
    const cases: [DescriptorTableInstruction, number, Operation][] = [
      ['sgdt', 0, dt('sgdt')],
      ['sidt', 1, dt('sidt')],
      ['lgdt', 2, dt('lgdt', { limit: '0xffff', base: '0x0' })],
      ['lidt', 3, dt('lidt', { limit: '0xffff', base: '0x0' })],
    ];
    for (const [name, id, op] of cases) {
      const rig = guest({ changes: exiting });
      expect(rig.step(op), name).toEqual(exit(46));
      const information = BigInt((MEMORY_64 | identity(id)) >>> 0);
      const seen = exitInformation(rig);
      // Bit 11 (operand size) is undefined in 64-bit mode: compare the rest.
      expect({ ...seen, information: seen.information & ~BigInt(OPERAND_SIZE_32) }, name).toEqual({ reason: 46n, qualification: 0n, length: 3n, information });
      expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP);
    }
  });

  it('LDTR/TR instructions exit with 47: memory [RBX] or a register in Reg1 with Mem/Reg = 1 (R9: 4 bytes)', () => {
    const rig = guest({ changes: exiting });
    expect(rig.step(dt('str'))).toEqual(exit(47));
    expect(exitInformation(rig)).toEqual({ reason: 47n, qualification: 0n, length: 3n, information: BigInt(MEMORY_64 | identity(1)) });
    const other = guest({ changes: exiting });
    expect(other.step(dt('ltr', { selector: '0x0', form: 'register', gpr: 9 }))).toEqual(exit(47));
    const seen = exitInformation(other);
    // The address fields are undefined for a register operand: compare Reg1, Mem/Reg and the identity.
    expect([seen.length, seen.information & 0x3000_0478n]).toEqual([4n, BigInt(identity(3) | REGISTER | (9 << 3))]);
  });

  it('outside 64-bit mode: [EBX], operand size 32 (bit 11), register numbers keep bits 2:0', () => {
    const rig = guest({ changes: secondary(SECONDARY_CONTROL.DESCRIPTOR_TABLE_EXITING) });
    expect(rig.step(dt('lidt', { limit: '0x0', base: '0x0' }))).toEqual(exit(46));
    expect(exitInformation(rig).information).toBe(BigInt((MEMORY_32 | OPERAND_SIZE_32 | identity(3)) >>> 0));
    const other = guest({ changes: secondary(SECONDARY_CONTROL.DESCRIPTOR_TABLE_EXITING) });
    expect(other.step(dt('sldt', { form: 'register', gpr: 13 }))).toEqual(exit(47));
    const seen = exitInformation(other);
    expect([seen.length, seen.information & 0x3000_0478n]).toEqual([3n, BigInt(REGISTER | (5 << 3))]);
  });

  it('privilege-based #GP(0) comes before the exit; the LTR null-selector #GP(0) after it', () => {
    const rig = guest({ changes: exiting });
    rig.set('cpl', 3);
    expect(rig.step(dt('lgdt', { limit: '0x0', base: '0x0' }))).toEqual(GP());
    expect(rig.step(dt('sgdt'))).toEqual(exit(46)); // CR4.UMIP = 0: no fault at CPL 3
    const other = guest({ changes: exiting });
    expect(other.step(dt('ltr', { selector: '0x0' }))).toEqual(exit(47));
  });
});
