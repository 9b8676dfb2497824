/**
 * MOV to/from debug registers. Expected values from SDM Vol. 2B, December 2023, "MOV—Move to/from
 * Debug Registers" (#UD for DR4/DR5 with CR4.DE = 1, aliases of DR6/DR7 otherwise; #DB when
 * DR7.GD = 1; #GP(0) at CPL > 0; #GP(0) for bits 63:32 of DR6/DR7 in 64-bit mode), Vol. 3A §18.2
 * "Debug Registers" (fixed bits; GD cleared and BD set when the #DB is delivered), §10.1.1 (reset
 * values DR6 FFFF0FF0H, DR7 400H), Vol. 3C §26.1.3 (the MOV-DR exit takes priority over the
 * privilege #GP and the CR4.DE #UD), §28.2.1 (MOV DR qualification: DR number 2:0, direction 4,
 * register 11:8; a #DB exit's qualification reports BD in bit 13).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { GP, Rig, UD } from '../fixtures.ts';
import { bit, exit, Guest, OK } from './guest-rig.ts';

const read = (dr: number) => ({ kind: 'mov-dr', cpu: 0, direction: 'from', dr, gpr: 0 }) as const;
const write = (dr: number, value: string, gpr = 0) => ({ kind: 'mov-dr', cpu: 0, direction: 'to', dr, gpr, value }) as const;
const value = (text: string) => ({ kind: 'ok', value: text, flags: 0 }) as const;

describe('outside VMX non-root operation', () => {
  it('reads the reset values, writes DR0 in full and DR7 with its fixed bits', () => {
    const rig = new Rig();
    expect(rig.run([read(6), read(7)])).toEqual([value('0xffff0ff0'), value('0x400')]);
    expect(rig.run([write(0, '0xffff800012345678'), read(0)])).toEqual([OK, value('0xffff800012345678')]);
    expect(rig.run([write(7, '0x3'), read(7)])).toEqual([OK, value('0x403')]);
  });

  it('DR4/DR5 alias DR6/DR7 with CR4.DE = 0 and raise #UD with CR4.DE = 1', () => {
    const rig = new Rig();
    expect(rig.step(read(5))).toEqual(value('0x400'));
    expect(rig.step({ kind: 'mov-cr4', cpu: 0, value: '0x2028' })).toEqual(OK);
    expect(rig.step(read(4))).toEqual(UD());
  });

  it('raises #DB with DR7.GD = 1, then DR6.BD is set and GD clear', () => {
    const rig = new Rig();
    expect(rig.step(write(7, '0x2000'))).toEqual(OK);
    expect(rig.step(read(0))).toEqual({ kind: 'fault', vector: 'DB', flags: 0 });
    expect(rig.run([read(7), read(6)])).toEqual([value('0x400'), value('0xffff2ff0')]);
  });

  it('raises #GP(0) at CPL 3 and for bits 63:32 of DR7 in 64-bit mode', () => {
    const rig = new Rig();
    expect(rig.step(write(7, '0x100000000'))).toEqual(GP());
    rig.set('cpl', 3);
    expect(rig.step(read(0))).toEqual(GP());
  });
});

describe('in VMX non-root operation', () => {
  it('"MOV-DR exiting": exit 29, qualification with DR number, direction and register, ahead of the CPL #GP', () => {
    const guest = new Guest({ changes: { PRIMARY_PROCESSOR_BASED_CONTROLS: (v) => v | bit(PRIMARY_CONTROL.MOV_DR_EXITING) } });
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 3 });
    expect(guest.step({ kind: 'mov-dr', cpu: 0, direction: 'from', dr: 7, gpr: 10 })).toEqual(exit(29));
    expect([guest.info.qualificationLo, guest.info.instructionLength]).toEqual([0xa17, 4]);
  });

  it('a #DB from DR7.GD with bit 1 of the exception bitmap: exit 0 with BD (2000H) as the qualification', () => {
    const guest = new Guest({ changes: { EXCEPTION_BITMAP: bit(1) } });
    expect(guest.step(write(7, '0x2400', 3))).toEqual(OK);
    expect(guest.step(read(2))).toEqual(exit(0));
    expect([guest.info.interruptionInformation >>> 0, guest.info.qualificationLo]).toEqual([0x8000_0301, 0x2000]);
  });
});
