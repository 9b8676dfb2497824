/**
 * VM-entry failure processing, from SDM Vol. 3C, December 2023, §27.8 "VM-Entry Failures During or
 * After Loading Guest State" (exit reason with bit 31 set, exit qualification, other exit
 * information unmodified, host state loaded as on a VM exit, the interruption-information valid
 * bit not cleared) and §28.5 "Loading Host State" (CR0/CR4 with the bits a VM exit keeps, mode from
 * "host address-space size", CPL 0, RFLAGS = 2). Launch state: §31.3 VMLAUNCH/VMRESUME, only a
 * successful VMLAUNCH makes the VMCS launched.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../../model/index.ts';
import type { Branch, ModelState } from '../../../model/index.ts';
import { rule } from '../../../model/rule.ts';
import { cpuOf } from '../../../model/state.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { entryFailure, entryFailureReason, isBranch } from '../../../model/vm-entry/failure.ts';
import { loadHostState } from '../../../model/vm-exit/load-host.ts';
import { VM_ERROR } from '../../../spec/errors.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { sdm } from '../../../spec/citation.ts';
import { expectNotModelled, expectOnly, failValid, hex, RULES_HIT, store, succeed, VMCS_A } from '../helpers.ts';
import { currentView, EXIT_32, HOST_CR4, HOST_FIELDS } from './entry-fixtures.ts';
import { vmcsWith } from './helpers.ts';

const decidedBy = rule('test.guest-check', 'VM entry', sdm('27.3.1', 'Checks on the Guest State Area'), 'a failing guest-state check (test)');
const GUEST_STATE = EXIT_REASON.ENTRY_FAILURE_INVALID_GUEST_STATE;
const launch = { kind: 'vmlaunch', cpu: 0 } as const;
const vmread = (encoding: number) => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding) }) as const;

function fail(state: ModelState, qualification = 0n, basic: number = GUEST_STATE): Branch {
  const result = entryFailure(state, 0, decidedBy, basic, qualification);
  if (!isBranch(result)) throw new Error(`expected a failure branch, got ${JSON.stringify(result)}`);
  return result;
}

function after(branch: Branch): ModelState {
  return branch.next({ kind: 'vmentry-failure', exitReason: 0, qualification: '0x0', flags: 0 });
}

/** What a processor shut down by a VMX abort observes for an instruction (§28.7 "VMX Aborts"). */
const SHUTDOWN = { kind: 'inactive', activity: 'shutdown', flags: 0 } as const;

describe('VM-entry failure: what is recorded in the VMCS', () => {
  it('the exit reason is the basic reason with bit 31 set and bits 30:16 clear (0x80000021 for invalid guest state)', () => {
    expect(entryFailureReason(33)).toBe(0x8000_0021);
    expect(entryFailureReason(EXIT_REASON.ENTRY_FAILURE_MSR_LOADING)).toBe(0x8000_0022);
  });

  it('the observation: full exit reason, qualification, flags 0; a later VMREAD sees both fields', () => {
    const branch = fail(vmcsWith(HOST_FIELDS), 2n);
    expect(branch.expected).toEqual({ kind: 'vmentry-failure', exitReason: 0x8000_0021, qualification: '0x2', flags: 0 });
    let state = after(branch);
    state = expectOnly(state, vmread(FIELD.EXIT_REASON), succeed(0x8000_0021n), 'vmread.success');
    expectOnly(state, vmread(FIELD.EXIT_QUALIFICATION), succeed(2n), 'vmread.success');
  });

  it('MSR loading: exit reason 0x80000022 and the index of the failing entry as qualification', () => {
    const state = after(fail(vmcsWith(HOST_FIELDS), 3n, EXIT_REASON.ENTRY_FAILURE_MSR_LOADING));
    expectOnly(state, vmread(FIELD.EXIT_REASON), succeed(0x8000_0022n), 'vmread.success');
  });

  it('the valid bit of the VM-entry interruption-information field is not cleared', () => {
    const injecting = vmcsWith({ ...HOST_FIELDS, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0300n });
    expectOnly(after(fail(injecting)), vmread(FIELD.VM_ENTRY_INTERRUPTION_INFORMATION), succeed(0x8000_0300n), 'vmread.success');
  });

  it('the launch state is unchanged: a VMLAUNCH that failed this way can be retried, VMRESUME still fails with 5', () => {
    const state = after(fail(vmcsWith({ ...HOST_FIELDS, PIN_BASED_CONTROLS: 0x16n, VM_EXIT_MSR_STORE_COUNT: 0n })));
    expect(currentVmcs(state, 0)?.content.launch).toBe('clear');
    const retry = step(state, launch);
    const launchStateFailure = (b: { expected: { kind: string; error?: number } }): boolean => b.expected.kind === 'vmfail-valid' && b.expected.error === VM_ERROR.VMLAUNCH_NON_CLEAR;
    expect(retry.kind !== 'defined' || !retry.branches.some(launchStateFailure)).toBe(true);
    expectOnly(state, { kind: 'vmresume', cpu: 0 }, failValid(VM_ERROR.VMRESUME_NON_LAUNCHED), 'vmresume.launch-state-not-launched');
  });
});

