/**
 * The VM-exit MSR-store area (SDM Vol. 3C, December 2023, §28.4 "Saving MSRs"), host PDPTEs
 * (§28.5.4 "Checking and Loading Host Page-Directory-Pointer-Table Entries"), VMX aborts (§28.7
 * "VMX Aborts": indicator at byte offset 4 of the VMCS region, the processor shut down), where the
 * model stops following after an exit, and event injection reported by the entry (§27.6 "Event
 * Injection").
 */
import { describe, expect, it } from 'vitest';
import type { ModelState } from '../../../model/index.ts';
import { cpuOf } from '../../../model/state.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { ENTRY_CONTROL } from '../../../spec/control-bits.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { EXIT_32 } from '../vm-entry/entry-fixtures.ts';
import { exit, expectNotModelled, expectOnly, expectRejected, expectStep, hex, patchCpu, store, VMCS_A, write, withCurrent } from '../helpers.ts';
import { describeExpected } from '../../../model/index.ts';
import { vmcsWith } from '../vm-entry/helpers.ts';
import { inGuest, launch, VALID, vmcall } from './fixtures.ts';
import { DELIVERY_FIELDS, handlerOf, withDeliveryMemory } from '../event-delivery/setup.ts';

const STORE_AREA = 0x9000n;
const vmread = (encoding: number) => ({ kind: 'vmread', cpu: 0, encoding: hex(encoding) }) as const;

/** The fixture's guest with a one-entry VM-exit MSR-store area naming MSR `msr` (reserved word `reserved`). */
function withStoreEntry(msr: number, reserved = 0, changes: Partial<Record<keyof typeof FIELD, bigint>> = {}): ModelState {
  const state = inGuest({ VM_EXIT_MSR_STORE_COUNT: 1n, VM_EXIT_MSR_STORE_ADDRESS: STORE_AREA, ...changes });
  return store(store(state, STORE_AREA, msr), STORE_AREA + 4n, reserved);
}

