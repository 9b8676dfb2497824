/**
 * Processor-state operations (spec/operations.ts) besides MOV to CR0/CR4 (mov-cr.test.ts):
 * IA32_FEATURE_CONTROL per SDM Vol. 3C, December 2023, §24.7 "Enabling and Entering VMX
 * Operation", directly set state, and memory writes; plus the errors a caller bug gets.
 */
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../spec/operations.ts';
import { FIELD } from '../../spec/fields.ts';
import { GP, hex, ok, Rig, SKYLAKE, SUCCEED, UD, value, variant, VMXON_0 } from './fixtures.ts';

describe('WRMSR to IA32_FEATURE_CONTROL', () => {
  it('raises #GP(0) when the lock bit is set', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'write-feature-control', cpu: 0, value: '0x0' })).toEqual(GP());
  });

  it('writes an unlocked MSR; VMXON works once lock and the outside-SMX enable are set', () => {
    const rig = new Rig(variant(SKYLAKE, 'unlocked', { featureControl: '0x0' }));
    rig.layOut(VMXON_0);
    expect(rig.vmxon()).toEqual(GP());
    expect(rig.step({ kind: 'write-feature-control', cpu: 0, value: '0x4' })).toEqual(ok());
    expect(rig.vmxon()).toEqual(GP());
    expect(rig.step({ kind: 'write-feature-control', cpu: 0, value: '0x5' })).toEqual(ok());
    expect(rig.vmxon()).toEqual(SUCCEED);
    expect(rig.step({ kind: 'write-feature-control', cpu: 0, value: '0x5' })).toEqual(GP());
  });

  it('raises #GP(0) at CPL > 0 and in virtual-8086 mode even when unlocked (WRMSR is privileged)', () => {
    const rig = new Rig(variant(SKYLAKE, 'unlocked', { featureControl: '0x0' }));
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'write-feature-control', cpu: 0, value: '0x5' })).toEqual(GP());
    rig.set('cpl', 0);
    rig.set('rflags.vm', 1);
    expect(rig.step({ kind: 'write-feature-control', cpu: 0, value: '0x5' })).toEqual(GP());
  });

  it('is per logical processor', () => {
    const rig = new Rig(variant(SKYLAKE, 'unlocked', { featureControl: '0x0' }));
    rig.step({ kind: 'write-feature-control', cpu: 0, value: '0x5' });
    expect(rig.step({ kind: 'write-feature-control', cpu: 1, value: '0xffffffff00000005' })).toEqual(ok());
    expect(rig.step({ kind: 'write-feature-control', cpu: 1, value: '0x0' })).toEqual(GP());
  });
});

describe('set', () => {
  it('is observed as ok with the flags unchanged', () => {
    const rig = new Rig().enter();
    rig.vmread(FIELD.GUEST_RIP);
    expect(rig.set('cpl', 2)).toEqual(ok(0x1));
    expect(rig.set('mov-ss-blocking', 1)).toEqual(ok(0x1));
  });

  it('MOV-SS blocking lasts for the next instruction of that processor only (SDM §27.7.1: cleared after one instruction)', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('mov-ss-blocking', 1);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toMatchObject({ kind: 'vmfail-valid', error: 26 });
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toMatchObject({ kind: 'vmfail-valid', error: 7 });
  });

  it('MOV-SS blocking is ended by any instruction (here a faulting one), not by set or write-memory, nor by another processor', () => {
    const rig = new Rig().enterWithVmcs();
    rig.set('mov-ss-blocking', 1);
    expect(rig.step({ kind: 'write-memory', cpu: 0, address: '0x40000', value: '0x1' })).toEqual(ok());
    rig.set('cpl', 0);
    expect(rig.step({ kind: 'vmxoff', cpu: 1 })).toMatchObject({ kind: 'fault', vector: 'UD' });
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toMatchObject({ kind: 'vmfail-valid', error: 26 });
    rig.set('mov-ss-blocking', 1);
    rig.set('rflags.vm', 1);
    expect(rig.step({ kind: 'vmread', cpu: 0, encoding: '0x4400' })).toMatchObject({ kind: 'fault', vector: 'UD' });
    rig.set('rflags.vm', 0);
    expect(rig.step({ kind: 'vmlaunch', cpu: 0 })).toMatchObject({ kind: 'vmfail-valid', error: 7 });
  });
});

