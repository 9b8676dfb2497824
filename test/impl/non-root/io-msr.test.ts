/**
 * IN/OUT/INS/OUTS and RDMSR/WRMSR. Expected values from SDM Vol. 3C, December 2023: §26.1.3
 * "Instructions That Cause VM Exits Conditionally" (unconditional I/O exiting, I/O bitmaps with
 * wrap-around, MSR bitmaps and the MSRs outside their ranges), §25.6.4 "I/O-Bitmap Addresses",
 * §25.6.9 "MSR-Bitmap Address", §26.1.1 (the #GP(0) of RDMSR at CPL 3 precedes the exit), §28.2.1
 * (the I/O qualification: size - 1 in 2:0, IN in bit 3, string 4, REP 5, immediate 6, port 31:16;
 * the guest-linear address of INS/OUTS), §28.2.5 (the INS/OUTS instruction information).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { GP, Rig } from '../fixtures.ts';
import { bit, exit, Guest, OK } from './guest-rig.ts';

const IO = 30;
const RDMSR = 31;
const WRMSR = 32;
/** Where the valid VMCS puts the bitmaps (test/impl/vm-entry-vmcs.ts PAGES). */
const BITMAP_A = 0x10000;
const BITMAP_B = 0x11000;
const MSR_BITMAP = 0x12000;

const primary = (...positions: number[]) => ({
  PRIMARY_PROCESSOR_BASED_CONTROLS: (valid: bigint) => positions.reduce((v, p) => v | bit(p), valid),
});

describe('I/O instructions', () => {
  it('OUT DX, AL (DX = 80H) with unconditional I/O exiting: exit 30, qualification 800000H, length 1; OUT 80H, AL sets bit 6, length 2', () => {
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING) });
    expect(guest.step({ kind: 'io', cpu: 0, direction: 'out', port: 0x80, size: 1 })).toEqual(exit(IO));
    expect([guest.info.qualificationLo >>> 0, guest.info.instructionLength]).toEqual([0x80_0000, 1]);
    const immediate = new Guest({ changes: primary(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING) });
    expect(immediate.step({ kind: 'io', cpu: 0, direction: 'out', port: 0x80, size: 1, immediate: true })).toEqual(exit(IO));
    expect([immediate.info.qualificationLo >>> 0, immediate.info.instructionLength]).toEqual([0x80_0040, 2]);
  });

  it('completes without either control', () => {
    expect(new Guest().step({ kind: 'io', cpu: 0, direction: 'in', port: 0x3f8, size: 4 })).toEqual(OK);
  });

  it('with I/O bitmaps: the bit of any port touched decides (A below 8000H, B from it); unconditional exiting is ignored', () => {
    // Port 3F9H: word 3F9H >> 5 = 1FH of bitmap A, bit 19H.
    const changes = primary(PRIMARY_CONTROL.USE_IO_BITMAPS, PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING);
    const memory = [[BITMAP_A + 0x1f * 4, 1 << 0x19], [BITMAP_B + 4, 1 << 2]] as const;
    const guest = new Guest({ changes, memory });
    expect(guest.step({ kind: 'io', cpu: 0, direction: 'in', port: 0x3f8, size: 1 })).toEqual(OK);
    expect(guest.step({ kind: 'io', cpu: 0, direction: 'in', port: 0x3f8, size: 2 })).toEqual(exit(IO));
    // IN AX, DX: size code 1, IN, port 3F8H; 66 ED is 2 bytes.
    expect([guest.info.qualificationLo >>> 0, guest.info.instructionLength]).toEqual([0x3f8_0009, 2]);
    // Port 8022H: bitmap B, word 1, bit 2.
    const b = new Guest({ changes, memory });
    expect(b.step({ kind: 'io', cpu: 0, direction: 'out', port: 0x8022, size: 1 })).toEqual(exit(IO));
    expect(b.info.qualificationLo >>> 0).toBe(0x8022_0000);
  });

  it('an access wrapping past port FFFFH exits whatever the bitmaps say', () => {
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.USE_IO_BITMAPS) });
    expect(guest.step({ kind: 'io', cpu: 0, direction: 'in', port: 0xfffe, size: 2 })).toEqual(OK);
    expect(guest.step({ kind: 'io', cpu: 0, direction: 'in', port: 0xfffe, size: 4 })).toEqual(exit(IO));
    expect(guest.info.qualificationLo >>> 0).toBe(0xfffe_000b);
  });

  it('REP OUTSB: string and REP bits, the linear address, and the instruction information (64-bit address size, DS)', () => {
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.UNCONDITIONAL_IO_EXITING) });
    expect(guest.step({ kind: 'io', cpu: 0, direction: 'out', port: 0x1f0, size: 1, string: true, rep: true, address: '0x123456789' })).toEqual(exit(IO));
    expect([guest.info.qualificationLo >>> 0, guest.info.instructionLength]).toEqual([0x1f0_0030, 2]);
    expect([guest.info.linearLo >>> 0, guest.info.linearHi]).toEqual([0x2345_6789, 1]);
    // Skylake's IA32_VMX_BASIC[54] = 1: address size 2 in 9:7, segment DS (3) in 17:15.
    expect(guest.info.instructionInformation).toBe((2 << 7) | (3 << 15));
  });

  it('at CPL > IOPL the TSS I/O permission bitmap decides, which impl/ does not model', () => {
    const rig = new Rig();
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'io', cpu: 0, direction: 'in', port: 0x60, size: 1 })).toMatchObject({ kind: 'unimplemented' });
  });
});