describe('the VM-exit MSR-store area (§28.4)', () => {
  it('stores IA32_SYSENTER_CS (174H), loaded from the guest field (10H), into bytes 15:8 of the entry', () => {
    const after = expectOnly(withStoreEntry(0x174), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expect(after.memory.get(STORE_AREA + 8n)).toBe(0x10);
    expect(after.memory.get(STORE_AREA + 12n)).toBeUndefined();
    expect(cpuOf(after, 0).untracked).toBeUndefined();
  });

  it('stores IA32_EFER (C0000080H), loaded by the entry ("load IA32_EFER") as 500H: LME and LMA of the IA-32e guest', () => {
    const loadEfer = (VALID.VM_ENTRY_CONTROLS as bigint) | (1n << BigInt(ENTRY_CONTROL.LOAD_IA32_EFER));
    const after = expectOnly(withStoreEntry(0xc000_0080, 0, { VM_ENTRY_CONTROLS: loadEfer }), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expect(after.memory.get(STORE_AREA + 8n)).toBe(0x500);
  });

  it('an MSR whose value the model does not know (IA32_TIME_STAMP_COUNTER, 10H): the exit is compared, the processor then not followed', () => {
    const after = expectOnly(withStoreEntry(0x10), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expectNotModelled(after, vmread(FIELD.EXIT_REASON), 'vm-exit.msr-store-not-followed');
  });

  it('bits 63:32 of the entry not 0: a VMX abort with indicator 1 written at offset 4 of the VMCS region', () => {
    const after = expectOnly(withStoreEntry(0x174, 1), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expect(after.memory.get(VMCS_A + 4n)).toBe(1);
    // §28.7: the processor is shut down; a later instruction of it executes nothing, a memory store still lands.
    expectOnly(after, vmread(FIELD.EXIT_REASON), { kind: 'inactive', activity: 'shutdown', flags: 0 }, 'vmx-abort.saving-guest-msrs');
    expect(store(after, 0x9000n, 7).memory.get(0x9000n)).toBe(7);
  });

  it('an x2APIC MSR (800H-8FFH): a VMX abort with indicator 1', () => {
    const after = expectOnly(withStoreEntry(0x808), vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expect(after.memory.get(VMCS_A + 4n)).toBe(1);
  });
});

describe('the VM-exit MSR-load area (§28.6)', () => {
  it('an entry for IA32_GS_BASE: a VMX abort with indicator 4; the other processor carries on', () => {
    let state = inGuest({ VM_EXIT_MSR_LOAD_COUNT: 1n, VM_EXIT_MSR_LOAD_ADDRESS: 0xa000n });
    state = store(state, 0xa000n, 0xc000_0101);
    const after = expectOnly(state, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expect(after.memory.get(VMCS_A + 4n)).toBe(4);
    expectOnly(after, vmcall, { kind: 'inactive', activity: 'shutdown', flags: 0 }, 'vmx-abort.loading-host-msrs');
    expectOnly(after, { kind: 'vmxoff', cpu: 1 }, { kind: 'fault', vector: 'UD', flags: 0 }, 'vmxoff.ud-outside-vmx');
  });

  it('an entry the processor may refuse (IA32_PAT, 277H): the abort and the host running are both possible; the processor is not followed', () => {
    let state = inGuest({ VM_EXIT_MSR_LOAD_COUNT: 1n, VM_EXIT_MSR_LOAD_ADDRESS: 0xa000n });
    state = store(state, 0xa000n, 0x277);
    const after = expectOnly(state, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expectNotModelled(after, vmcall, 'host-load.exit-msr-load-may-abort');
  });
});

/** Processor 0 put directly into non-root operation with the current VMCS holding `fields`. */
function nonRootWith(fields: Partial<Record<keyof typeof FIELD, bigint>>, cpu: Parameters<typeof patchCpu>[2] = {}): ModelState {
  let state = withCurrent();
  for (const [name, value] of Object.entries(fields)) state = write(state, FIELD[name as keyof typeof FIELD], value as bigint);
  return patchCpu(state, 0, { vmx: 'non-root', ...cpu });
}

describe('where the exit leaves the processor untracked', () => {
  it('host CR0 never written since VMCLEAR: the exit is compared, the state after it is unknown', () => {
    const state = nonRootWith({ PRIMARY_VM_EXIT_CONTROLS: VALID.PRIMARY_VM_EXIT_CONTROLS as bigint, VM_EXIT_MSR_STORE_COUNT: 0n });
    const after = expectOnly(state, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expectNotModelled(after, vmcall, 'vm-exit.host-field-unknown');
  });

  it('a VM-exit MSR-load address never written: not followed', () => {
    const state = nonRootWith({ PRIMARY_VM_EXIT_CONTROLS: VALID.PRIMARY_VM_EXIT_CONTROLS as bigint, VM_EXIT_MSR_STORE_COUNT: 0n, HOST_CR0: VALID.HOST_CR0 as bigint, HOST_CR4: VALID.HOST_CR4 as bigint, VM_EXIT_MSR_LOAD_COUNT: 1n });
    const after = expectOnly(state, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expectNotModelled(after, vmcall, 'host-load.exit-msr-load-not-followed');
  });

  it('a PAE host with the same CR3 as the guest and a present PDPTE with reserved bit 1: the check is optional, both outcomes allowed; not followed', () => {
    const fields = { PRIMARY_VM_EXIT_CONTROLS: EXIT_32, VM_EXIT_MSR_STORE_COUNT: 0n, VM_EXIT_MSR_LOAD_COUNT: 0n, HOST_CR0: 0x8000_0031n, HOST_CR4: 0x2020n, HOST_CR3: 0x5000n };
    let state = nonRootWith(fields, { cr0: 0x8000_0031n, cr4: 0x2020n, cr3: 0x5000n, eferLma: 0, eferLme: 0, csL: 0 });
    state = store(state, 0x5000n, 0x3);
    const after = expectOnly(state, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expectNotModelled(after, vmcall, 'host-load.pae-pdptes');
  });
});

describe('event injection reported by the entry (§27.6)', () => {
  it('#GP (vector 13, hardware exception) with error code 0: the vmentry observation names it; a report without it does not match', () => {
    const state = withDeliveryMemory(vmcsWith({ ...VALID, ...DELIVERY_FIELDS, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0b0dn, VM_ENTRY_EXCEPTION_ERROR_CODE: 0n }));
    const after = expectOnly(state, launch, { kind: 'vmentry', flags: 0x41, injected: { vector: 13, type: 3, errorCode: '0x0' } }, 'vm-entry.injected-event-delivered');
    expectRejected(state, launch, { kind: 'vmentry', flags: 0x41 });
    expectRejected(state, launch, { kind: 'vmentry', flags: 0x41, injected: { vector: 13, type: 3, errorCode: '0x1' } });
    // The guest goes on at the #GP handler: a VMCALL there exits with the handler's RIP saved.
    const exited = expectOnly(after, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expect(currentVmcs(exited, 0)?.content.fields.get(FIELD.GUEST_RIP)?.low).toBe(handlerOf(13));
  });

  it('an external interrupt (vector 32, type 0) has no error code', () => {
    const state = withDeliveryMemory(vmcsWith({ ...VALID, ...DELIVERY_FIELDS, GUEST_RFLAGS: 0x243n, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0020n }));
    expectOnly(state, launch, { kind: 'vmentry', flags: 0x41, injected: { vector: 32, type: 0 } }, 'vm-entry.injected-event-delivered');
  });
});

describe('MSRs loaded by the VM-entry MSR-load area (§27.4) are the ones a later exit stores (§28.4)', () => {
  it('an entry loading IA32_SYSENTER_ESP (175H) with 9000H: the exit stores 9000H', () => {
    let state = vmcsWith({ ...VALID, VM_ENTRY_MSR_LOAD_COUNT: 1n, VM_ENTRY_MSR_LOAD_ADDRESS: 0xb000n, VM_EXIT_MSR_STORE_COUNT: 1n, VM_EXIT_MSR_STORE_ADDRESS: STORE_AREA });
    state = store(store(store(state, 0xb000n, 0x175), 0xb008n, 0x9000), STORE_AREA, 0x175);
    const guest = expectStep(state, launch, { kind: 'vmentry', flags: 0x41 }, 'vm-entry.guest-runs');
    const after = expectOnly(guest, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    expect(after.memory.get(STORE_AREA + 8n)).toBe(0x9000);
  });
});

describe('describing an entry that injects an event', () => {
  it('names the vector, the type and the error code', () => {
    expect(describeExpected({ kind: 'vmentry', flags: 0, injected: { vector: 14, type: 3, errorCode: '0x2' } })).toBe('VM entry injecting vector 14, type 3, error code 0x2, flags clear');
    expect(describeExpected({ kind: 'vmentry', flags: 0, injected: { vector: 32, type: 0 } })).toBe('VM entry injecting vector 32, type 0, flags clear');
  });
});
