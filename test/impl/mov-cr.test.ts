/**
 * MOV to CR0 and CR4 in impl/, expectations from the SDM text (December 2023): Vol. 2B
 * "MOV—Move to/from Control Registers" (Description; exceptions by mode), Vol. 3A §2.5 "Control
 * Registers", §4.1.2 "Paging-Mode Enabling", §4.4.1 "PDPTE Registers", §10.8.5 "Initializing
 * IA-32e Mode", Vol. 3C §24.8 "Restrictions on VMX Operation" and the VMXON page (§31.3).
 */
import { describe, expect, it } from 'vitest';
import { ImplMachine, STATUS_GP, STATUS_SUCCEED } from '../../impl/index.ts';
import type { Operation } from '../../spec/operations.ts';
import { createProfile, type Profile } from '../../spec/profile.ts';
import { FIELD } from '../../spec/fields.ts';
import { GP, hex, MAXIMAL, ok, Rig, SKYLAKE, SUCCEED, UD, value, variant, VMXON_0 } from './fixtures.ts';

const cr0 = (v: bigint | number): Operation => ({ kind: 'mov-cr0', cpu: 0, value: hex(v) });
const cr4 = (v: bigint | number): Operation => ({ kind: 'mov-cr4', cpu: 0, value: hex(v) });
const store = (address: number, word: number): Operation => ({ kind: 'write-memory', cpu: 0, address: hex(address), value: hex(word) });

/** Compatibility mode, then paging off: IA-32e mode left (LMA = 0), LME still 1. */
function unpaged(rig: Rig): Rig {
  rig.set('cs.l', 0);
  expect(rig.step(cr0(0x31))).toEqual(ok());
  return rig;
}

