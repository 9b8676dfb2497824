/**
 * The MSRs impl/ keeps (impl/vm-exit/msrs.ts), read and written as RDMSR and WRMSR at CPL 0 would
 * (SDM Vol. 2B, December 2023, "RDMSR" and "WRMSR"; Vol. 4 Table 2-2 "IA-32 Architectural MSRs";
 * Vol. 3A §13.12.2 "IA32_PAT MSR" for the memory types), and the VM-entry MSR-load area that now
 * writes them (Vol. 3C §27.4 "Loading MSRs": an entry fails when WRMSR of its data would be #GP).
 */
import { describe, expect, it } from 'vitest';
import { STRIDE } from '../../../impl/cpu-row.ts';
import { exitFactsFor } from '../../../impl/vm-exit/exit-facts.ts';
import { initialiseTrackedState } from '../../../impl/vm-exit/index.ts';
import { MSR_GP, MSR_INDEX, MSR_OK, MSR_UNKNOWN, readMsr, writeMsr } from '../../../impl/vm-exit/msrs.ts';
import { ENTRY_CONTROL, EXIT_CONTROL } from '../../../spec/control-bits.ts';
import { CORE2, MAXIMAL, SKYLAKE } from '../fixtures.ts';
import { validVmcs } from '../vm-entry-vmcs.ts';
import { launched, msrEntry, prepared, profileOf, read } from './rig.ts';

const facts = exitFactsFor(profileOf(SKYLAKE));
const out = new Int32Array(2);

function row(): Int32Array {
  const s = new Int32Array(STRIDE);
  initialiseTrackedState(s, 0);
  return s;
}

describe('RDMSR and WRMSR of the MSRs impl/ keeps', () => {
  it('IA32_PAT reads its power-up value 0007040600070406H; a write of memory types 2, 3 or above 7 is #GP', () => {
    const s = row();
    expect(readMsr(facts, s, 0, MSR_INDEX.IA32_PAT, out)).toBe(MSR_OK);
    expect([...out]).toEqual([0x0007_0406, 0x0007_0406]);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_PAT, 0x0706_0504, 0x0100_0100)).toBe(MSR_OK);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_PAT, 0x0000_0300, 0)).toBe(MSR_GP);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_PAT, 0, 0x0800_0000)).toBe(MSR_GP);
    readMsr(facts, s, 0, MSR_INDEX.IA32_PAT, out);
    expect([...out]).toEqual([0x0706_0504, 0x0100_0100]);
  });

  it('IA32_EFER: reserved bits are #GP; changing LME with CR0.PG = 1 is #GP; LMA is not written', () => {
    const s = row();
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_EFER, 1 << 2, 0)).toBe(MSR_GP);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_EFER, 0, 1)).toBe(MSR_GP);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_EFER, 0x801 | 0x400, 0)).toBe(MSR_OK); // NXE, SCE, LMA ignored
    readMsr(facts, s, 0, MSR_INDEX.IA32_EFER, out);
    expect(out[0]).toBe(0x801);
    s[1] = 1 << 31; // CR0.PG
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_EFER, 0x100, 0)).toBe(MSR_GP);
  });

  it('IA32_DEBUGCTL bits 5:3 and 63:16, IA32_PERF_GLOBAL_CTRL bits beyond 7:0 and 34:32 are reserved (#GP)', () => {
    const s = row();
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_DEBUGCTL, 1 << 3, 0)).toBe(MSR_GP);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_DEBUGCTL, 0x3, 0)).toBe(MSR_OK);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_PERF_GLOBAL_CTRL, 0x100, 0)).toBe(MSR_GP);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_PERF_GLOBAL_CTRL, 0xff, 0x7)).toBe(MSR_OK);
  });

  it('IA32_SYSENTER_ESP and _EIP must be canonical', () => {
    const s = row();
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_SYSENTER_EIP, 0, 0x0000_8000)).toBe(MSR_GP);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_SYSENTER_ESP, 0, 0xffff_8000 | 0)).toBe(MSR_OK);
  });

  it('IA32_BNDCFGS exists only with "load IA32_BNDCFGS" or "clear IA32_BNDCFGS"; its bits 11:2 are reserved', () => {
    const maximal = exitFactsFor(profileOf(MAXIMAL));
    const core2 = exitFactsFor(profileOf(CORE2));
    expect(core2.bndcfgsSupported).toBe(false);
    expect(readMsr(core2, row(), 0, MSR_INDEX.IA32_BNDCFGS, out)).toBe(MSR_GP);
    expect(maximal.bndcfgsSupported).toBe(true);
    expect(writeMsr(maximal, row(), 0, MSR_INDEX.IA32_BNDCFGS, 0x4, 0)).toBe(MSR_GP);
    expect(writeMsr(maximal, row(), 0, MSR_INDEX.IA32_BNDCFGS, 0x1001, 0)).toBe(MSR_OK);
  });

  it('the VMX capability MSRs read the profile and are read-only; IA32_SMBASE is SMM-only; others are not modelled', () => {
    const s = row();
    expect(readMsr(facts, s, 0, 0x481, out)).toBe(MSR_OK);
    expect(BigInt(out[0]! >>> 0) | (BigInt(out[1]! >>> 0) << 32n)).toBe(BigInt(SKYLAKE.msrs.IA32_VMX_PINBASED_CTLS));
    expect(writeMsr(facts, s, 0, 0x481, 0, 0)).toBe(MSR_GP);
    expect(readMsr(facts, s, 0, MSR_INDEX.IA32_SMBASE, out)).toBe(MSR_GP);
    expect(readMsr(facts, s, 0, MSR_INDEX.IA32_SMM_MONITOR_CTL, out)).toBe(MSR_OK);
    expect(readMsr(facts, s, 0, 0x10, out)).toBe(MSR_UNKNOWN);
    expect(writeMsr(facts, s, 0, 0x10, 0, 0)).toBe(MSR_UNKNOWN);
  });
});

