/**
 * The VM-exit MSR-store area (SDM Vol. 3C, December 2023, §28.4 "Saving MSRs"), the VM-exit
 * MSR-load area (§28.6 "Loading MSRs") and the VMX aborts their failures cause (§28.7 "VMX
 * Aborts": indicator 1 for saving, 4 for loading, written at byte offset 4 of the VMCS region,
 * the processor shut down). Expected values from the SDM text.
 */
import { describe, expect, it } from 'vitest';
import { ImplEngine, STATUS_INACTIVE, STATUS_VMENTRY, STATUS_VMEXIT, STATUS_VMX_ABORT } from '../../../impl/index.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { execute, encodeOperation, RECORD_WORDS } from '../../../impl/program.ts';
import { ENTRY_CONTROL, EXIT_CONTROL } from '../../../spec/control-bits.ts';
import { SKYLAKE } from '../fixtures.ts';
import { validVmcs } from '../vm-entry-vmcs.ts';
import { launched, LOAD_AREA, msrEntry, profileOf, read, STORE_AREA, VMCS, write } from './rig.ts';

const IA32_PAT = 0x277;
const IA32_EFER = 0xc000_0080;
const IA32_SYSENTER_CS = 0x174;
const IA32_FS_BASE = 0xc000_0100;
const IA32_SMBASE = 0x9e;
const IA32_SMM_MONITOR_CTL = 0x9b;
const X2APIC_TPR = 0x808;
const IA32_VMX_BASIC = 0x480;
const bit = (n: number): bigint => 1n << BigInt(n);
const skylake = validVmcs(profileOf(SKYLAKE));
const exitControls = skylake.get('PRIMARY_VM_EXIT_CONTROLS') as bigint;
const entryControls = skylake.get('VM_ENTRY_CONTROLS') as bigint;

function stores(count: number, memory: [number, number][]) {
  return { changes: { VM_EXIT_MSR_STORE_COUNT: BigInt(count), VM_EXIT_MSR_STORE_ADDRESS: BigInt(STORE_AREA) }, memory };
}
function loads(count: number, memory: [number, number][]) {
  return { changes: { VM_EXIT_MSR_LOAD_COUNT: BigInt(count), VM_EXIT_MSR_LOAD_ADDRESS: BigInt(LOAD_AREA) }, memory };
}

