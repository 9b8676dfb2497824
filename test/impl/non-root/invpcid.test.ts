/**
 * INVPCID, outside and inside VMX non-root operation. Expected values from the SDM, December 2023:
 * Vol. 2B "INVPCID—Invalidate Process-Context Identifier" (#GP(0) at CPL > 0, for a type above 3,
 * for descriptor bits 63:12 not 0, for type 0 or 1 with a PCID other than 0 while CR4.PCIDE = 0,
 * for type 0 with a non-canonical linear address; #GP(0) in virtual-8086 mode; #UD without the
 * CPUID feature; the register has 64 bits in 64-bit mode, 32 outside); Vol. 3C §26.3 "Changes to
 * Instruction Behavior in VMX Non-Root Operation" (#UD when "enable INVPCID" is 0; with it 1,
 * a VM exit when "INVLPG exiting" is 1), §26.1.1 (privilege-based faults before the exit, operand
 * checks after it), §28.2.1 (qualification: the displacement, 0 here), §28.2.5 (length; the
 * information "as Used for INVEPT, INVPCID, and INVVPID": address size 9:7, segment 17:15, index
 * invalid 22, base 26:23, Reg2 31:28); Vol. 3D Appendix C (reason 58). 66 0F 38 82 /r: 5 bytes,
 * one more for a REX prefix (type register R8-R15 in 64-bit mode).
 */
import { handlerOf } from '../guest-environment.ts';
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Operation } from '../../../spec/operations.ts';
import { CORE2, GP, ok, Rig, SKYLAKE, UD, variant } from '../fixtures.ts';
import { bit } from '../vm-entry-rig.ts';
import { exit, exitInformation, guest, GUEST_RIP, hostRead, or, secondary, SIXTY_FOUR } from './vmx-rig.ts';

const invpcid = (type: string, d0: string, d1: string, typeGpr?: number): Operation =>
  typeGpr === undefined ? { kind: 'invpcid', cpu: 0, type, descriptor: [d0, d1] } : { kind: 'invpcid', cpu: 0, type, descriptor: [d0, d1], typeGpr };

/** [RBX] in DS with no index, 64-bit addresses: address size 2 (9:7), DS 3 (17:15), index invalid (22), base RBX 3 (26:23). */
const MEMORY_64 = (2 << 7) | (3 << 15) | (1 << 22) | (3 << 23);
const MEMORY_32 = (1 << 7) | (3 << 15) | (1 << 22) | (3 << 23);
const ENABLED = { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.ENABLE_INVPCID) };
const EXITING = { ...ENABLED, PRIMARY_PROCESSOR_BASED_CONTROLS: or(bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) | bit(PRIMARY_CONTROL.INVLPG_EXITING)) };

describe('INVPCID outside VMX non-root operation', () => {
  it('completes each type 0-3 with a valid descriptor', () => {
    const rig = new Rig();
    expect(rig.run(['0x0', '0x1', '0x2', '0x3'].map((type) => invpcid(type, '0x0', '0x7fff_ffff_f000'.replace(/_/g, ''))))).toEqual(Array(4).fill(ok()));
  });

  it('#GP(0): type above 3 (all 64 bits in 64-bit mode), descriptor bits 63:12, PCID with CR4.PCIDE = 0 (types 0 and 1), non-canonical address (type 0)', () => {
    const rig = new Rig();
    expect(rig.step(invpcid('0x4', '0x0', '0x0'))).toEqual(GP());
    expect(rig.step(invpcid('0x100000000', '0x0', '0x0'))).toEqual(GP());
    expect(rig.step(invpcid('0x2', '0x1000', '0x0'))).toEqual(GP());
    expect(rig.step(invpcid('0x2', '0x100000000', '0x0'))).toEqual(GP());
    expect(rig.step(invpcid('0x0', '0x1', '0x0'))).toEqual(GP());
    expect(rig.step(invpcid('0x1', '0xfff', '0x0'))).toEqual(GP());
    expect(rig.step(invpcid('0x2', '0xfff', '0x0'))).toEqual(ok()); // types 2 and 3 ignore the PCID
    expect(rig.step(invpcid('0x0', '0x0', '0x800000000000'))).toEqual(GP());
    expect(rig.step(invpcid('0x1', '0x0', '0x800000000000'))).toEqual(ok()); // the address matters to type 0 only
    expect(rig.step(invpcid('0x0', '0x0', '0xffff800000000000'))).toEqual(ok());
  });

  it('allows a PCID for types 0 and 1 with CR4.PCIDE = 1', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x22020' })).toEqual(ok()); // PCIDE (17), PAE, VMXE; CR3[11:0] = 0
    expect(rig.run([invpcid('0x0', '0x5', '0x1000'), invpcid('0x1', '0xfff', '0x0')])).toEqual([ok(), ok()]);
  });

  it('outside 64-bit mode the type register has 32 bits (bits 63:32 of the value are not in it)', () => {
    const rig = new Rig();
    rig.set('cs.l', 0);
    expect(rig.step(invpcid('0x100000003', '0x0', '0x0'))).toEqual(ok());
    expect(rig.step(invpcid('0x4', '0x0', '0x0'))).toEqual(GP());
  });

  it('#GP(0) at CPL > 0 and in virtual-8086 mode before the operand checks; #UD without the feature', () => {
    const rig = new Rig();
    rig.set('cpl', 3);
    expect(rig.step(invpcid('0x2', '0x0', '0x0'))).toEqual(GP());
    rig.set('cpl', 0);
    rig.set('rflags.vm', 1);
    expect(rig.step(invpcid('0x2', '0x0', '0x0'))).toEqual(GP());
    expect(new Rig(CORE2).step(invpcid('0x2', '0x0', '0x0'))).toEqual(UD());
    expect(new Rig(variant(SKYLAKE, 'no-invpcid', { cpuid: { invpcid: false } })).step(invpcid('0x2', '0x0', '0x0'))).toEqual(UD());
  });
});

