/**
 * Guest state saved by a VM exit (SDM Vol. 3C, December 2023, §28.3 "Saving Guest State"), read
 * back with VMREAD. Expected values from the SDM text of §28.3.1 "Saving Control Registers, Debug
 * Registers, and MSRs", §28.3.2 "Saving Segment Registers and Descriptor-Table Registers",
 * §28.3.3 "Saving RIP, RSP, RFLAGS, and SSP" and §28.3.4 "Saving Non-Register State".
 */
import { describe, expect, it } from 'vitest';
import { EXIT_INFO_INTERRUPTION, EXIT_INFO_INTERRUPTION_ERROR_CODE } from '../../../impl/vm-exit/exit-info.ts';
import { EXIT_CONTROL, ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { CORE2, MAXIMAL } from '../fixtures.ts';
import { validVmcs } from '../vm-entry-vmcs.ts';
import { launched, profileOf, read, VMCS } from './rig.ts';
import { fieldTableFor } from '../../../impl/field-table.ts';
import { FIELD } from '../../../spec/fields.ts';
import { SKYLAKE } from '../fixtures.ts';

const bit = (n: number): bigint => 1n << BigInt(n);
const skylake = validVmcs(profileOf(SKYLAKE));
const exitControls = skylake.get('PRIMARY_VM_EXIT_CONTROLS') as bigint;
const entryControls = skylake.get('VM_ENTRY_CONTROLS') as bigint;

describe('§28.3.3: RIP and RFLAGS', () => {
  it('saves the RIP of the exiting instruction: the entry RIP advanced by the instructions that completed', () => {
    const m = launched();
    m.advanceRip(0, 2);
    m.advanceRip(0, 3);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(0x1005n);
    // Resumed, the guest continues at the saved RIP.
    expect(m.vmresume(0)).toBe(-5);
    m.advanceRip(0, 1);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(0x1006n);
  });

  it('outside 64-bit mode RIP wraps at 4 GBytes (EIP); in 64-bit mode it carries into bits 63:32', () => {
    const m = launched({ changes: { GUEST_RIP: 0xffff_fffen } });
    m.advanceRip(0, 3);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(1n);
    // A 64-bit guest: IA-32e mode guest, CS.L = 1 (D = 0), LME and LMA in the guest IA32_EFER.
    const wide = launched({
      changes: {
        VM_ENTRY_CONTROLS: entryControls | bit(ENTRY_CONTROL.IA32E_MODE_GUEST),
        GUEST_CS_ACCESS_RIGHTS: 0xa09bn,
        GUEST_RIP: 0x7fff_ffff_fffen,
        GUEST_IA32_EFER: 0x500n,
      },
    });
    wide.advanceRip(0, 3);
    wide.vmcall(0);
    expect(read(wide, 'GUEST_RIP')).toBe(0x8000_0000_0001n);
  });

  it('saves RF = 0 for an instruction VM exit, and the other RFLAGS bits as the guest had them', () => {
    // IF (9), RF (16), bit 1: RF is cleared by the exit (an instruction that causes the VM exit).
    const m = launched({ changes: { GUEST_RFLAGS: 0x1_0202n } });
    m.vmcall(0);
    expect(read(m, 'GUEST_RFLAGS')).toBe(0x202n);
  });

  it('saves RF = 1 for a fault-class exception (#GP): the value its delivery would have pushed', () => {
    const m = launched();
    m.exitInfo.defined = EXIT_INFO_INTERRUPTION | EXIT_INFO_INTERRUPTION_ERROR_CODE;
    m.exitInfo.interruptionInformation = 0x8000_0b0d | 0;
    m.exitInfo.interruptionErrorCode = 0;
    m.vmExit(0, EXIT_REASON.EXCEPTION_OR_NMI);
    expect(read(m, 'GUEST_RFLAGS')).toBe(0x1_0002n);
  });

  it('saves RF as the other cases say for a trap-class software exception (#BP, type 6): 0 after an instruction', () => {
    const m = launched();
    m.exitInfo.defined = EXIT_INFO_INTERRUPTION;
    m.exitInfo.interruptionInformation = 0x8000_0603 | 0;
    m.vmExit(0, EXIT_REASON.EXCEPTION_OR_NMI);
    expect(read(m, 'GUEST_RFLAGS')).toBe(0x2n);
  });
});

describe('§28.3.1: control registers, debug registers and MSRs', () => {
  it('saves CR0, CR3 and CR4 as the guest has them', () => {
    const m = launched();
    m.vmcall(0);
    expect(read(m, 'GUEST_CR3')).toBe(0x7000n);
    expect(read(m, 'GUEST_CR0') & 0x8000_0001n).toBe(0x8000_0001n);
    expect(read(m, 'GUEST_CR4') & 0x2020n).toBe(0x2020n);
  });

  // §27.3.2.1: VM entry does not modify CR0.ET, NW, CD nor the reserved bits 15:6, 17 and 28:19.
  it('saves the CR0 the entry loaded: the reserved bits and ET of the guest CR0 field were not loaded', () => {
    const before = launched();
    before.vmcall(0);
    const kept = read(before, 'GUEST_CR0') & 0x7ffa_ffd0n;
    const m = launched({ changes: { GUEST_CR0: 0x8008_0021n } });
    m.vmcall(0);
    expect(read(m, 'GUEST_CR0')).toBe(0x8000_0021n | kept);
    expect(read(m, 'GUEST_CR0') & 0x8_0000n).toBe(0n);
  });

  it('saves DR7 and IA32_DEBUGCTL only with "save debug controls"', () => {
    const loaded = { VM_ENTRY_CONTROLS: entryControls | bit(ENTRY_CONTROL.LOAD_DEBUG_CONTROLS), GUEST_DR7: 0x4_0401n, GUEST_IA32_DEBUGCTL: 0x1n };
    const saved = launched({ changes: { ...loaded, PRIMARY_VM_EXIT_CONTROLS: exitControls | bit(EXIT_CONTROL.SAVE_DEBUG_CONTROLS) } });
    saved.vmcall(0);
    expect([read(saved, 'GUEST_DR7'), read(saved, 'GUEST_IA32_DEBUGCTL')]).toEqual([0x4_0401n, 1n]);
    // Without either control the guest runs with the host's DR7 (400H), and the field keeps what
    // the host wrote.
    const host = launched({ changes: { GUEST_DR7: 0x4_0401n } });
    host.vmcall(0);
    expect(read(host, 'GUEST_DR7')).toBe(0x4_0401n);
  });

  it('saves IA32_SYSENTER_CS, _ESP and _EIP always', () => {
    const m = launched({ changes: { GUEST_IA32_SYSENTER_CS: 0x10n, GUEST_IA32_SYSENTER_ESP: 0x8000n, GUEST_IA32_SYSENTER_EIP: 0x9000n } });
    m.vmcall(0);
    expect([read(m, 'GUEST_IA32_SYSENTER_CS'), read(m, 'GUEST_IA32_SYSENTER_ESP'), read(m, 'GUEST_IA32_SYSENTER_EIP')]).toEqual([0x10n, 0x8000n, 0x9000n]);
  });

  it('saves IA32_PAT with "save IA32_PAT": the processor\'s PAT, which the entry did not load without "load IA32_PAT"', () => {
    // The guest runs with the PAT the host had: its power-up value (Vol. 3A §13.12.4).
    const m = launched({ changes: { PRIMARY_VM_EXIT_CONTROLS: exitControls | bit(EXIT_CONTROL.SAVE_IA32_PAT), GUEST_IA32_PAT: 0x0606_0606_0606_0606n } });
    m.vmcall(0);
    expect(read(m, 'GUEST_IA32_PAT')).toBe(0x0007_0406_0007_0406n);
    // With "load IA32_PAT" the guest's own value is loaded, then saved.
    const loaded = launched({
      changes: {
        PRIMARY_VM_EXIT_CONTROLS: exitControls | bit(EXIT_CONTROL.SAVE_IA32_PAT),
        VM_ENTRY_CONTROLS: entryControls | bit(ENTRY_CONTROL.LOAD_IA32_PAT),
        GUEST_IA32_PAT: 0x0606_0606_0606_0606n,
      },
    });
    loaded.vmcall(0);
    expect(read(loaded, 'GUEST_IA32_PAT')).toBe(0x0606_0606_0606_0606n);
  });

  it('saves IA32_EFER with "save IA32_EFER": LME and LMA as the guest runs', () => {
    const m = launched({ changes: { PRIMARY_VM_EXIT_CONTROLS: exitControls | bit(EXIT_CONTROL.SAVE_IA32_EFER), GUEST_IA32_EFER: 0xd01n } });
    m.vmcall(0);
    // A 32-bit PAE guest without "load IA32_EFER": LMA = LME = 0 (IA-32e mode guest 0, CR0.PG = 1);
    // the host's other bits (NXE and SCE were 0 at power-up) stay.
    expect(read(m, 'GUEST_IA32_EFER')).toBe(0n);
  });

  it('saves IA32_EFER of a 64-bit guest with LME = LMA = 1', () => {
    const m = launched({
      changes: {
        PRIMARY_VM_EXIT_CONTROLS: exitControls | bit(EXIT_CONTROL.SAVE_IA32_EFER),
        VM_ENTRY_CONTROLS: entryControls | bit(ENTRY_CONTROL.IA32E_MODE_GUEST) | bit(ENTRY_CONTROL.LOAD_IA32_EFER),
        GUEST_CS_ACCESS_RIGHTS: 0xa09bn,
        GUEST_IA32_EFER: 0xd01n,
      },
    });
    m.vmcall(0);
    expect(read(m, 'GUEST_IA32_EFER')).toBe(0xd01n);
  });

  it('a processor without IA32_BNDCFGS (Core 2) exits all the same', () => {
    const m = launched({ profile: CORE2 });
    expect(m.vmcall(0)).toBe(-7);
    expect(read(m, 'GUEST_RIP')).toBe(0x1000n);
  });

  it('saves IA32_PERF_GLOBAL_CTRL with "save IA32_PERF_GLOBAL_CTRL" (maximal profile)', () => {
    const maximal = validVmcs(profileOf(MAXIMAL));
    const m = launched({
      profile: MAXIMAL,
      changes: {
        PRIMARY_VM_EXIT_CONTROLS: (maximal.get('PRIMARY_VM_EXIT_CONTROLS') as bigint) | bit(EXIT_CONTROL.SAVE_IA32_PERF_GLOBAL_CTRL),
        VM_ENTRY_CONTROLS: (maximal.get('VM_ENTRY_CONTROLS') as bigint) | bit(ENTRY_CONTROL.LOAD_IA32_PERF_GLOBAL_CTRL),
        GUEST_IA32_PERF_GLOBAL_CTRL: 0x7_0000_000fn,
      },
    });
    m.vmcall(0);
    expect(read(m, 'GUEST_IA32_PERF_GLOBAL_CTRL')).toBe(0x7_0000_000fn);
  });
});

describe('§28.3.2: segment registers', () => {
  it('clears access-rights bits 31:17 and 11:8 and keeps bit 16 (unusable)', () => {
    // An unusable ES may carry any other access-rights bits (VM entry does not check them).
    const m = launched({ changes: { GUEST_ES_ACCESS_RIGHTS: 0xfffe_ff93n | bit(16), GUEST_ES_BASE: 0xffff_ffffn } });
    m.vmcall(0);
    expect(read(m, 'GUEST_ES_ACCESS_RIGHTS')).toBe(0x1_f093n);
    expect(read(m, 'GUEST_CS_ACCESS_RIGHTS')).toBe(0xc09bn);
  });

  it('for an unusable SS, DS or ES saves bits 63:32 of the base as 0; for an unusable LDTR a canonical base', () => {
    const m = launched({
      changes: {
        GUEST_DS_ACCESS_RIGHTS: bit(16),
        GUEST_DS_BASE: 0x1234_5678_0000_0000n,
        GUEST_LDTR_BASE: 0x0000_8000_0000_0000n,
      },
    });
    m.vmcall(0);
    expect(read(m, 'GUEST_DS_BASE') >> 32n).toBe(0n);
    expect(read(m, 'GUEST_LDTR_BASE')).toBe(0xffff_8000_0000_0000n);
    // A usable register's base is saved as it is.
    expect(read(m, 'GUEST_TR_BASE')).toBe(0x5_0000n);
  });
});

describe('§28.3.4: non-register state', () => {
  it('an instruction VM exit saves the active state (the state a VM entry left: test/impl/vm-entry/pending-events.test.ts)', () => {
    const m = launched();
    // The field says HLT while the guest runs (impl/ keeps VMCS data in the region).
    const word = (fieldTableFor(profileOf(SKYLAKE)).entry[FIELD.GUEST_ACTIVITY_STATE] as number) >> 3;
    m.writeMemory(0, VMCS + word * 4, 0, 1);
    m.vmcall(0);
    expect(read(m, 'GUEST_ACTIVITY_STATE')).toBe(0n);
  });

  it('saves blocking by STI while no guest instruction has completed, and not after one has', () => {
    const sti = { GUEST_RFLAGS: 0x202n, GUEST_INTERRUPTIBILITY_STATE: 1n };
    const first = launched({ changes: sti });
    first.vmcall(0);
    expect(read(first, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(1n);
    const second = launched({ changes: sti });
    second.advanceRip(0, 1);
    second.vmcall(0);
    expect(read(second, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(0n);
  });

  it('saves blocking by MOV SS as it was before the exiting instruction, with the pending debug exceptions loaded', () => {
    // BS (bit 14) pending with TF = 1 and MOV-SS blocking passes the entry checks.
    const m = launched({ changes: { GUEST_RFLAGS: 0x102n, GUEST_INTERRUPTIBILITY_STATE: 2n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) } });
    m.vmcall(0);
    expect(read(m, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(2n);
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(bit(14));
  });

  it('saves pending debug exceptions as 0 when the exit occurs without MOV-SS blocking', () => {
    const m = launched({ changes: { GUEST_RFLAGS: 0x102n, GUEST_INTERRUPTIBILITY_STATE: 2n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) } });
    m.advanceRip(0, 1);
    // The MOV-SS blocking lasted for the first guest instruction only.
    m.vmcall(0);
    expect([read(m, 'GUEST_INTERRUPTIBILITY_STATE'), read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')]).toEqual([0n, 0n]);
  });

  it('clears the pending debug exceptions for an exit caused by #DB even under MOV-SS blocking', () => {
    const m = launched({ changes: { GUEST_RFLAGS: 0x102n, GUEST_INTERRUPTIBILITY_STATE: 2n, GUEST_PENDING_DEBUG_EXCEPTIONS: bit(14) } });
    m.exitInfo.defined = EXIT_INFO_INTERRUPTION;
    m.exitInfo.interruptionInformation = 0x8000_0301 | 0;
    m.vmExit(0, EXIT_REASON.EXCEPTION_OR_NMI);
    expect(read(m, 'GUEST_PENDING_DEBUG_EXCEPTIONS')).toBe(0n);
  });

  it('saves blocking by NMI as the entry loaded it, and blocking by SMI as 0', () => {
    const m = launched({ changes: { GUEST_INTERRUPTIBILITY_STATE: 8n } });
    m.advanceRip(0, 1);
    m.vmcall(0);
    expect(read(m, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(8n);
  });
});
