import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { ioAccessPorts, ioBitmapPosition, msrBitmapPosition, vmcsShadowingBitmapPosition } from '../../spec/exit-bitmaps.ts';
import {
  CONDITIONAL_EXITS,
  EXIT_CONDITIONS,
  EXIT_PRIORITY_NOTES,
  UNCONDITIONAL_EXITS,
  controlBit,
  exitConditionsFor,
} from '../../spec/exit-conditions.ts';
import { EXIT_REASON, EXIT_REASONS } from '../../spec/exit-reasons.ts';

// Expectations from SDM Vol. 3C §25.6.4 "I/O-Bitmap Addresses", §25.6.9 "MSR-Bitmap Address",
// §25.6.15 "VMCS Shadowing Bitmap Addresses", §26.1.2 and §26.1.3 (December 2023).
describe('I/O bitmaps', () => {
  it('port 0 is bit 0 of byte 0 of A; 7FFFH the last bit of A; 8000H bit 0 of B; FFFFH bit 7 of byte FFFH of B', () => {
    expect(ioBitmapPosition(0)).toEqual({ bitmap: 'A', byteOffset: 0, bit: 0 });
    expect(ioBitmapPosition(0x80)).toEqual({ bitmap: 'A', byteOffset: 0x10, bit: 0 });
    expect(ioBitmapPosition(0x7fff)).toEqual({ bitmap: 'A', byteOffset: 0xfff, bit: 7 });
    expect(ioBitmapPosition(0x8000)).toEqual({ bitmap: 'B', byteOffset: 0, bit: 0 });
    expect(ioBitmapPosition(0xffff)).toEqual({ bitmap: 'B', byteOffset: 0xfff, bit: 7 });
    expect(() => ioBitmapPosition(0x10000)).toThrow(/not in 0..0xFFFF/);
  });
  it('a 4-byte access at FFFEH touches FFFEH, FFFFH, 0000H, 0001H and wraps; one at 7FFEH crosses into B without wrapping', () => {
    expect(ioAccessPorts(0xfffe, 4)).toEqual({ ports: [0xfffe, 0xffff, 0, 1], wraps: true });
    expect(ioAccessPorts(0x7ffe, 4)).toEqual({ ports: [0x7ffe, 0x7fff, 0x8000, 0x8001], wraps: false });
    expect(ioAccessPorts(0xffff, 1).wraps).toBe(false);
  });
});

describe('MSR bitmaps', () => {
  it('reads of low MSRs from byte 0, high MSRs from 1024; writes from 2048 and 3072', () => {
    expect(msrBitmapPosition(0x10, 'read')).toEqual({ byteOffset: 2, bit: 0 }); // IA32_TIME_STAMP_COUNTER
    expect(msrBitmapPosition(0x1fff, 'write')).toEqual({ byteOffset: 2048 + 0x3ff, bit: 7 });
    expect(msrBitmapPosition(0xc000_0080, 'read')).toEqual({ byteOffset: 1024 + 0x10, bit: 0 }); // IA32_EFER
    expect(msrBitmapPosition(0xc000_0082, 'write')).toEqual({ byteOffset: 3072 + 0x10, bit: 2 }); // IA32_LSTAR
  });
  it('MSRs outside both ranges have no bit (they always exit)', () => {
    expect(msrBitmapPosition(0x2000, 'read')).toBeUndefined();
    expect(msrBitmapPosition(0xc000_2000, 'write')).toBeUndefined();
    expect(msrBitmapPosition(0x4000_0000, 'read')).toBeUndefined();
  });
});

describe('VMREAD and VMWRITE bitmaps', () => {
  it('index the bitmap with bits 14:0 of the encoding; an encoding with bits 63:15 set has no bit', () => {
    expect(vmcsShadowingBitmapPosition(0x4402n)).toEqual({ byteOffset: 0x880, bit: 2 }); // exit reason
    expect(vmcsShadowingBitmapPosition(0x7fffn)).toEqual({ byteOffset: 0xfff, bit: 7 });
    expect(vmcsShadowingBitmapPosition(0x8000n)).toBeUndefined();
    expect(vmcsShadowingBitmapPosition(0x1_0000_4402n)).toBeUndefined();
  });
});

describe('the exit-condition table', () => {
  it('lists the unconditional exits of §26.1.2 (CPUID, GETSEC, INVD, XSETBV and the VMX instructions but VMREAD/VMWRITE)', () => {
    expect(UNCONDITIONAL_EXITS.map((row) => row.instruction)).toEqual([
      'CPUID', 'GETSEC', 'INVD', 'XSETBV', 'INVEPT', 'INVVPID', 'VMCALL', 'VMCLEAR', 'VMLAUNCH', 'VMPTRLD', 'VMPTRST', 'VMRESUME', 'VMXOFF', 'VMXON',
    ]);
  });
  it('names the governing controls by their spec/control-bits.ts names', () => {
    const hlt = CONDITIONAL_EXITS.find((row) => row.instruction === 'HLT');
    expect(hlt?.governor).toEqual({ kind: 'controls', controls: [{ set: 'primary', name: 'HLT_EXITING' }] });
    expect(controlBit({ set: 'primary', name: 'HLT_EXITING' })).toBe(PRIMARY_CONTROL.HLT_EXITING);
    expect(controlBit({ set: 'secondary', name: 'WBINVD_EXITING' })).toBe(SECONDARY_CONTROL.WBINVD_EXITING);
    expect(controlBit({ set: 'pin', name: 'NMI_EXITING' })).toBe(3);
    const rdtscp = exitConditionsFor('rdtscp')[0];
    expect(rdtscp?.reason).toBe(EXIT_REASON.RDTSCP);
    expect(rdtscp?.governor.kind === 'rule' && rdtscp.governor.controls.map((c) => c.name)).toEqual(['ENABLE_RDTSCP', 'RDTSC_EXITING']);
  });
  it('gives every row a basic exit reason of Appendix C, and every guest operation at least one row', () => {
    const known = new Set(EXIT_REASONS.map((reason) => reason.number));
    for (const row of EXIT_CONDITIONS) expect(known.has(row.reason)).toBe(true);
    for (const kind of ['cpuid', 'hlt', 'invd', 'wbinvd', 'invlpg', 'rdtsc', 'rdtscp', 'rdpmc', 'pause', 'mov-from-cr', 'mov-cr3', 'mov-cr8', 'clts', 'lmsw', 'mov-dr', 'rdmsr', 'wrmsr', 'io', 'xsetbv', 'monitor', 'mwait', 'exception', 'mov-cr0', 'mov-cr4'] as const) {
      expect(exitConditionsFor(kind).length).toBeGreaterThan(0);
    }
    expect(exitConditionsFor('mov-from-cr').map((row) => row.instruction)).toEqual(['MOV from CR3', 'MOV from CR8']);
    expect(EXIT_PRIORITY_NOTES.length).toBeGreaterThan(3);
  });
});