describe('every kept MSR reads back what WRMSR wrote', () => {
  it.each([
    ['IA32_DEBUGCTL', MSR_INDEX.IA32_DEBUGCTL, 0x3, 0],
    ['IA32_SYSENTER_CS', MSR_INDEX.IA32_SYSENTER_CS, 0x10, 0],
    ['IA32_SYSENTER_ESP', MSR_INDEX.IA32_SYSENTER_ESP, 0x8000, 0x7fff],
    ['IA32_SYSENTER_EIP', MSR_INDEX.IA32_SYSENTER_EIP, 0x9000, 0xffff_8000 | 0],
    ['IA32_PERF_GLOBAL_CTRL', MSR_INDEX.IA32_PERF_GLOBAL_CTRL, 0xf, 0x7],
  ])('%s', (_, index, lo, hi) => {
    const s = row();
    expect(writeMsr(facts, s, 0, index, lo, hi)).toBe(MSR_OK);
    expect(readMsr(facts, s, 0, index, out)).toBe(MSR_OK);
    expect([...out]).toEqual([lo, hi]);
  });

  it('IA32_BNDCFGS (maximal profile)', () => {
    const maximal = exitFactsFor(profileOf(MAXIMAL));
    const s = row();
    expect(writeMsr(maximal, s, 0, MSR_INDEX.IA32_BNDCFGS, 0x1001, 0x7fff)).toBe(MSR_OK);
    expect(readMsr(maximal, s, 0, MSR_INDEX.IA32_BNDCFGS, out)).toBe(MSR_OK);
    expect([...out]).toEqual([0x1001, 0x7fff]);
  });

  it('IA32_FEATURE_CONTROL is writable until locked (bit 0), then #GP', () => {
    const s = row();
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_FEATURE_CONTROL, 0x5, 0)).toBe(MSR_OK);
    expect(readMsr(facts, s, 0, MSR_INDEX.IA32_FEATURE_CONTROL, out)).toBe(MSR_OK);
    expect(out[0]).toBe(0x5);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_FEATURE_CONTROL, 0x4, 0)).toBe(MSR_GP);
  });

  it('IA32_SMM_MONITOR_CTL and IA32_SMBASE are written only in SMM (#GP here)', () => {
    const s = row();
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_SMM_MONITOR_CTL, 0, 0)).toBe(MSR_GP);
    expect(writeMsr(facts, s, 0, MSR_INDEX.IA32_SMBASE, 0, 0)).toBe(MSR_GP);
  });

  it('a VMX capability MSR the profile does not report is #GP (Core 2 has no IA32_VMX_VMFUNC)', () => {
    expect(readMsr(exitFactsFor(profileOf(CORE2)), row(), 0, 0x491, out)).toBe(MSR_GP);
  });
});

describe('the VM-entry MSR-load area writes the MSRs impl/ keeps', () => {
  const skylake = validVmcs(profileOf(SKYLAKE));
  const AREA = 0x6_1000;
  const area = { VM_ENTRY_MSR_LOAD_COUNT: 1n, VM_ENTRY_MSR_LOAD_ADDRESS: BigInt(AREA) };

  it('after the guest-state fields: it overrides "load IA32_PAT", and the exit saves the loaded value', () => {
    const m = launched({
      changes: {
        ...area,
        VM_ENTRY_CONTROLS: (skylake.get('VM_ENTRY_CONTROLS') as bigint) | (1n << BigInt(ENTRY_CONTROL.LOAD_IA32_PAT)),
        PRIMARY_VM_EXIT_CONTROLS: (skylake.get('PRIMARY_VM_EXIT_CONTROLS') as bigint) | (1n << BigInt(EXIT_CONTROL.SAVE_IA32_PAT)),
      },
      memory: msrEntry(AREA, MSR_INDEX.IA32_PAT, 0x0101_0101, 0x0404_0404),
    });
    m.vmcall(0);
    expect(read(m, 'GUEST_IA32_PAT')).toBe(0x0404_0404_0101_0101n);
  });

  it('an entry whose data WRMSR would refuse fails the entry with exit reason 34 and its index', () => {
    const m = prepared({ changes: area, memory: msrEntry(AREA, MSR_INDEX.IA32_PAT, 0x2, 0) });
    expect(m.vmlaunch(0)).toBe(-6);
    expect([m.exitReason, m.exitQualificationLo]).toEqual([0x8000_0022, 1]);
  });
});
