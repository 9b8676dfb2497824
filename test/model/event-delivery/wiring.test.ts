/**
 * Where the model delivers events, end to end through `step`: an event injected by VMLAUNCH (SDM
 * Vol. 3C, December 2023, §27.6.1.1 "Details of Vectored-Event Injection": types 4-6 push RIP +
 * the VM-entry instruction length, RF pushed as loaded, the software DPL check for types 4 and 6
 * only), and an exception a guest instruction raises with its exception-bitmap bit 0 (§26.2;
 * Vol. 3B §18.3.1.1: a fault pushes RF = 1; #BP and #OF are traps whose next RIP the `exception`
 * operation does not give).
 */
import { describe, expect, it } from 'vitest';
import { cpuOf } from '../../../model/state.ts';
import { currentVmcs } from '../../../model/vmcs.ts';
import { knownFieldValue } from '../../../model/vmcs-fields.ts';
import { EXIT_REASON } from '../../../spec/exit-reasons.ts';
import { FIELD } from '../../../spec/fields.ts';
import { exit, expectNotModelled, expectOnly } from '../helpers.ts';
import { vmcsWith } from '../vm-entry/helpers.ts';
import { launch, VALID, vmcall } from '../vm-exit/fixtures.ts';
import { DELIVERY_FIELDS, guest64, handlerOf, peek64, USER_STACK, withDeliveryMemory } from './setup.ts';

/** The frame's top: the guest RSP of DELIVERY_FIELDS aligned down to 16 bytes (CPL 0, no stack switch). */
const TOP = USER_STACK + 0xff0n;
const GUEST_RIP = VALID.GUEST_RIP as bigint;

describe('an event injected by VMLAUNCH', () => {
  it('a software interrupt (type 4, vector 21H, length 2): RIP + 2 pushed, RFLAGS pushed as loaded with RF, the handler runs with RF and IF clear', () => {
    const state = withDeliveryMemory(vmcsWith({ ...VALID, ...DELIVERY_FIELDS, GUEST_RFLAGS: 0x10243n, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0421n, VM_ENTRY_INSTRUCTION_LENGTH: 2n }));
    const after = expectOnly(state, launch, { kind: 'vmentry', flags: 0x41, injected: { vector: 0x21, type: 4 } }, 'vm-entry.injected-event-delivered');
    expect(peek64(after, TOP - 0x28n)).toBe(GUEST_RIP + 2n);
    expect(peek64(after, TOP - 0x18n)).toBe(0x10243n);
    expect(peek64(after, TOP - 0x20n)).toBe(0x08n);
    expect(cpuOf(after, 0).rip).toBe(handlerOf(0x21));
    expect(cpuOf(after, 0).guest?.rflags).toBe(0x43n);
    const exited = expectOnly(after, vmcall, exit(EXIT_REASON.VMCALL), 'vmcall.vm-exit');
    const content = currentVmcs(exited, 0)?.content;
    expect(content === undefined ? undefined : knownFieldValue(content, FIELD.GUEST_RIP)).toBe(handlerOf(0x21));
    expect(content === undefined ? undefined : knownFieldValue(content, FIELD.GUEST_RSP)).toBe(TOP - 0x28n);
  });

  it('a software exception (type 6, #BP, length 1): RIP + 1 pushed', () => {
    const state = withDeliveryMemory(vmcsWith({ ...VALID, ...DELIVERY_FIELDS, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0603n, VM_ENTRY_INSTRUCTION_LENGTH: 1n }));
    const after = expectOnly(state, launch, { kind: 'vmentry', flags: 0x41, injected: { vector: 3, type: 6 } }, 'vm-entry.injected-event-delivered');
    expect(peek64(after, TOP - 0x28n)).toBe(GUEST_RIP + 1n);
  });

  it('a hardware exception pushes the guest RIP and the error code; a gate beyond the IDT limit makes the entry not modelled (the nested #GP may exit)', () => {
    const state = withDeliveryMemory(vmcsWith({ ...VALID, ...DELIVERY_FIELDS, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0b0en, VM_ENTRY_EXCEPTION_ERROR_CODE: 6n }));
    const after = expectOnly(state, launch, { kind: 'vmentry', flags: 0x41, injected: { vector: 14, type: 3, errorCode: '0x6' } }, 'vm-entry.injected-event-delivered');
    expect(peek64(after, TOP - 0x28n)).toBe(GUEST_RIP);
    expect(peek64(after, TOP - 0x30n)).toBe(6n);
    expectNotModelled(withDeliveryMemory(vmcsWith({ ...VALID, ...DELIVERY_FIELDS, GUEST_IDTR_LIMIT: 0x2ffn, GUEST_RFLAGS: 0x243n, VM_ENTRY_INTERRUPTION_INFORMATION: 0x8000_0030n })), launch, 'event-delivery.nested-gp');
  });
});

describe('an exception raised in the guest with its exception-bitmap bit 0', () => {
  const running = withDeliveryMemory(guest64(0, { rsp: USER_STACK + 0xff8n, rflags: 0x202n }));

  it('#GP(0): the fault is observed, the guest goes on at the #GP handler, the RFLAGS pushed has RF = 1 (a fault)', () => {
    const after = expectOnly(running, { kind: 'exception', cpu: 0, vector: 13, errorCode: '0x0' }, { kind: 'fault', vector: 'GP', flags: 0, errorCode: '0x0' }, 'exception.delivered');
    expect(cpuOf(after, 0).rip).toBe(handlerOf(13));
    expect(peek64(after, TOP - 0x18n)).toBe(0x10202n);
    expect(peek64(after, TOP - 0x28n)).toBe(0x13_0000n);
  });

  it('#BP and #OF (traps), #DB (fault or trap) and #DF (abort) from the exception operation: what is pushed is not known, not modelled', () => {
    expectNotModelled(running, { kind: 'exception', cpu: 0, vector: 3 }, 'event-delivery.return-address-unknown');
    expectNotModelled(running, { kind: 'exception', cpu: 0, vector: 4 }, 'event-delivery.return-address-unknown');
    expectNotModelled(running, { kind: 'exception', cpu: 0, vector: 1 }, 'event-delivery.return-address-unknown');
    expectNotModelled(running, { kind: 'exception', cpu: 0, vector: 8, errorCode: '0x0' }, 'event-delivery.return-address-unknown');
  });
});