describe('MOV to CR0 (impl)', () => {
  it('raises #GP(0) in virtual-8086 mode and at CPL > 0', () => {
    const rig = new Rig();
    rig.set('rflags.vm', 1);
    expect(rig.step(cr0(0x8000_0031))).toEqual(GP());
    rig.set('rflags.vm', 0);
    rig.set('cpl', 3);
    expect(rig.step(cr0(0x8000_0031))).toEqual(GP());
  });

  it('raises #GP(0) for bits 63:32 in 64-bit mode (in VMX operation too) and ignores them outside it', () => {
    const rig = new Rig();
    expect(rig.step(cr0(0x1_8000_0031n))).toEqual(GP());
    expect(rig.step(cr0(0x8000_0000_8000_0031n))).toEqual(GP());
    expect(new Rig().enter().step(cr0(0x1_8000_0031n))).toEqual(GP());
    rig.set('cs.l', 0);
    expect(rig.step(cr0(0xff_8000_0031n))).toEqual(ok());
  });

  it('ignores reserved bits 31:0 and keeps ET set ("CR0.ET remains set"): VMXON still succeeds', () => {
    const rig = new Rig();
    rig.layOut(VMXON_0);
    expect(rig.step(cr0(0x9ffb_ffe1))).toEqual(ok()); // every reserved bit 31:0 set, ET clear
    expect(rig.vmxon()).toEqual(SUCCEED);
    expect(rig.step(cr0(0x8000_0021))).toEqual(ok()); // ET clear in VMX operation
  });

  it('raises #GP(0) for PG without PE, NW without CD, and clearing PG in 64-bit mode', () => {
    const rig = new Rig();
    expect(rig.step(cr0(0x8000_0030))).toEqual(GP());
    expect(rig.step(cr0(0xa000_0031))).toEqual(GP());
    expect(rig.step(cr0(0xe000_0031))).toEqual(ok());
    expect(rig.step(cr0(0x31))).toEqual(GP());
  });

  it('raises #GP(0) for clearing PG with CR4.PCIDE = 1 and for clearing WP with CR4.CET = 1', () => {
    const rig = new Rig();
    expect(rig.step(cr4(0x2_2020))).toEqual(ok());
    rig.set('cs.l', 0);
    expect(rig.step(cr0(0x31))).toEqual(GP());
    const cet = new Rig(MAXIMAL);
    expect(cet.step(cr0(0x8001_0031))).toEqual(ok());
    expect(cet.step(cr4(0x80_2020))).toEqual(ok());
    expect(cet.step(cr0(0x8000_0031))).toEqual(GP());
  });

  it('activates IA-32e mode on setting PG with LME = 1 (compatibility mode: VMXON is #UD) and leaves it on clearing PG', () => {
    const rig = unpaged(new Rig());
    rig.layOut(VMXON_0);
    expect(rig.vmxon()).toEqual(GP()); // paging off: IA32_VMX_CR0_FIXED0
    expect(rig.step(cr0(0x8000_0031))).toEqual(ok());
    expect(rig.vmxon()).toEqual(UD()); // compatibility mode
    rig.set('cs.l', 1);
    expect(rig.vmxon()).toEqual(SUCCEED);
  });

  it('raises #GP(0) for activating IA-32e mode with CR4.PAE = 0 or CS.L = 1', () => {
    const rig = unpaged(new Rig());
    expect(rig.step(cr4(0x2000))).toEqual(ok());
    expect(rig.step(cr0(0x8000_0031))).toEqual(GP());
    expect(rig.step(cr4(0x2020))).toEqual(ok());
    rig.set('cs.l', 1);
    expect(rig.step(cr0(0x8000_0031))).toEqual(GP());
  });

  it('enables legacy paging with LME = 0 and checks the PDPTEs at CR3[31:5] for PAE paging', () => {
    const rig = unpaged(new Rig());
    rig.set('efer.lme', 0);
    rig.set('cr3', 0x3000);
    rig.run([store(0x3008, 0x1001), store(0x300c, 1 << 14)]); // bit 46 >= MAXPHYADDR (46)
    expect(rig.step(cr0(0x8000_0031))).toEqual(GP());
    rig.run([store(0x300c, 1 << 13)]);
    expect(rig.step(cr0(0x8000_0031))).toEqual(ok());
    rig.run([store(0x3018, 0x1e7)]); // present with bits 2:1 and 8:5
    expect(rig.step(cr0(0x8001_0031))).toEqual(ok()); // WP only: nothing loaded
    expect(rig.step(cr0(0xc001_0031))).toEqual(GP()); // CD changes: PDPTEs loaded
    expect(rig.step(cr4(0x2000))).toEqual(ok()); // to 32-bit paging: nothing loaded
    expect(rig.step(cr4(0x2020))).toEqual(GP()); // back to PAE paging
    rig.run([store(0x3018, 0x1e6)]); // not present
    expect(rig.step(cr4(0x2020))).toEqual(ok());
  });

  it('raises #GP(0) in VMX operation for clearing PE, NE or PG, leaving CR0 as it was', () => {
    const rig = new Rig().enterWithVmcs();
    expect(rig.step(cr0(0x8000_0030))).toEqual(GP());
    expect(rig.step(cr0(0x8000_0011))).toEqual(GP());
    expect(rig.vmread(FIELD.GUEST_RIP)).toEqual(value('0x0'));
    expect(rig.step(cr0(0xc000_0031))).toEqual(ok());
    expect(rig.vmxoff()).toEqual(SUCCEED);
  });

  it('checks the VMX fixed bits against the value CR0 takes (impl choice; §24.8 leaves it open)', () => {
    const profile: Profile = { ...createProfile(SKYLAKE), cr0Fixed1: 0xffff_ffbfn };
    const m = new ImplMachine(profile, 1);
    m.writeMemory(0, VMXON_0, 0, profile.revisionId);
    expect(m.vmxon(0, VMXON_0, 0)).toBe(STATUS_SUCCEED);
    expect(m.movCr0(0, 0x8000_0071, 0)).toBe(STATUS_SUCCEED); // bit 6 reserved, dropped
  });
});

