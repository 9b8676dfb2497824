/**
 * MOV to/from CR0, CR3, CR4, CR8, CLTS and LMSW. Expected values from SDM Vol. 3C, December 2023:
 * §26.1.3 "Instructions That Cause VM Exits Conditionally" (the exit conditions), §26.3 "Changes
 * to Instruction Behavior in VMX Non-Root Operation" (read shadows, owned bits left unmodified),
 * §28.2.1 "Basic VM-Exit Information" (the control-register-access qualification: CR number 3:0,
 * access type 5:4, LMSW operand type 6, register 11:8, LMSW data 31:16), §30.3 "Virtualizing MOV
 * to CR8"; Vol. 2B "MOV—Move to/from Control Registers", "CLTS", "LMSW".
 */
import { describe, expect, it } from 'vitest';
import { PRIMARY_CONTROL } from '../../../spec/control-bits.ts';
import { S_CR0_LO, S_CR3_LO, S_CR4_LO } from '../../../impl/cpu-row.ts';
import { GP, Rig, UD } from '../fixtures.ts';
import { bit, ENTRY_RIP, exit, Guest, OK } from './guest-rig.ts';

const CR_ACCESS = 28;
const VMXE = bit(13);
const TS = 3;
const row = (guest: Guest, at: number): number => (guest.engine.machine.snapshot().state[at] as number) >>> 0;
const primary = (...positions: number[]) => ({
  PRIMARY_PROCESSOR_BASED_CONTROLS: (valid: bigint) => positions.reduce((v, p) => v | bit(p), valid),
});

describe('MOV to CR0 and CR4 in VMX non-root operation', () => {
  it('MOV CR4, R9 changing a host-owned bit: exit 28, qualification 904H, length 4', () => {
    const guest = new Guest({ changes: { CR4_GUEST_HOST_MASK: VMXE, CR4_READ_SHADOW: 0n } });
    expect(guest.step({ kind: 'mov-cr4', cpu: 0, value: '0x2020', gpr: 9 })).toEqual(exit(CR_ACCESS));
    expect([guest.info.qualificationLo, guest.info.qualificationHi, guest.info.instructionLength]).toEqual([0x904, 0, 4]);
    expect(guest.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP));
  });

  it('a value matching the shadow in the owned bits does not exit and leaves the owned bits unmodified', () => {
    const guest = new Guest({ changes: { CR4_GUEST_HOST_MASK: VMXE, CR4_READ_SHADOW: 0n } });
    expect(guest.step({ kind: 'mov-cr4', cpu: 0, value: '0x20', gpr: 1 })).toEqual(OK);
    expect(row(guest, S_CR4_LO) & 0x2020).toBe(0x2020);
    // MOV from CR4 takes VMXE from the read shadow (0): 20H.
    expect(guest.step({ kind: 'mov-from-cr', cpu: 0, cr: 4, gpr: 0 })).toEqual({ kind: 'ok', value: '0x20', flags: 0 });
    // Both instructions completed: 3 bytes each (0F 22 /r, 0F 20 /r).
    guest.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' });
    expect(guest.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP + 6));
  });

  it('MOV to CR0 exits when an owned bit differs from the shadow (qualification: register in 11:8)', () => {
    const guest = new Guest({ changes: { CR0_GUEST_HOST_MASK: bit(30), CR0_READ_SHADOW: 0n } });
    expect(guest.step({ kind: 'mov-cr0', cpu: 0, value: '0xc0000031', gpr: 2 })).toEqual(exit(CR_ACCESS));
    expect([guest.info.qualificationLo, guest.info.instructionLength]).toEqual([0x200, 3]);
  });

  it('MOV to CR0 raises #GP(0) at CPL 3 before any exit', () => {
    const guest = new Guest({ changes: { CR0_GUEST_HOST_MASK: bit(30), CR0_READ_SHADOW: 0n } });
    guest.step({ kind: 'set', cpu: 0, what: 'cpl', value: 3 });
    expect(guest.step({ kind: 'mov-cr0', cpu: 0, value: '0xc0000031' })).toEqual(GP());
  });

  it('MOV from CR0 with every bit owned returns the read shadow', () => {
    const guest = new Guest({ changes: { CR0_GUEST_HOST_MASK: 0xffff_ffff_ffff_ffffn, CR0_READ_SHADOW: 0x6000_0010n } });
    expect(guest.step({ kind: 'mov-from-cr', cpu: 0, cr: 0, gpr: 0 })).toEqual({ kind: 'ok', value: '0x60000010', flags: 0 });
  });
});