describe('write-memory', () => {
  it('stores a 32-bit word that VMXON and VMPTRLD read as the revision identifier', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'write-memory', cpu: 1, address: hex(VMXON_0), value: hex(rig.profile.revisionId) })).toEqual(ok());
    expect(rig.engine.machine.readMemory(VMXON_0, 0)).toBe(rig.profile.revisionId);
    expect(rig.vmxon()).toEqual(SUCCEED);
  });

  it('reads back zero where nothing was written, and full 32-bit words where something was', () => {
    const rig = new Rig();
    rig.step({ kind: 'write-memory', cpu: 0, address: '0xfffff000fffffffc', value: '0xffffffff' });
    expect(rig.engine.machine.readMemory(0xffff_fffc, 0xffff_f000)).toBe(0xffff_ffff);
    expect(rig.engine.machine.readMemory(0x8000, 0)).toBe(0);
  });
});

describe('caller bugs throw with a message', () => {
  const bad: [string, unknown, RegExp][] = [
    ['a cpu out of range', { kind: 'vmxoff', cpu: 2 }, /cpu 2 out of range/],
    ['a negative cpu', { kind: 'vmxoff', cpu: -1 }, /cpu must be a non-negative integer/],
    ['a fractional cpu', { kind: 'vmxoff', cpu: 0.5 }, /cpu must be a non-negative integer/],
    ['an unknown kind', { kind: 'halt', cpu: 0 }, /unknown operation kind "halt"/],
    ['an inherited kind', { kind: 'toString', cpu: 0 }, /unknown operation kind/],
    ['hex without 0x', { kind: 'vmxon', cpu: 0, pointer: '1000' }, /vmxon pointer: not a 64-bit hexadecimal value/],
    ['hex with 17 digits', { kind: 'vmxon', cpu: 0, pointer: '0x10000000000000000' }, /not a 64-bit hexadecimal/],
    ['hex with no digits', { kind: 'vmread', cpu: 0, encoding: '0x' }, /vmread encoding/],
    ['hex with a bad digit', { kind: 'vmwrite', cpu: 0, encoding: '0x0', value: '0x12g' }, /vmwrite value/],
    ['hex with a non-ASCII digit', { kind: 'vmwrite', cpu: 0, encoding: '0x٣', value: '0x0' }, /vmwrite encoding/],
    ['a number instead of hex', { kind: 'mov-cr0', cpu: 0, value: 5 }, /mov-cr0 value/],
    ['an unknown form', { kind: 'vmclear', cpu: 0, pointer: '0x0', form: 'immediate' }, /form must be/],
    ['an unknown form on vmread', { kind: 'vmread', cpu: 0, encoding: '0x0', form: 'reg' }, /form must be/],
    ['a malformed descriptor', { kind: 'invept', cpu: 0, type: '0x1', descriptor: ['0x0'] }, /descriptor must be/],
    ['a bad descriptor half', { kind: 'invvpid', cpu: 0, type: '0x1', descriptor: ['0x0', 'x'] }, /descriptor\[1\]/],
    ['an unaligned memory write', { kind: 'write-memory', cpu: 0, address: '0x1002', value: '0x0' }, /4-byte aligned/],
    ['a memory value wider than 32 bits', { kind: 'write-memory', cpu: 0, address: '0x1000', value: '0x100000000' }, /32 bits/],
    ['an unknown settable state', { kind: 'set', cpu: 0, what: 'cr2', value: 0 }, /unknown state "cr2"/],
    ['a cr3 wider than 32 bits', { kind: 'set', cpu: 0, what: 'cr3', value: 0x1_0000_0000 }, /out of range/],
    ['a set value out of range', { kind: 'set', cpu: 0, what: 'cs.l', value: 2 }, /0\.\.1/],
    ['a cpl out of range', { kind: 'set', cpu: 0, what: 'cpl', value: 4 }, /0\.\.3/],
    ['a non-number set value', { kind: 'set', cpu: 0, what: 'cpl', value: '1' }, /must be a number/],
    ['a fractional set value', { kind: 'set', cpu: 0, what: 'cpl', value: 1.5 }, /out of range/],
  ];
  for (const [what, op, message] of bad) {
    it(`for ${what}`, () => {
      const rig = new Rig();
      expect(() => rig.step(op as Operation)).toThrow(message);
    });
  }

  it('and leave the machine unchanged', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    expect(() => rig.step({ kind: 'set', cpu: 0, what: 'cpl', value: 9 })).toThrow();
    expect(rig.vmxon()).toEqual(SUCCEED);
  });

  it('for a machine with no logical processor', () => {
    expect(() => new Rig(SKYLAKE, 0)).toThrow(/positive integer/);
  });
});