describe('MOV to CR4 (impl)', () => {
  it('raises #GP(0) in virtual-8086 mode, at CPL > 0, and for clearing PAE in IA-32e mode', () => {
    const rig = new Rig();
    rig.set('rflags.vm', 1);
    expect(rig.step(cr4(0x2020))).toEqual(GP());
    rig.set('rflags.vm', 0);
    rig.set('cpl', 1);
    expect(rig.step(cr4(0x2020))).toEqual(GP());
    rig.set('cpl', 0);
    expect(rig.step(cr4(0x2000))).toEqual(GP());
    rig.set('cs.l', 0);
    expect(rig.step(cr4(0x2000))).toEqual(GP());
    rig.set('efer.lma', 0);
    expect(rig.step(cr4(0x2000))).toEqual(ok());
  });

  it('raises #GP(0) for bits the processor does not support (skylake: 0x3767FF) and bits 63:32 in 64-bit mode', () => {
    const rig = new Rig();
    for (const position of [11, 12, 15, 19, 22, 23, 24, 31]) {
      expect(rig.step(cr4(0x2020 + 2 ** position))).toEqual(GP());
    }
    expect(rig.step(cr4(0x1_0000_2020n))).toEqual(GP());
    for (const position of [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 14, 16, 17, 18, 20, 21]) {
      expect(rig.step(cr4(0x2020 + 2 ** position))).toEqual(ok());
    }
    rig.set('cs.l', 0);
    expect(rig.step(cr4(0x1_0000_2020n))).toEqual(ok());
  });

  it('takes the supported bits from the profile: a CPUID-dependent bit beyond IA32_VMX_CR4_FIXED1 is allowed outside VMX, and VMXON is then #GP(0)', () => {
    const profile: Profile = { ...createProfile(SKYLAKE), cr4Supported: 0x7767ffn };
    const m = new ImplMachine(profile, 1);
    m.writeMemory(0, VMXON_0, 0, profile.revisionId);
    expect(m.movCr4(0, 0x40_2020, 0)).toBe(STATUS_SUCCEED);
    expect(m.vmxon(0, VMXON_0, 0)).toBe(STATUS_GP);
    expect(m.movCr4(0, 0x2020, 0)).toBe(STATUS_SUCCEED);
    expect(m.vmxon(0, VMXON_0, 0)).toBe(STATUS_SUCCEED);
    expect(m.movCr4(0, 0x40_2020, 0)).toBe(STATUS_GP); // IA32_VMX_CR4_FIXED1 in VMX operation
  });

  it('raises #GP(0) for PCIDE outside IA-32e mode and for PCIDE 0 -> 1 with CR3[11:0] not 0', () => {
    const rig = new Rig();
    rig.set('cr3', 0x1005);
    expect(rig.step(cr4(0x2_2020))).toEqual(GP());
    rig.set('cr3', 0xffff_f000);
    expect(rig.step(cr4(0x2_2020))).toEqual(ok());
    rig.set('cr3', 0x1005);
    expect(rig.step(cr4(0x2_20a0))).toEqual(ok()); // PCIDE stays 1
    const legacy = unpaged(new Rig());
    expect(legacy.step(cr4(0x2_2020))).toEqual(GP());
  });

  it('raises #GP(0) for changing LA57 in IA-32e mode, and takes it with IA-32e mode off', () => {
    const rig = new Rig(MAXIMAL);
    expect(rig.step(cr4(0x3020))).toEqual(GP());
    unpaged(rig);
    expect(rig.step(cr4(0x3020))).toEqual(ok());
    expect(rig.step(cr0(0x8000_0031))).toEqual(ok());
    expect(rig.step(cr4(0x2020))).toEqual(GP());
  });

  it('raises #GP(0) for setting CET while CR0.WP = 0', () => {
    const rig = new Rig(MAXIMAL);
    expect(rig.step(cr4(0x80_2020))).toEqual(GP());
  });

  it('raises #GP(0) in VMX operation for clearing VMXE or a bit IA32_VMX_CR4_FIXED0 requires', () => {
    expect(new Rig().enter().step(cr4(0x20))).toEqual(GP());
    const rig = new Rig(variant(SKYLAKE, 'pae-fixed', { msrs: { IA32_VMX_CR4_FIXED0: '0x2020' } })).enter();
    rig.set('efer.lma', 0);
    expect(rig.step(cr4(0x2000))).toEqual(GP());
    expect(rig.step(cr4(0x2060))).toEqual(ok());
  });

  it('may clear VMXE outside VMX operation; VMXON is then #UD', () => {
    const rig = new Rig().enter();
    rig.vmxoff();
    expect(rig.step(cr4(0x20))).toEqual(ok());
    expect(rig.vmxon()).toEqual(UD());
  });
});