describe('MOV to/from CR3 in VMX non-root operation', () => {
  const cr3Exiting = (count: bigint, target: bigint) => ({
    ...primary(PRIMARY_CONTROL.CR3_LOAD_EXITING, PRIMARY_CONTROL.CR3_STORE_EXITING),
    CR3_TARGET_COUNT: count,
    CR3_TARGET_VALUE_0: target,
  });

  it('CR3-load exiting with count 0: every MOV to CR3 exits (qualification 3 | register << 8)', () => {
    const guest = new Guest({ changes: cr3Exiting(0n, 0x5000n) });
    expect(guest.step({ kind: 'mov-cr3', cpu: 0, value: '0x5000', gpr: 3 })).toEqual(exit(CR_ACCESS));
    expect([guest.info.qualificationLo, guest.info.instructionLength]).toEqual([0x303, 3]);
  });

  it('a value equal to one of the first count CR3-target values loads CR3 without an exit', () => {
    const guest = new Guest({ changes: cr3Exiting(1n, 0x5000n) });
    expect(guest.step({ kind: 'mov-cr3', cpu: 0, value: '0x5000', gpr: 3 })).toEqual(OK);
    expect(row(guest, S_CR3_LO)).toBe(0x5000);
    expect(guest.step({ kind: 'mov-cr3', cpu: 0, value: '0x6000', gpr: 12 })).toEqual(exit(CR_ACCESS));
    expect([guest.info.qualificationLo, guest.info.instructionLength]).toEqual([0xc03, 4]);
  });

  it('CR3-store exiting: MOV from CR3 exits with access type 1', () => {
    const guest = new Guest({ changes: cr3Exiting(0n, 0n) });
    expect(guest.step({ kind: 'mov-from-cr', cpu: 0, cr: 3, gpr: 5 })).toEqual(exit(CR_ACCESS));
    expect(guest.info.qualificationLo).toBe(0x513);
  });
});

describe('MOV to/from CR8', () => {
  it('outside VMX: loads and reads the TPR in 64-bit mode; #UD outside it; #GP(0) for bits 63:4', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'mov-cr8', cpu: 0, value: '0xa' })).toEqual(OK);
    expect(rig.step({ kind: 'mov-from-cr', cpu: 0, cr: 8, gpr: 0 })).toEqual({ kind: 'ok', value: '0xa', flags: 0 });
    expect(rig.step({ kind: 'mov-cr8', cpu: 0, value: '0x10' })).toEqual(GP());
    rig.set('cs.l', 0);
    expect(rig.step({ kind: 'mov-cr8', cpu: 0, value: '0x1' })).toEqual(UD());
  });

  it('CR8-load and CR8-store exiting: qualifications 8 and 18H with the register, length 4', () => {
    const guest = new Guest({ changes: primary(PRIMARY_CONTROL.CR8_LOAD_EXITING) });
    expect(guest.step({ kind: 'mov-cr8', cpu: 0, value: '0x3', gpr: 1 })).toEqual(exit(CR_ACCESS));
    expect([guest.info.qualificationLo, guest.info.instructionLength]).toEqual([0x108, 4]);
    const store = new Guest({ changes: primary(PRIMARY_CONTROL.CR8_STORE_EXITING) });
    expect(store.step({ kind: 'mov-from-cr', cpu: 0, cr: 8, gpr: 7 })).toEqual(exit(CR_ACCESS));
    expect(store.info.qualificationLo).toBe(0x718);
  });

  it('with "use TPR shadow": MOV CR8 reads and writes VTPR[7:4]; a TPR below the threshold exits (43) after the instruction', () => {
    const guest = new Guest({
      changes: { ...primary(PRIMARY_CONTROL.USE_TPR_SHADOW), TPR_THRESHOLD: 5n },
      memory: [[0x13080, 0x60]],
    });
    expect(guest.step({ kind: 'mov-from-cr', cpu: 0, cr: 8, gpr: 0 })).toEqual({ kind: 'ok', value: '0x6', flags: 0 });
    expect(guest.step({ kind: 'mov-cr8', cpu: 0, value: '0x7' })).toEqual(OK);
    expect(guest.engine.machine.readMemory(0x13080, 0)).toBe(0x70);
    expect(guest.step({ kind: 'mov-cr8', cpu: 0, value: '0x4' })).toEqual(exit(43));
    expect(guest.engine.machine.readMemory(0x13080, 0)).toBe(0x40);
    // Trap-like: guest RIP is past both MOV CR8 (4 bytes each) and the MOV from CR8 (4 bytes).
    expect(guest.read('GUEST_RIP')).toBe(BigInt(ENTRY_RIP + 12));
  });
});

