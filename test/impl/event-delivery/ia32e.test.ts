/**
 * Event delivery in IA-32e mode (SDM Vol. 3A, December 2023, §6.14 "Exception and Interrupt
 * Handling in 64-bit Mode": 16-byte gates, 8-byte pushes of SS, RSP, RFLAGS, CS, RIP and the
 * error code, RSP aligned to 16 bytes, the stack switch from TSS.RSPn with SS = null selector
 * whose RPL is the new CPL, the IST; §6.12.1.3 "Flag Usage By Exception- or Interrupt-Handler
 * Procedure": TF, NT, RF, VM cleared, IF cleared by an interrupt gate only; §4.8 "Accessed and
 * Dirty Flags") of events injected by VM entry (Vol. 3C §27.6.1.1 "Details of Vectored-Event
 * Injection": RIP + VM-entry instruction length pushed for types 4, 5, 6; the gate DPL checked
 * for types 4 and 6 only). Layout: test/impl/guest-environment.ts.
 */
import { describe, expect, it } from 'vitest';
import { STATUS_DELIVERY_UNIMPLEMENTED } from '../../../impl/index.ts';
import { CODE3, DATA3, handlerOf, IDT, IST1, RSP0 } from '../guest-environment.ts';
import { delivered, enter, event, field, LONG, read, slots } from './rig.ts';

const RING3 = { ...LONG, GUEST_CS_SELECTOR: BigInt(CODE3), GUEST_CS_ACCESS_RIGHTS: 0xa0fbn, GUEST_SS_SELECTOR: BigInt(DATA3), GUEST_SS_ACCESS_RIGHTS: 0xc0f3n };
const INTERRUPT_0X20 = { VM_ENTRY_INTERRUPTION_INFORMATION: event(0, 0x20), GUEST_RFLAGS: 0x202n };

describe('64-bit guest: an injected external interrupt through an interrupt gate', () => {
  it('from CPL 3 to CPL 0: stack from TSS.RSP0, frame SS, RSP, RFLAGS, CS, RIP; SS null with RPL 0; IF cleared', () => {
    const m = delivered({ ...RING3, ...INTERRUPT_0X20, GUEST_RSP: 0x7ff8n });
    expect(field(m, 'GUEST_RIP')).toBe(handlerOf(0x20));
    expect(field(m, 'GUEST_CS_SELECTOR')).toBe(0x8);
    expect(field(m, 'GUEST_CS_ACCESS_RIGHTS')).toBe(0xa09b);
    expect(field(m, 'GUEST_RSP')).toBe(RSP0 - 40);
    expect(field(m, 'GUEST_SS_SELECTOR')).toBe(0);
    // Unusable (bit 16) with DPL 0 = the new CPL.
    expect(field(m, 'GUEST_SS_ACCESS_RIGHTS') & 0x1_0060).toBe(0x1_0000);
    expect(field(m, 'GUEST_RFLAGS')).toBe(0x2);
    // RIP, CS, RFLAGS, RSP, SS from the lowest address up.
    expect(slots(m, RSP0 - 40, 5)).toEqual([0x1000n, BigInt(CODE3), 0x202n, 0x7ff8n, BigInt(DATA3)]);
  });

  it('at the same CPL: the current stack, aligned down to 16 bytes; SS unchanged', () => {
    const m = delivered({ ...LONG, ...INTERRUPT_0X20, GUEST_RSP: 0x9008n });
    expect(field(m, 'GUEST_RSP')).toBe(0x9000 - 40);
    expect(field(m, 'GUEST_SS_SELECTOR')).toBe(0x10);
    expect(slots(m, 0x9000 - 40, 5)).toEqual([0x1000n, 0x8n, 0x202n, 0x9008n, 0x10n]);
  });

  it('a gate with IST 1 switches to TSS.IST1 even without a CPL change', () => {
    const gate = IDT + 0x20 * 16 + 4;
    const m = delivered({ ...LONG, ...INTERRUPT_0X20 }, [[gate, (handlerOf(0x20) & 0xffff_0000) | 0xee01]]);
    expect(field(m, 'GUEST_RSP')).toBe(IST1 - 40);
  });

  it('a trap gate leaves RFLAGS.IF set', () => {
    const gate = IDT + 0x20 * 16 + 4;
    const m = delivered({ ...LONG, ...INTERRUPT_0X20 }, [[gate, (handlerOf(0x20) & 0xffff_0000) | 0xef00]]);
    expect(field(m, 'GUEST_RFLAGS')).toBe(0x202);
  });

  it('sets the accessed flags of the paging-structure entries used and the dirty flag of the stack page', () => {
    const m = delivered({ ...LONG, ...INTERRUPT_0X20 });
    expect(m.readMemory(0x7000, 0) & 0x20).toBe(0x20); // PML4E
    expect(m.readMemory(0x6_4000, 0) & 0x20).toBe(0x20); // PDPTE
    expect(m.readMemory(0x6_5000, 0) & 0x60).toBe(0x60); // the 2-MByte PDE: accessed and dirty
  });
});

