/**
 * Host state loaded by a VM exit (SDM Vol. 3C, December 2023, §28.5 "Loading Host State"), seen
 * in the processor row (impl/cpu-row.ts) and through the host's next operations. Expected values
 * from the SDM text of §28.5.1 "Loading Host Control Registers, Debug Registers, MSRs", §28.5.3
 * "Loading Host RIP, RSP, and RFLAGS", §28.5.4 "Checking and Loading Host
 * Page-Directory-Pointer-Table Entries" and §28.7 "VMX Aborts" (indicators 2 and 6).
 */
import { describe, expect, it } from 'vitest';
import {
  S_CPL,
  S_CR3_LO,
  S_CR4_LO,
  S_CSL,
  S_DEBUGCTL_LO,
  S_DR7_LO,
  S_FLAGS,
  S_IN_VMX,
  S_LMA,
  S_LME,
  S_PAT_HI,
  S_PAT_LO,
  S_SYSENTER_CS,
  S_SYSENTER_EIP_LO,
  S_VM,
  S_PERF_GLOBAL_CTRL_LO,
  S_EFER_LO,
  S_BNDCFGS_LO,
} from '../../../impl/cpu-row.ts';
import { STATUS_VMEXIT, STATUS_VMX_ABORT } from '../../../impl/index.ts';
import { ENTRY_CONTROL, EXIT_CONTROL } from '../../../spec/control-bits.ts';
import { MAXIMAL, SKYLAKE } from '../fixtures.ts';
import { validVmcs } from '../vm-entry-vmcs.ts';
import { launched, profileOf, VMCS } from './rig.ts';

const bit = (n: number): bigint => 1n << BigInt(n);
const skylake = validVmcs(profileOf(SKYLAKE));
const exitControls = skylake.get('PRIMARY_VM_EXIT_CONTROLS') as bigint;
const entryControls = skylake.get('VM_ENTRY_CONTROLS') as bigint;

describe('§28.5: the host state after a VM exit', () => {
  it('RIP from the host RIP field, RFLAGS = 2, CPL 0, the 64-bit mode "host address-space size" asks for, VMX root operation', () => {
    const m = launched({ changes: { GUEST_RFLAGS: 0x8d7n } });
    expect(m.vmcall(0)).toBe(STATUS_VMEXIT);
    m.rip(0);
    expect([m.resultLo, m.resultHi]).toEqual([0x40_0000, 0]);
    const row = m.snapshot().state;
    expect([row[S_FLAGS], row[S_VM], row[S_CPL], row[S_IN_VMX]]).toEqual([0, 0, 0, 1]);
    expect([row[S_LMA], row[S_LME], row[S_CSL]]).toEqual([1, 1, 1]);
    expect(row[S_CR3_LO]).toBe(0x1000);
  });

  it('DR7 = 400H and IA32_DEBUGCTL = 0, whatever the guest had', () => {
    const m = launched({ changes: { VM_ENTRY_CONTROLS: entryControls | bit(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS), GUEST_DR7: 0x4_0401n, GUEST_IA32_DEBUGCTL: 1n } });
    m.vmcall(0);
    const row = m.snapshot().state;
    expect([row[S_DR7_LO], row[S_DEBUGCTL_LO]]).toEqual([0x400, 0]);
  });

  it('IA32_SYSENTER_CS/EIP from the host fields; IA32_PAT from its field only with "load IA32_PAT"', () => {
    const changes = { HOST_IA32_SYSENTER_CS: 0x10n, HOST_IA32_SYSENTER_EIP: 0x5000n, HOST_IA32_PAT: 0x0606_0606_0606_0606n, GUEST_IA32_SYSENTER_CS: 0x20n };
    const kept = launched({ changes });
    kept.vmcall(0);
    let row = kept.snapshot().state;
    expect([row[S_SYSENTER_CS], row[S_SYSENTER_EIP_LO], row[S_PAT_LO], row[S_PAT_HI]]).toEqual([0x10, 0x5000, 0x0007_0406, 0x0007_0406]);
    const loaded = launched({ changes: { ...changes, PRIMARY_VM_EXIT_CONTROLS: exitControls | bit(EXIT_CONTROL.LOAD_IA32_PAT) } });
    loaded.vmcall(0);
    row = loaded.snapshot().state;
    expect([row[S_PAT_LO], row[S_PAT_HI]]).toEqual([0x0606_0606, 0x0606_0606]);
  });

  it('IA32_PERF_GLOBAL_CTRL and IA32_EFER from their fields with their "load" controls; IA32_BNDCFGS cleared with "clear IA32_BNDCFGS" (maximal profile)', () => {
    const maximal = validVmcs(profileOf(MAXIMAL));
    const m = launched({
      profile: MAXIMAL,
      changes: {
        PRIMARY_VM_EXIT_CONTROLS:
          (maximal.get('PRIMARY_VM_EXIT_CONTROLS') as bigint) |
          bit(EXIT_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL) |
          bit(EXIT_CONTROL.LOAD_IA32_EFER) |
          bit(EXIT_CONTROL.CLEAR_IA32_BNDCFGS),
        VM_ENTRY_CONTROLS: (maximal.get('VM_ENTRY_CONTROLS') as bigint) | bit(ENTRY_CONTROL.LOAD_IA32_BNDCFGS),
        GUEST_IA32_BNDCFGS: 0x1001n,
        HOST_IA32_PERF_GLOBAL_CTRL: 0x3n,
        HOST_IA32_EFER: 0xd01n,
      },
    });
    m.vmcall(0);
    const row = m.snapshot().state;
    expect([row[S_PERF_GLOBAL_CTRL_LO], row[S_EFER_LO], row[S_BNDCFGS_LO]]).toEqual([0x3, 0x801, 0]);
  });

  it('a 32-bit host: LMA = LME = CS.L = 0, CR4 from its field (PAE not forced)', () => {
    const m = launched({ legacy: true, changes: { PRIMARY_VM_EXIT_CONTROLS: exitControls & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE) } });
    m.vmcall(0);
    const row = m.snapshot().state;
    expect([row[S_LMA], row[S_LME], row[S_CSL]]).toEqual([0, 0, 0]);
    expect(row[S_CR4_LO]! & 0x2020).toBe(0x2020);
  });

  it('a VM exit to a PAE host checks the host PDPTEs: a present one with a reserved bit is VMX abort 2', () => {
    const host32 = { PRIMARY_VM_EXIT_CONTROLS: exitControls & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE), HOST_CR3: 0x8000n };
    // PDPTE 1 present with reserved bit 1 set.
    const bad = launched({ legacy: true, changes: host32, memory: [[0x8008, 0x3]] });
    expect(bad.vmcall(0)).toBe(STATUS_VMX_ABORT);
    expect(bad.readMemory(VMCS + 4, 0)).toBe(2);
    const good = launched({ legacy: true, changes: host32, memory: [[0x8008, 0x1001]] });
    expect(good.vmcall(0)).toBe(STATUS_VMEXIT);
  });

  it('a guest in IA-32e mode exiting to a 32-bit host is VMX abort 6', () => {
    const m = launched({ legacy: true, changes: { PRIMARY_VM_EXIT_CONTROLS: exitControls & ~bit(EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE) } });
    m.setState(0, 0, 1); // the guest activated IA-32e mode (IA32_EFER.LMA = 1)
    expect(m.vmcall(0)).toBe(STATUS_VMX_ABORT);
    expect(m.abortIndicator(0)).toBe(6);
  });
});
