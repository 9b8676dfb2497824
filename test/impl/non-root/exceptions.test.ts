/**
 * Exceptions in VMX non-root operation: the `exception` operation and the faults of guest
 * instructions through the exception bitmap. Expected values from SDM Vol. 3C, December 2023:
 * §26.2 "Other Causes of VM Exits" (the exception bitmap; a page fault exits when the bitmap's bit
 * 14 equals "(error code AND mask) = match"; NMIs under "NMI exiting"), §28.2.2 "Information for VM
 * Exits Due to Vectored Events" (interruption information: vector 7:0, type 10:8 — 2 NMI, 3
 * hardware exception, 6 software exception —, error code valid 11, valid 31; the error code),
 * §28.2.1 (the qualification of a page fault is the linear address), §28.2.5 (instruction length
 * for software exceptions); Vol. 3A §6.15 (which vectors push an error code).
 */
import { describe, expect, it } from 'vitest';
import { PIN_CONTROL } from '../../../spec/control-bits.ts';
import { GP, Rig, UD } from '../fixtures.ts';
import { bit, ENTRY_RIP, exit, Guest } from './guest-rig.ts';

const EXCEPTION = 0;
const VALID = 0x8000_0000;
const interruption = (vector: number, type: number, errorCode: boolean): number => (VALID | vector | (type << 8) | (errorCode ? 1 << 11 : 0)) >>> 0;

describe('the exception operation outside VMX non-root operation', () => {
  it('is delivered with its vector and, for the vectors that push one, its error code', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'exception', cpu: 0, vector: 14, errorCode: '0x6', address: '0xdead000' })).toEqual({
      kind: 'fault',
      vector: 'PF',
      errorCode: '0x6',
      flags: 0,
    });
    expect(rig.step({ kind: 'exception', cpu: 0, vector: 13 })).toEqual({ kind: 'fault', vector: 'GP', errorCode: '0x0', flags: 0 });
    expect(rig.step({ kind: 'exception', cpu: 0, vector: 6 })).toEqual(UD());
    expect(rig.step({ kind: 'exception', cpu: 0, vector: 0 })).toEqual({ kind: 'fault', vector: 'DE', flags: 0 });
  });

  it('rejects a reserved vector and an error code for a vector that pushes none', () => {
    const rig = new Rig();
    expect(() => rig.step({ kind: 'exception', cpu: 0, vector: 15 })).toThrow(/architectural exception vector/);
    expect(() => rig.step({ kind: 'exception', cpu: 0, vector: 6, errorCode: '0x1' })).toThrow(/no error code/);
  });
});