describe('VM-entry failure: host state loaded as on a VM exit', () => {
  it('64-bit host: CR0 takes MP, TS, WP, AM from the field and keeps ET, CD and the fixed PE, NE, PG', () => {
    const cpu = cpuOf(after(fail(vmcsWith(HOST_FIELDS))), 0);
    expect(hex(cpu.cr0)).toBe('0x8005003b');
    expect(hex(cpu.cr4)).toBe(hex(HOST_CR4 | 0x20n));
    expect(cpu).toMatchObject({ vmx: 'root', eferLma: 1, csL: 1, cpl: 0, rflagsVm: 0, flags: 0, movSsBlocking: 0 });
  });

  it('32-bit host: not in IA-32e mode, CR4.PCIDE cleared, PAE as in the field', () => {
    const state = vmcsWith({ ...HOST_FIELDS, PRIMARY_VM_EXIT_CONTROLS: EXIT_32 });
    const cpu = cpuOf(after(fail(state)), 0);
    expect(hex(cpu.cr4)).toBe('0x2080');
    expect(cpu).toMatchObject({ eferLma: 0, csL: 0, cpl: 0 });
  });

  it('CPL, RFLAGS.VM, flags and MOV-SS blocking of the processor before do not survive', () => {
    const state = vmcsWith(HOST_FIELDS);
    const patched = { ...state, cpus: state.cpus.map((c, i) => (i === 0 ? { ...c, flags: 0x8d5, cpl: 0 } : c)) };
    expect(cpuOf(after(fail(patched)), 0).flags).toBe(0);
  });
});

describe('VM-entry failure: host PDPTEs and the VM-exit MSR-load area (§27.8 steps 2 and 4, as on a VM exit)', () => {
  it('a host using PAE paging (32-bit host with CR4.PAE and CR0.PG) whose PDPTEs at the host CR3 are valid (zeroed memory): loaded', () => {
    const state = vmcsWith({ ...HOST_FIELDS, PRIMARY_VM_EXIT_CONTROLS: EXIT_32, HOST_CR4: 0x2020n, HOST_CR3: 0x5000n });
    const cpu = cpuOf(after(fail(state)), 0);
    expect(cpu).toMatchObject({ untracked: undefined, eferLma: 0, cr3: 0x5000n });
  });

  it('a PAE host whose first PDPTE is present with reserved bit 1 set, PAE paging not in use before: the check is required, a VMX abort with indicator 2 at offset 4 of the VMCS region', () => {
    let state = vmcsWith({ ...HOST_FIELDS, PRIMARY_VM_EXIT_CONTROLS: EXIT_32, HOST_CR4: 0x2020n, HOST_CR3: 0x5000n });
    state = store(state, 0x5000n, 0x3);
    const next = after(fail(state));
    expect(cpuOf(next, 0)).toMatchObject({ activity: 'shutdown', abortedBy: { id: 'vmx-abort.host-pdptes' } });
    expect(next.memory.get(VMCS_A + 4n)).toBe(2);
    // §28.7: the processor is shut down; its later instructions execute nothing.
    expectOnly(next, vmread(FIELD.EXIT_REASON), SHUTDOWN, 'vmx-abort.host-pdptes');
  });

  it('a nonzero VM-exit MSR-load count (MSR 0 from zeroed memory, which the processor may refuse): the failure is reported, then the processor is not followed', () => {
    const state = vmcsWith({ ...HOST_FIELDS, VM_EXIT_MSR_LOAD_COUNT: 1n, VM_EXIT_MSR_LOAD_ADDRESS: 0x8000n });
    const next = after(fail(state));
    expectNotModelled(next, vmread(FIELD.EXIT_REASON), 'host-load.exit-msr-load-may-abort');
  });

  it('a VM-exit MSR-load entry for IA32_FS_BASE: a VMX abort with indicator 4', () => {
    let state = vmcsWith({ ...HOST_FIELDS, VM_EXIT_MSR_LOAD_COUNT: 1n, VM_EXIT_MSR_LOAD_ADDRESS: 0x8000n });
    state = store(state, 0x8000n, 0xc000_0100);
    const next = after(fail(state));
    expect(next.memory.get(VMCS_A + 4n)).toBe(4);
    expectOnly(next, vmread(FIELD.EXIT_REASON), SHUTDOWN, 'vmx-abort.loading-host-msrs');
  });

  it('a host field never written: the state after the failure is unknown (undefined)', () => {
    const partial = vmcsWith({ PRIMARY_VM_EXIT_CONTROLS: HOST_FIELDS.PRIMARY_VM_EXIT_CONTROLS as bigint });
    expect(loadHostState(partial, 0, currentView(partial))).toMatchObject({ kind: 'unknown' });
    expect(entryFailure(partial, 0, decidedBy, GUEST_STATE, 0n)).toMatchObject({ kind: 'undefined', rule: { id: 'vm-entry-failure.host-field-unknown' } });
    RULES_HIT.add('vm-entry-failure.host-field-unknown');
  });
});