describe('RDMSR and WRMSR', () => {
  it('exit unconditionally (31, 32; length 2) when "use MSR bitmaps" is 0', () => {
    const guest = new Guest();
    expect(guest.step({ kind: 'rdmsr', cpu: 0, ecx: '0x10' })).toEqual(exit(RDMSR));
    expect(guest.info.instructionLength).toBe(2);
    expect(new Guest().step({ kind: 'wrmsr', cpu: 0, ecx: '0x10', value: '0x0' })).toEqual(exit(WRMSR));
  });

  it('raise #GP(0) at CPL 3 before any exit', () => {
    const guest = new Guest();
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 3 });
    expect(guest.step({ kind: 'rdmsr', cpu: 0, ecx: '0x10' })).toEqual(GP());
  });

  it('with MSR bitmaps: read-low, read-high, write-low, write-high bits; MSRs outside both ranges exit', () => {
    // IA32_EFER (C0000080H): read-high bit 80H (word 4 at +1024), write-high bit 80H (word 4 at +3072).
    // IA32_FEATURE_CONTROL (3AH): read-low word 1 bit 1AH.
    const memory = [[MSR_BITMAP + 1024 + 16, 1], [MSR_BITMAP + 4, 1 << 0x1a]] as const;
    const make = () => new Guest({ changes: primary(PRIMARY_CONTROL.USE_MSR_BITMAPS), memory });
    const guest = make();
    expect(guest.step({ kind: 'rdmsr', cpu: 0, ecx: '0x480' })).toEqual(OK);
    expect(guest.step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0000080', value: '0xd01' })).toEqual(OK);
    expect(guest.step({ kind: 'rdmsr', cpu: 0, ecx: '0xc0000080' })).toEqual(exit(RDMSR));
    expect(make().step({ kind: 'rdmsr', cpu: 0, ecx: '0x3a' })).toEqual(exit(RDMSR));
    expect(make().step({ kind: 'wrmsr', cpu: 0, ecx: '0x3a', value: '0x5' })).toMatchObject({ kind: 'fault', vector: 'GP' });
    expect(make().step({ kind: 'rdmsr', cpu: 0, ecx: '0x2000' })).toEqual(exit(RDMSR));
    expect(make().step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0002000', value: '0x0' })).toEqual(exit(WRMSR));
  });

  // Vol. 2B RDMSR/WRMSR: #GP(0) "if the value in ECX specifies a reserved or unimplemented MSR address".
  it('outside VMX: capability MSRs read and refuse writes; an MSR impl/ does not have is #GP(0)', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'rdmsr', cpu: 0, ecx: '0x480' })).toEqual(OK);
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0x480', value: '0x0' })).toEqual(GP());
    expect(rig.step({ kind: 'rdmsr', cpu: 0, ecx: '0x1b' })).toEqual(OK);
    expect(rig.step({ kind: 'rdmsr', cpu: 0, ecx: '0x1234' })).toEqual(GP());
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0x1fff', value: '0x0' })).toEqual(GP());
    // An architectural MSR whose reserved bits impl/ does not track: the write is not implemented.
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0000081', value: '0x0' })).toMatchObject({ kind: 'unimplemented' });
    // IA32_EFER: a reserved bit, and a change of LME while paging is on, raise #GP(0).
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0000080', value: '0x1000' })).toEqual(GP());
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0000080', value: '0x1' })).toEqual(GP());
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0000080', value: '0x901' })).toEqual(OK);
    // IA32_TSC takes any value; IA32_LSTAR and IA32_KERNEL_GS_BASE a canonical address only.
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0x10', value: '0xffffffffffffffff' })).toEqual(OK);
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0000082', value: '0xffff800000000000' })).toEqual(OK);
    expect(rig.step({ kind: 'wrmsr', cpu: 0, ecx: '0xc0000102', value: '0x800000000000' })).toEqual(GP());
  });
});
