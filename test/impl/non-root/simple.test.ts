/**
 * CPUID, HLT, INVD, WBINVD, INVLPG, RDTSC, RDTSCP, RDPMC, PAUSE, MONITOR, MWAIT and XSETBV, outside
 * and inside VMX non-root operation. Expected values from SDM Vol. 3C, December 2023: §26.1.2
 * "Instructions That Cause VM Exits Unconditionally", §26.1.3 "Instructions That Cause VM Exits
 * Conditionally", §26.1.1 "Relative Priority of Faults and VM Exits", §26.3 (RDTSCP), §28.2.1
 * (INVLPG and MWAIT qualifications), §28.2.5 (instruction length); exit reasons from Vol. 3D
 * Appendix C; lengths from the opcodes (Vol. 2 Appendix A).
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { GP, Rig, UD } from '../fixtures.ts';
import { bit, ENTRY_RIP, exit, Guest, OK } from './guest-rig.ts';

const primary = (...positions: number[]) => ({
  PRIMARY_PROCESSOR_BASED_CONTROLS: (valid: bigint) => positions.reduce((v, p) => v | bit(p), valid),
});
const secondary = (...positions: number[]) => ({
  SECONDARY_PROCESSOR_BASED_CONTROLS: (valid: bigint) => positions.reduce((v, p) => v | bit(p), valid),
});

describe('outside VMX non-root operation the instructions complete or fault as ordinary instructions', () => {
  it('completes CPUID, HLT, INVD, WBINVD, INVLPG, RDTSC, PAUSE, MONITOR, MWAIT at CPL 0', () => {
    const rig = new Rig();
    expect(
      rig.run([
        { kind: 'cpuid', cpu: 0, eax: '0x1', ecx: '0x0' },
        { kind: 'hlt', cpu: 0 },
        { kind: 'invd', cpu: 0 },
        { kind: 'wbinvd', cpu: 0 },
        { kind: 'invlpg', cpu: 0, address: '0x1000' },
        { kind: 'rdtsc', cpu: 0 },
        { kind: 'rdpmc', cpu: 0, ecx: '0x40000002' },
        { kind: 'pause', cpu: 0 },
        { kind: 'monitor', cpu: 0 },
        { kind: 'mwait', cpu: 0 },
      ]),
    ).toEqual(Array(10).fill(OK));
  });

  it('raises #GP(0) for the privileged ones at CPL 3 and #UD for MONITOR/MWAIT (Vol. 2 exception lists)', () => {
    const rig = new Rig();
    rig.set('cpl', 3);
    expect(rig.run([{ kind: 'hlt', cpu: 0 }, { kind: 'invd', cpu: 0 }, { kind: 'wbinvd', cpu: 0 }, { kind: 'invlpg', cpu: 0, address: '0x0' }])).toEqual(
      Array(4).fill(GP()),
    );
    expect(rig.run([{ kind: 'monitor', cpu: 0 }, { kind: 'mwait', cpu: 0 }])).toEqual([UD(), UD()]);
    // CPUID, RDTSC (CR4.TSD = 0) and PAUSE are not privileged.
    expect(rig.run([{ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' }, { kind: 'rdtsc', cpu: 0 }, { kind: 'pause', cpu: 0 }])).toEqual([OK, OK, OK]);
  });

  it('raises #GP(0) for RDPMC at CPL 3 with CR4.PCE = 0, and for a counter the processor lacks', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'rdpmc', cpu: 0, ecx: '0x8' })).toEqual(GP());
    expect(rig.step({ kind: 'rdpmc', cpu: 0, ecx: '0x40000003' })).toEqual(GP());
    rig.set('cpl', 3);
    expect(rig.step({ kind: 'rdpmc', cpu: 0, ecx: '0x0' })).toEqual(GP());
  });

  it('raises #UD for XSETBV with CR4.OSXSAVE = 0', () => {
    expect(new Rig().step({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x3' })).toEqual(UD());
  });
});

describe('unconditional VM exits (§26.1.2)', () => {
  it('CPUID: exit reason 10, qualification 0, instruction length 2, guest RIP of the CPUID', () => {
    const guest = new Guest();
    expect(guest.step({ kind: 'pause', cpu: 0 })).toEqual(OK);
    expect(guest.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual(exit(10));
    expect([guest.info.qualificationLo, guest.info.qualificationHi, guest.info.instructionLength]).toEqual([0, 0, 2]);
    // PAUSE (F3 90, 2 bytes) completed in the guest before the CPUID.
    expect(guest.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP + 2));
  });

  it('INVD: exit reason 13 (length 2), after the #GP(0) at CPL 3', () => {
    const guest = new Guest();
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 3 });
    expect(guest.step({ kind: 'invd', cpu: 0 })).toEqual(GP());
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 0 });
    expect(guest.step({ kind: 'invd', cpu: 0 })).toEqual(exit(13));
    expect(guest.info.instructionLength).toBe(2);
  });

  it('XSETBV: exit reason 55 (length 3) with CR4.OSXSAVE = 1, #UD before it with OSXSAVE = 0', () => {
    expect(new Guest().step({ kind: 'xsetbv', cpu: 0, ecx: '0x0', value: '0x1' })).toEqual(UD());
    const guest = new Guest({ changes: { GUEST_CR4: (valid) => valid | bit(18) } });
    expect(guest.step({ kind: 'xsetbv', cpu: 0, ecx: '0x5', value: '0x0' })).toEqual(exit(55));
    expect(guest.info.instructionLength).toBe(3);
  });
});

describe('VM exits under the processor-based controls (§26.1.3)', () => {
  it('HLT: completes with "HLT exiting" = 0; exit reason 12, length 1 with it 1', () => {
    expect(new Guest().step({ kind: 'hlt', cpu: 0 })).toEqual(OK);
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.HLT_EXITING) });
    expect(guest.step({ kind: 'hlt', cpu: 0 })).toEqual(exit(12));
    expect(guest.info.instructionLength).toBe(1);
    expect(guest.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP));
  });

  it('INVLPG: exit reason 14 with the linear address as the qualification (64-bit guest)', () => {
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.INVLPG_EXITING) });
    expect(guest.step({ kind: 'invlpg', cpu: 0, address: '0xffff800012345678' })).toEqual(exit(14));
    expect([guest.info.qualificationLo >>> 0, guest.info.qualificationHi >>> 0, guest.info.instructionLength]).toEqual([0x1234_5678, 0xffff_8000, 3]);
  });

  it('INVLPG: bits 63:32 of the qualification cleared outside 64-bit mode', () => {
    const guest = new Guest({ legacy: true, changes: primary(PRIMARY_CONTROL.INVLPG_EXITING) });
    expect(guest.step({ kind: 'invlpg', cpu: 0, address: '0x180000000' })).toEqual(exit(14));
    expect([guest.info.qualificationLo >>> 0, guest.info.qualificationHi]).toEqual([0x8000_0000, 0]);
  });

  it('RDTSC: exit reason 16 with "RDTSC exiting"; the #GP(0) of CR4.TSD at CPL 3 comes first', () => {
    const guest = new Guest({ changes: { ...primary(PRIMARY_CONTROL.RDTSC_EXITING), GUEST_CR4: (v) => v | bit(2) } });
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 3 });
    expect(guest.step({ kind: 'rdtsc', cpu: 0 })).toEqual(GP());
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 0 });
    expect(guest.step({ kind: 'rdtsc', cpu: 0 })).toEqual(exit(16));
  });

  it('RDTSCP: #UD when "enable RDTSCP" is 0; exit reason 51 (length 3) under "RDTSC exiting" when it is 1', () => {
    expect(new Guest({ changes: primary(PRIMARY_CONTROL.RDTSC_EXITING) }).step({ kind: 'rdtscp', cpu: 0 })).toEqual(UD());
    const changes = { ...primary(PRIMARY_CONTROL.RDTSC_EXITING), ...secondary(SECONDARY_CONTROL.ENABLE_RDTSCP) };
    const guest = new Guest({ changes });
    expect(guest.step({ kind: 'rdtscp', cpu: 0 })).toEqual(exit(51));
    expect(guest.info.instructionLength).toBe(3);
    expect(new Guest({ changes: secondary(SECONDARY_CONTROL.ENABLE_RDTSCP) }).step({ kind: 'rdtscp', cpu: 0 })).toEqual(OK);
  });

  it('RDPMC: exit reason 15 with "RDPMC exiting", ahead of the #GP(0) for a bad counter', () => {
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.RDPMC_EXITING) });
    expect(guest.step({ kind: 'rdpmc', cpu: 0, ecx: '0xffff' })).toEqual(exit(15));
  });

  it('PAUSE: exit reason 40 with "PAUSE exiting"', () => {
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.PAUSE_EXITING) });
    expect(guest.step({ kind: 'pause', cpu: 0 })).toEqual(exit(40));
    expect(guest.info.instructionLength).toBe(2);
  });

  it('PAUSE with "PAUSE-loop exiting" alone is unimplemented (the exit depends on timing)', () => {
    const guest = new Guest({ changes: secondary(SECONDARY_CONTROL.PAUSE_LOOP_EXITING) });
    expect(guest.step({ kind: 'pause', cpu: 0 })).toMatchObject({ kind: 'unimplemented' });
  });

  it('MONITOR: exit reason 39; MWAIT: exit reason 36, qualification bit 0 = the monitor is armed', () => {
    const monitorExits = new Guest({ changes: primary(PRIMARY_CONTROL.MONITOR_EXITING) });
    expect(monitorExits.step({ kind: 'monitor', cpu: 0 })).toEqual(exit(39));
    const mwaitExits = () => new Guest({ changes: primary(PRIMARY_CONTROL.MWAIT_EXITING) });
    const unarmed = mwaitExits();
    expect(unarmed.step({ kind: 'mwait', cpu: 0 })).toEqual(exit(36));
    expect(unarmed.info.qualificationLo).toBe(0);
    const armed = mwaitExits();
    expect(armed.step({ kind: 'monitor', cpu: 0 })).toEqual(OK);
    expect(armed.step({ kind: 'mwait', cpu: 0 })).toEqual(exit(36));
    expect(armed.info.qualificationLo).toBe(1);
    expect(armed.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP + 3));
  });

  it('WBINVD: exit reason 54 with "WBINVD exiting" (a secondary control)', () => {
    expect(new Guest().step({ kind: 'wbinvd', cpu: 0 })).toEqual(OK);
    expect(new Guest({ changes: secondary(SECONDARY_CONTROL.WBINVD_EXITING) }).step({ kind: 'wbinvd', cpu: 0 })).toEqual(exit(54));
  });
});
