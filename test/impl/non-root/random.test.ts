/**
 * RDRAND and RDSEED, outside and inside VMX non-root operation. Expected values from the SDM,
 * December 2023: Vol. 2B "RDRAND—Read Random Number" and "RDSEED—Read Random SEED" (CF = 1 with a
 * value or CF = 0 with 0; OF, SF, ZF, AF, PF cleared; #UD without the CPUID feature; available at
 * every privilege level); Vol. 3C §26.1.3 "Instructions That Cause VM Exits Conditionally"
 * ("RDRAND exiting", "RDSEED exiting"), §28.2.1 (exit qualification 0 for them), §28.2.5 (the
 * instruction length, and the instruction information "as Used for RDRAND and RDSEED": bits 6:3
 * the destination register, bits 12:11 the operand size, 0 16-bit, 1 32-bit, 2 64-bit); Vol. 3D
 * Appendix C (reasons 57 and 61). Lengths from the opcodes: 0F C7 /6 (/7) with mod = 11b is 3
 * bytes, 66H adds one for 16 bits, a REX prefix one in 64-bit mode for R8-R15 or 64 bits.
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { FIELD } from '../../../spec/fields.ts';
import type { Observation } from '../../../spec/observations.ts';
import { CORE2, Rig, SKYLAKE, UD, variant } from '../fixtures.ts';
import { bit } from '../vm-entry-rig.ts';
import { exit, exitInformation, guest, GUEST_RIP, hostRead, secondary, SIXTY_FOUR } from './vmx-rig.ts';

const CF = 1;

/** The SDM's allowed outcomes of a completed RDRAND/RDSEED of `bits` bits. */
function allowed(seen: Observation, bits: number): boolean {
  if (seen.kind !== 'ok' || seen.value === undefined) return false;
  const value = BigInt(seen.value);
  if (seen.flags === CF) return value < 1n << BigInt(bits);
  return seen.flags === 0 && value === 0n;
}

describe('RDRAND and RDSEED outside VMX non-root operation', () => {
  it('complete with an allowed outcome for each operand size, at CPL 3 and in virtual-8086 mode too', () => {
    const rig = new Rig();
    for (const kind of ['rdrand', 'rdseed'] as const) {
      for (const size of [16, 32, 64] as const) expect(allowed(rig.step({ kind, cpu: 0, gpr: 2, size }), size), `${kind} ${size}`).toBe(true);
    }
    rig.set('cpl', 3);
    expect(allowed(rig.step({ kind: 'rdrand', cpu: 0, gpr: 0, size: 32 }), 32)).toBe(true);
    rig.set('rflags.vm', 1);
    expect(allowed(rig.step({ kind: 'rdseed', cpu: 0, gpr: 0, size: 16 }), 16)).toBe(true);
  });

  it('clear the other arithmetic flags (impl: CF = 1, value 9E3779B97F4A7C15H truncated)', () => {
    const rig = new Rig().enter();
    // VMXON's VMsucceed left the flags 0; a VMfailValid sets ZF first.
    rig.step({ kind: 'vmptrld', cpu: 0, pointer: '0x1000' });
    expect(rig.engine.machine.flags(0)).not.toBe(0);
    expect(rig.step({ kind: 'rdrand', cpu: 0, gpr: 0, size: 64 })).toEqual({ kind: 'ok', value: '0x9e3779b97f4a7c15', flags: CF });
  });

  it('use 32 bits outside 64-bit mode for size 64 (no REX.W there)', () => {
    const rig = new Rig();
    rig.set('cs.l', 0);
    const seen = rig.step({ kind: 'rdrand', cpu: 0, gpr: 1, size: 64 });
    expect(allowed(seen, 32)).toBe(true);
  });

  it('raise #UD where the processor lacks the instruction (Core 2 defaults, or the cpuid flag 0)', () => {
    expect(new Rig(CORE2).run([{ kind: 'rdrand', cpu: 0, gpr: 0, size: 32 }, { kind: 'rdseed', cpu: 0, gpr: 0, size: 32 }])).toEqual([UD(), UD()]);
    const noSeed = variant(SKYLAKE, 'no-rdseed', { cpuid: { rdseed: false } });
    const rig = new Rig(noSeed);
    expect(rig.step({ kind: 'rdseed', cpu: 0, gpr: 0, size: 32 })).toEqual(UD());
    expect(allowed(rig.step({ kind: 'rdrand', cpu: 0, gpr: 0, size: 32 }), 32)).toBe(true);
  });
});