describe('64-bit guest: software events and error codes (§27.6.1.1)', () => {
  it('a software interrupt (type 4) and a software exception (type 6) push RIP + the VM-entry instruction length', () => {
    const int = delivered({ ...LONG, VM_ENTRY_INTERRUPTION_INFORMATION: event(4, 0x21), VM_ENTRY_INSTRUCTION_LENGTH: 2n });
    expect(slots(int, 0x9000 - 40, 1)).toEqual([0x1002n]);
    const bp = delivered({ ...LONG, VM_ENTRY_INTERRUPTION_INFORMATION: event(6, 3), VM_ENTRY_INSTRUCTION_LENGTH: 1n });
    expect(slots(bp, 0x9000 - 40, 1)).toEqual([0x1001n]);
    expect(field(bp, 'GUEST_RIP')).toBe(handlerOf(3));
  });

  it('the gate DPL is checked against CPL for type 4, not for type 5 (privileged software exception)', () => {
    const gate = IDT + 0x21 * 16 + 4;
    const dpl0 = [[gate, (handlerOf(0x21) & 0xffff_0000) | 0x8e00]] as const;
    const int = enter({ ...RING3, VM_ENTRY_INTERRUPTION_INFORMATION: event(4, 0x21), VM_ENTRY_INSTRUCTION_LENGTH: 2n }, dpl0);
    expect(int.status).toBe(STATUS_DELIVERY_UNIMPLEMENTED);
    expect(int.m.delivery.what).toMatch(/#GP/);
    const privileged = delivered({ ...RING3, VM_ENTRY_INTERRUPTION_INFORMATION: event(5, 0x21), VM_ENTRY_INSTRUCTION_LENGTH: 1n }, dpl0);
    expect(field(privileged, 'GUEST_RIP')).toBe(handlerOf(0x21));
  });

  it('a hardware exception with an error code pushes it below RIP; RF as loaded', () => {
    const m = delivered({ ...LONG, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 13, true), VM_ENTRY_EXCEPTION_ERROR_CODE: 0x18n, GUEST_RFLAGS: 0x1_0002n });
    expect(field(m, 'GUEST_RSP')).toBe(0x9000 - 48);
    expect(slots(m, 0x9000 - 48, 4)).toEqual([0x18n, 0x1000n, 0x8n, 0x1_0002n]);
    expect(read(m, 'GUEST_RFLAGS')).toBe(0x2n);
  });

  it('a vector beyond the IDT limit is a #GP during delivery: not implemented', () => {
    const { status, m } = enter({ ...LONG, VM_ENTRY_INTERRUPTION_INFORMATION: event(0, 0x20), GUEST_RFLAGS: 0x202n, GUEST_IDTR_LIMIT: 0x1ffn });
    expect(status).toBe(STATUS_DELIVERY_UNIMPLEMENTED);
    expect(m.delivery.what).toMatch(/IDT limit/);
  });
});