describe('§28.4: the VM-exit MSR-store area', () => {
  it('stores, entry by entry, the value RDMSR would read into bits 127:64', () => {
    const m = launched(stores(3, [...msrEntry(STORE_AREA, IA32_PAT), ...msrEntry(STORE_AREA + 16, IA32_SYSENTER_CS), ...msrEntry(STORE_AREA + 32, IA32_VMX_BASIC)]));
    expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
    // The guest's IA32_PAT is the host's power-up value (no "load IA32_PAT"); SYSENTER_CS from the guest field (0).
    expect([m.readMemory(STORE_AREA + 8, 0), m.readMemory(STORE_AREA + 12, 0)]).toEqual([0x0007_0406, 0x0007_0406]);
    expect([m.readMemory(STORE_AREA + 24, 0), m.readMemory(STORE_AREA + 28, 0)]).toEqual([0, 0]);
    const basic = BigInt(SKYLAKE.msrs.IA32_VMX_BASIC);
    expect([m.readMemory(STORE_AREA + 40, 0), m.readMemory(STORE_AREA + 44, 0)]).toEqual([Number(basic & 0xffff_ffffn), Number(basic >> 32n)]);
  });

  it('stores IA32_EFER with the LME and LMA the guest runs with', () => {
    const m = launched({
      changes: {
        VM_EXIT_MSR_STORE_COUNT: 1n,
        VM_EXIT_MSR_STORE_ADDRESS: BigInt(STORE_AREA),
        VM_ENTRY_CONTROLS: entryControls | bit(ENTRY_CONTROL.LOAD_IA32_EFER),
        GUEST_IA32_EFER: 0x801n,
      },
      memory: msrEntry(STORE_AREA, IA32_EFER),
    });
    m.vmcall(0);
    expect(m.readMemory(STORE_AREA + 8, 0)).toBe(0x801);
  });

  it.each([
    ['an x2APIC MSR (bits 31:8 = 000008H)', msrEntry(STORE_AREA, X2APIC_TPR)],
    ['IA32_SMBASE, readable only in SMM', msrEntry(STORE_AREA, IA32_SMBASE)],
    ['bits 63:32 of the entry not 0', msrEntry(STORE_AREA, IA32_PAT, 0, 0, 1)],
  ])('a VMX abort with indicator 1 for %s', (_, memory) => {
    const m = launched(stores(1, memory));
    expect(m.vmcall(0)).toBe(STATUS_VMX_ABORT);
    expect(m.readMemory(VMCS + 4, 0)).toBe(1);
    expect(m.abortIndicator(0)).toBe(1);
    expect(m.isShutDown(0)).toBe(true);
  });

  it('stores IA32_FS_BASE and IA32_GS_BASE from the guest FS and GS bases', () => {
    const m = launched({
      changes: { VM_EXIT_MSR_STORE_COUNT: 2n, VM_EXIT_MSR_STORE_ADDRESS: BigInt(STORE_AREA), GUEST_FS_BASE: 0x1234_0000n, GUEST_GS_BASE: 0x5678_0000n },
      memory: [...msrEntry(STORE_AREA, IA32_FS_BASE), ...msrEntry(STORE_AREA + 16, IA32_FS_BASE + 1)],
    });
    m.vmcall(0);
    expect([m.readMemory(STORE_AREA + 8, 0), m.readMemory(STORE_AREA + 24, 0)]).toEqual([0x1234_0000, 0x5678_0000]);
  });

  it('a count above 512 × (IA32_VMX_MISC[27:25] + 1) (undefined in the SDM) aborts at the first entry beyond it', () => {
    const limit = 512 * (Number((BigInt(SKYLAKE.msrs.IA32_VMX_MISC) >> 25n) & 7n) + 1);
    const memory: [number, number][] = [];
    for (let i = 0; i < limit; i++) memory.push(...msrEntry(STORE_AREA + 16 * i, IA32_PAT));
    const m = launched(stores(limit + 1, memory));
    expect(m.vmcall(0)).toBe(STATUS_VMX_ABORT);
    expect(m.abortIndicator(0)).toBe(1);
    const loading: [number, number][] = [];
    for (let i = 0; i < limit; i++) loading.push(...msrEntry(LOAD_AREA + 16 * i, 0x10));
    const n = launched(loads(limit + 1, loading));
    expect(n.vmcall(0)).toBe(STATUS_VMX_ABORT);
    expect(n.abortIndicator(0)).toBe(4);
  });

  it('an MSR whose value impl/ does not model (IA32_TSC; which MSRs exist and their values are model-specific): stored as 0', () => {
    const m = launched(stores(2, [...msrEntry(STORE_AREA, 0x10, 0x1234, 0x5678), ...msrEntry(STORE_AREA + 16, 0x1234_5678, 0x1234, 0x5678)]));
    expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
    for (const at of [STORE_AREA, STORE_AREA + 16]) {
      expect(m.readMemory(at + 8, 0)).toBe(0);
      expect(m.readMemory(at + 12, 0)).toBe(0);
    }
  });
});