describe('the exception bitmap', () => {
  it('a #GP whose bit is set exits with reason 0, interruption information 80000B0DH and the error code', () => {
    const guest = new Guest({ changes: { EXCEPTION_BITMAP: bit(13) } });
    expect(guest.step({ kind: 'exception', cpu: 0, vector: 13, errorCode: '0x18' })).toEqual(exit(EXCEPTION));
    expect([guest.info.interruptionInformation >>> 0, guest.info.interruptionErrorCode, guest.info.qualificationLo]).toEqual([
      interruption(13, 3, true),
      0x18,
      0,
    ]);
    expect(guest.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP));
  });

  it('an exception whose bit is clear is delivered in the guest', () => {
    const guest = new Guest({ changes: { EXCEPTION_BITMAP: bit(13) } });
    expect(guest.step({ kind: 'exception', cpu: 0, vector: 17, errorCode: '0x0' })).toEqual({ kind: 'fault', vector: 'AC', errorCode: '0x0', flags: 0 });
  });

  it('#UD exits without an error code (80000306H); #BP is a software exception with instruction length 1', () => {
    const ud = new Guest({ changes: { EXCEPTION_BITMAP: bit(6) | bit(3) } });
    expect(ud.step({ kind: 'exception', cpu: 0, vector: 6 })).toEqual(exit(EXCEPTION));
    expect(ud.info.interruptionInformation >>> 0).toBe(0x8000_0306);
    const bp = new Guest({ changes: { EXCEPTION_BITMAP: bit(3) } });
    expect(bp.step({ kind: 'exception', cpu: 0, vector: 3 })).toEqual(exit(EXCEPTION));
    expect([bp.info.interruptionInformation >>> 0, bp.info.instructionLength]).toEqual([0x8000_0603, 1]);
  });

  it('a page fault: bit 14 taken as is when (error code AND mask) = match, inverted otherwise; the address is the qualification', () => {
    const pf = (bitmap: bigint, mask: bigint, match: bigint) =>
      new Guest({ changes: { EXCEPTION_BITMAP: bitmap, PAGE_FAULT_ERROR_CODE_MASK: mask, PAGE_FAULT_ERROR_CODE_MATCH: match } });
    const step = { kind: 'exception', cpu: 0, vector: 14, errorCode: '0x2', address: '0xffff800000001234' } as const;
    const matching = pf(bit(14), 0x2n, 0x2n);
    expect(matching.step(step)).toEqual(exit(EXCEPTION));
    expect([matching.info.qualificationLo, matching.info.qualificationHi >>> 0]).toEqual([0x1234, 0xffff_8000]);
    expect(matching.info.interruptionInformation >>> 0).toBe(interruption(14, 3, true));
    expect(pf(bit(14), 0x2n, 0x0n).step(step)).toMatchObject({ kind: 'fault', vector: 'PF', errorCode: '0x2' });
    expect(pf(0n, 0x2n, 0x0n).step(step)).toEqual(exit(EXCEPTION));
    expect(pf(0n, 0x0n, 0x0n).step(step)).toMatchObject({ kind: 'fault', vector: 'PF' });
  });

  it('an NMI exits under "NMI exiting" with type 2', () => {
    const pin = { PIN_BASED_CONTROLS: (valid: bigint) => valid | bit(PIN_CONTROL.NMI_EXITING) };
    const guest = new Guest({ changes: pin });
    expect(guest.step({ kind: 'exception', cpu: 0, vector: 2 })).toEqual(exit(EXCEPTION));
    expect(guest.info.interruptionInformation >>> 0).toBe(0x8000_0202);
    expect(new Guest().step({ kind: 'exception', cpu: 0, vector: 2 })).toMatchObject({ kind: 'fault', vector: 'NMI' });
  });
});

describe("guest instructions' faults go through the exception bitmap", () => {
  it('RDMSR at CPL 3: #GP(0) exits as exception 13 with error code 0; the RIP stays on the RDMSR', () => {
    const guest = new Guest({ changes: { EXCEPTION_BITMAP: bit(13) } });
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 3 });
    expect(guest.step({ kind: 'rdmsr', cpu: 0, ecx: '0x10' })).toEqual(exit(EXCEPTION));
    expect([guest.info.interruptionInformation >>> 0, guest.info.interruptionErrorCode]).toEqual([0x8000_0b0d, 0]);
    expect(guest.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP));
  });

  it('without the bit the #GP is delivered in the guest', () => {
    const guest = new Guest();
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 3 });
    expect(guest.step({ kind: 'hlt', cpu: 0 })).toEqual(GP());
  });

  it("a VMX instruction's #UD in the guest (VMXON with a register operand) exits as exception 6", () => {
    const guest = new Guest({ changes: { EXCEPTION_BITMAP: bit(6) } });
    expect(guest.step({ kind: 'vmxon', cpu: 0, pointer: '0x1000', form: 'register' })).toEqual(exit(EXCEPTION));
    expect(guest.info.interruptionInformation >>> 0).toBe(0x8000_0306);
    expect(new Guest().step({ kind: 'vmxon', cpu: 0, pointer: '0x1000', form: 'register' })).toEqual(UD());
  });

  it('RDTSCP with "enable RDTSCP" = 0 raises #UD, which the bitmap turns into an exit', () => {
    const guest = new Guest({ changes: { EXCEPTION_BITMAP: bit(6) } });
    expect(guest.step({ kind: 'rdtscp', cpu: 0 })).toEqual(exit(EXCEPTION));
  });
});