describe('INVPCID in VMX non-root operation', () => {
  it('#UD when "enable INVPCID" is 0, even with "INVLPG exiting" 1 and at CPL 3', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, PRIMARY_PROCESSOR_BASED_CONTROLS: or(bit(PRIMARY_CONTROL.INVLPG_EXITING)) } });
    expect(rig.step(invpcid('0x2', '0x0', '0x0'))).toEqual(UD());
    rig.set('cpl', 3);
    expect(rig.step(invpcid('0x2', '0x0', '0x0'))).toEqual(UD());
    expect(rig.engine.machine.inVmxNonRoot(0)).toBe(true);
  });

  it('executes in the guest with "enable INVPCID" 1 and "INVLPG exiting" 0 (operand faults included)', () => {
    const rig = guest({ changes: ENABLED });
    expect(rig.step(invpcid('0x3', '0x0', '0x0'))).toEqual(ok());
    expect(rig.step(invpcid('0x4', '0x0', '0x0'))).toEqual(GP());
    expect(rig.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(exit(10));
    // The #GP(0) was delivered through the guest IDT (test/impl/guest-environment.ts): the CPUID
    // that exits is the handler's first instruction.
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(BigInt(handlerOf(13)));
  });

  it('exits (58) with "INVLPG exiting" 1, before the operand checks, after the CPL check', () => {
    const rig = guest({ changes: EXITING });
    rig.set('cpl', 3);
    expect(rig.step(invpcid('0x2', '0x0', '0x0'))).toEqual(GP());
    rig.set('cpl', 0);
    expect(rig.step(invpcid('0x7', '0xffff', '0x0'))).toEqual(exit(58));
    expect(exitInformation(rig)).toEqual({ reason: 58n, qualification: 0n, length: 5n, information: BigInt(MEMORY_64 | (1 << 28)) });
    // After the #GP(0) delivered through the guest IDT, at the handler.
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(BigInt(handlerOf(13)));
  });

  it('reports the type register in Reg2 (R12: a REX prefix, 6 bytes); outside 64-bit mode bits 2:0 and [EBX]', () => {
    const rig = guest({ changes: EXITING });
    expect(rig.step(invpcid('0x0', '0x0', '0x0', 12))).toEqual(exit(58));
    expect(exitInformation(rig)).toEqual({ reason: 58n, qualification: 0n, length: 6n, information: BigInt((MEMORY_64 | (12 << 28)) >>> 0) });
    const legacy = guest({ changes: { ...EXITING, VM_ENTRY_CONTROLS: (valid) => valid, GUEST_CS_ACCESS_RIGHTS: 0xc09bn } });
    expect(legacy.step(invpcid('0x0', '0x0', '0x0', 12))).toEqual(exit(58));
    expect(exitInformation(legacy)).toEqual({ reason: 58n, qualification: 0n, length: 5n, information: BigInt(MEMORY_32 | (4 << 28)) });
  });
});