describe('§28.6: the VM-exit MSR-load area', () => {
  it('loads each entry as WRMSR would, after the host state (it overrides "load IA32_PAT")', () => {
    const m = launched({
      changes: {
        VM_EXIT_MSR_LOAD_COUNT: 1n,
        VM_EXIT_MSR_LOAD_ADDRESS: BigInt(LOAD_AREA),
        PRIMARY_VM_EXIT_CONTROLS: exitControls | bit(EXIT_CONTROL.LOAD_IA32_PAT) | bit(EXIT_CONTROL.SAVE_IA32_PAT),
        HOST_IA32_PAT: 0x0404_0404_0404_0404n,
        VM_EXIT_MSR_STORE_COUNT: 1n,
        VM_EXIT_MSR_STORE_ADDRESS: BigInt(STORE_AREA),
      },
      memory: [...msrEntry(LOAD_AREA, IA32_PAT, 0x0101_0101, 0x0606_0606), ...msrEntry(STORE_AREA, IA32_PAT)],
    });
    expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
    // Re-enter without "load IA32_PAT": the guest runs with the PAT the exit's MSR-load area gave.
    expect(m.vmresume(0)).toBe(STATUS_VMENTRY);
    m.vmcall(0);
    expect(read(m, 'GUEST_IA32_PAT')).toBe(0x0606_0606_0101_0101n);
  });

  it.each([
    ['IA32_FS_BASE', msrEntry(LOAD_AREA, IA32_FS_BASE)],
    ['an x2APIC MSR', msrEntry(LOAD_AREA, X2APIC_TPR)],
    ['IA32_SMM_MONITOR_CTL, writable only in SMM', msrEntry(LOAD_AREA, IA32_SMM_MONITOR_CTL)],
    ['bits 63:32 of the entry not 0', msrEntry(LOAD_AREA, IA32_PAT, 0x0606_0606, 0x0606_0606, 1)],
    ['data WRMSR would refuse with #GP (a reserved PAT memory type 2)', msrEntry(LOAD_AREA, IA32_PAT, 0x0000_0002, 0)],
    ['a read-only VMX capability MSR', msrEntry(LOAD_AREA, IA32_VMX_BASIC)],
  ])('a VMX abort with indicator 4 for %s', (_, memory) => {
    const m = launched(loads(1, memory));
    expect(m.vmcall(0)).toBe(STATUS_VMX_ABORT);
    expect(m.readMemory(VMCS + 4, 0)).toBe(4);
  });

  it('an MSR impl/ does not model loads with no effect, as on VM entry', () => {
    const m = launched(loads(1, msrEntry(LOAD_AREA, 0x10, 5)));
    expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
  });

  it('a VM-entry failure also processes the VM-exit MSR-load area (§27.8)', () => {
    const m = launched();
    m.vmcall(0);
    m.writeMemory(0, LOAD_AREA, 0, IA32_FS_BASE);
    write(m, 'VM_EXIT_MSR_LOAD_ADDRESS', BigInt(LOAD_AREA));
    write(m, 'VM_EXIT_MSR_LOAD_COUNT', 1n);
    write(m, 'GUEST_RFLAGS', 0n); // bit 1 clear: invalid guest state (exit reason 33)
    expect(m.vmresume(0)).toBe(STATUS_VMX_ABORT);
    expect(m.readMemory(VMCS + 4, 0)).toBe(4);
  });
});

describe('§28.7: after a VMX abort the processor is shut down', () => {
  it('the aborting step is its VM exit; every later instruction of that processor is inactive (shutdown), memory writes still work', () => {
    const engine = new ImplEngine({ profile: SKYLAKE, logicalProcessors: 1 });
    const m = engine.machine;
    const profile = profileOf(SKYLAKE);
    m.writeMemory(0, 0x1000, 0, profile.revisionId);
    m.writeMemory(0, VMCS, 0, profile.revisionId);
    expect(m.vmxon(0, 0x1000, 0) | m.vmclear(0, VMCS, 0) | m.vmptrld(0, VMCS, 0)).toBe(0);
    for (const [name, value] of validVmcs(profile)) write(m, name, value);
    write(m, 'VM_EXIT_MSR_LOAD_ADDRESS', BigInt(LOAD_AREA));
    write(m, 'VM_EXIT_MSR_LOAD_COUNT', 1n);
    m.writeMemory(0, LOAD_AREA, 0, IA32_FS_BASE);
    expect(m.vmlaunch(0)).toBe(STATUS_VMENTRY);
    const abort = engine.step({ kind: 'vmcall', cpu: 0 });
    expect(abort).toMatchObject({ kind: 'vmexit', reason: EXIT_REASON.VMCALL });
    expect(m.abortIndicator(0)).toBe(4);
    expect(m.activity(0)).toBe(2);
    const flags = m.flags(0);
    expect(engine.step({ kind: 'vmread', cpu: 0, encoding: '0x4402' })).toEqual({ kind: 'inactive', activity: 'shutdown', flags });
    expect(engine.step({ kind: 'cpuid', cpu: 0, eax: '0x0', ecx: '0x0' })).toEqual({ kind: 'inactive', activity: 'shutdown', flags });
    expect(engine.step({ kind: 'write-memory', cpu: 0, address: '0x5000', value: '0x7' })).toMatchObject({ kind: 'ok' });
    expect(m.readMemory(0x5000, 0)).toBe(7);
    const record = new Int32Array(RECORD_WORDS);
    encodeOperation({ kind: 'vmxoff', cpu: 0 }, record, 0);
    expect(execute(m, record, 0)).toBe(STATUS_INACTIVE);
  });
});