describe('RDRAND and RDSEED in VMX non-root operation', () => {
  it('complete in the guest without the exiting controls; guest RIP moves past them', () => {
    const rig = guest({ changes: SIXTY_FOUR });
    expect(allowed(rig.step({ kind: 'rdrand', cpu: 0, gpr: 9, size: 64 }), 64)).toBe(true); // REX.W 0F C7 /6: 4 bytes
    expect(allowed(rig.step({ kind: 'rdseed', cpu: 0, gpr: 0, size: 16 }), 16)).toBe(true); // 66 0F C7 /7: 4 bytes
    expect(rig.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(exit(10));
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 8n);
  });

  it('"RDRAND exiting": exit 57, qualification 0, length and information (R9, 64-bit: 4 bytes, 2 << 11 | 9 << 3)', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.RDRAND_EXITING) } });
    expect(rig.step({ kind: 'rdrand', cpu: 0, gpr: 9, size: 64 })).toEqual(exit(57));
    expect(exitInformation(rig)).toEqual({ reason: 57n, qualification: 0n, length: 4n, information: BigInt((2 << 11) | (9 << 3)) });
    expect(hostRead(rig, FIELD.GUEST_RIP)).toBe(GUEST_RIP);
  });

  it('"RDSEED exiting": exit 61; 16-bit RDX (66 0F C7 /7: 3 + 1 bytes, size 0, register 2)', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.RDSEED_EXITING) } });
    expect(allowed(rig.step({ kind: 'rdrand', cpu: 0, gpr: 2, size: 16 }), 16)).toBe(true);
    expect(rig.step({ kind: 'rdseed', cpu: 0, gpr: 2, size: 16 })).toEqual(exit(61));
    expect(exitInformation(rig)).toEqual({ reason: 61n, qualification: 0n, length: 4n, information: BigInt(2 << 3) });
  });

  it('exits at CPL 3 too; outside 64-bit mode the register keeps bits 2:0 and size 64 is 32 bits (R10 -> RDX)', () => {
    const rig = guest({ changes: secondary(SECONDARY_CONTROL.RDRAND_EXITING) });
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'rdrand', cpu: 0, gpr: 10, size: 64 })).toEqual(exit(57));
    expect(exitInformation(rig)).toEqual({ reason: 57n, qualification: 0n, length: 3n, information: BigInt((1 << 11) | (2 << 3)) });
  });

  it('the exiting control counts only with "activate secondary controls" = 1', () => {
    const rig = guest({
      changes: { ...SIXTY_FOUR, SECONDARY_PROCESSOR_BASED_CONTROLS: bit(SECONDARY_CONTROL.RDRAND_EXITING), PRIMARY_PROCESSOR_BASED_CONTROLS: (valid) => valid & ~bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) },
    });
    expect(allowed(rig.step({ kind: 'rdrand', cpu: 0, gpr: 0, size: 32 }), 32)).toBe(true);
  });

  it('the register form of VMPTRLD is RDRAND EBX in a guest: "RDRAND exiting" gives exit 57 (not 21), length 3, EBX 32-bit', () => {
    const rig = guest({ changes: { ...SIXTY_FOUR, ...secondary(SECONDARY_CONTROL.RDRAND_EXITING) } });
    expect(rig.step({ kind: 'vmptrld', cpu: 0, pointer: '0x2000', form: 'register' })).toEqual(exit(57));
    expect(exitInformation(rig)).toEqual({ reason: 57n, qualification: 0n, length: 3n, information: BigInt((1 << 11) | (3 << 3)) });
    const plain = guest({ changes: SIXTY_FOUR });
    expect(allowed(plain.step({ kind: 'vmclear', cpu: 0, pointer: '0x2000', form: 'register' }), 16)).toBe(true);
    expect(plain.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(exit(10));
    // VMCLEAR's register form 66 0F C7 F3 is 4 bytes.
    expect(hostRead(plain, FIELD.GUEST_RIP)).toBe(GUEST_RIP + 4n);
  });
});