describe('CLTS and LMSW', () => {
  it('CLTS exits (qualification 20H, length 2) when TS is owned and set in the shadow', () => {
    const guest = new Guest({ changes: { CR0_GUEST_HOST_MASK: bit(TS), CR0_READ_SHADOW: bit(TS) } });
    expect(guest.step({ kind: 'clts', cpu: 0 })).toEqual(exit(CR_ACCESS));
    expect([guest.info.qualificationLo, guest.info.instructionLength]).toEqual([0x20, 2]);
  });

  it('CLTS leaves an owned TS alone when the shadow bit is clear, and clears a guest-owned TS', () => {
    const owned = new Guest({ changes: { GUEST_CR0: (v) => v | bit(TS), CR0_GUEST_HOST_MASK: bit(TS), CR0_READ_SHADOW: 0n } });
    expect(owned.step({ kind: 'clts', cpu: 0 })).toEqual(OK);
    expect(row(owned, S_CR0_LO) & (1 << TS)).toBe(1 << TS);
    const free = new Guest({ changes: { GUEST_CR0: (v) => v | bit(TS) } });
    expect(free.step({ kind: 'clts', cpu: 0 })).toEqual(OK);
    expect(row(free, S_CR0_LO) & (1 << TS)).toBe(0);
  });

  it('LMSW exits when it would set an owned PE against a clear shadow bit (data in 31:16, memory form in bit 6)', () => {
    const changes = { CR0_GUEST_HOST_MASK: 0x9n, CR0_READ_SHADOW: 0n };
    const register = new Guest({ changes });
    expect(register.step({ kind: 'lmsw', cpu: 0, value: '0x1' })).toEqual(exit(CR_ACCESS));
    expect([register.info.qualificationLo, register.info.instructionLength]).toEqual([0x1_0030, 3]);
    const memory = new Guest({ changes });
    expect(memory.step({ kind: 'lmsw', cpu: 0, value: '0xfff9', form: 'memory', address: '0x7ff0' })).toEqual(exit(CR_ACCESS));
    expect(memory.info.qualificationLo >>> 0).toBe(0xfff9_0070);
    expect(memory.info.linearLo).toBe(0x7ff0);
    // Clearing PE never exits (LMSW cannot clear it) and leaves the owned TS and PE alone.
    const quiet = new Guest({ changes });
    expect(quiet.step({ kind: 'lmsw', cpu: 0, value: '0x6' })).toEqual(OK);
    expect(row(quiet, S_CR0_LO) & 0xf).toBe(0x7);
  });

  it('outside VMX: CLTS clears TS, LMSW loads bits 3:1 and cannot clear PE; both #GP(0) at CPL 3', () => {
    const rig = new Rig();
    expect(rig.step({ kind: 'lmsw', cpu: 0, value: '0xe' })).toEqual(OK);
    expect(rig.step({ kind: 'mov-from-cr', cpu: 0, cr: 0, gpr: 0 })).toEqual({ kind: 'ok', value: '0x8000003f', flags: 0 });
    expect(rig.step({ kind: 'clts', cpu: 0 })).toEqual(OK);
    expect(rig.step({ kind: 'mov-from-cr', cpu: 0, cr: 0, gpr: 0 })).toEqual({ kind: 'ok', value: '0x80000037', flags: 0 });
    rig.set('cpl', 3);
    expect(rig.run([{ kind: 'clts', cpu: 0 }, { kind: 'lmsw', cpu: 0, value: '0x1' }, { kind: 'mov-from-cr', cpu: 0, cr: 3, gpr: 0 }])).toEqual([GP(), GP(), GP()]);
  });
});
