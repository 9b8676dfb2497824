/**
 * Event delivery through EPT (SDM Vol. 3C, December 2023, §29.3.2 "EPT Translation Mechanism",
 * §29.3.5 "Accessed and Dirty Flags for EPT": with EPTP bit 6 = 1 the accessed flag (bit 8) of
 * every EPT entry used and the dirty flag (bit 9) of the page's entry for a write; guest
 * paging-structure accesses count as writes), in protected mode (Vol. 3A §6.12.1: 32-bit gates,
 * the stack switch from the 32-bit TSS's SS0:ESP0 on a CPL change, 4-byte pushes of SS, ESP,
 * EFLAGS, CS, EIP and the error code) and in real-address mode under "unrestricted guest"
 * (Vol. 3A §21.1.4: the 4-byte IVT entry at IDTR.base + 4 × vector; FLAGS, CS, IP pushed;
 * IF, TF, AC cleared). Layout: test/impl/guest-environment.ts.
 */
import { describe, expect, it } from 'vitest';
import { STATUS_DELIVERY_UNIMPLEMENTED } from '../../../impl/index.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../../spec/control-bits.ts';
import { CODE3, DATA0, DATA3, handlerOf, RSP0 } from '../guest-environment.ts';
import { delivered, dwords, enter, event, field, LONG, slots, validField } from './rig.ts';

const bit = (n: number): bigint => 1n << BigInt(n);
const EPT = {
  PRIMARY_PROCESSOR_BASED_CONTROLS: validField('PRIMARY_PROCESSOR_BASED_CONTROLS') | bit(PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS),
  SECONDARY_PROCESSOR_BASED_CONTROLS: validField('SECONDARY_PROCESSOR_BASED_CONTROLS') | bit(SECONDARY_CONTROL.ENABLE_EPT),
  EPT_POINTER: validField('EPT_POINTER') | bit(6),
};
const INTERRUPT_0X20 = { VM_ENTRY_INTERRUPTION_INFORMATION: event(0, 0x20), GUEST_RFLAGS: 0x202n };

describe('EPT', () => {
  it('translates every access; with EPTP bit 6 sets the EPT accessed flags and the dirty flag of the written pages', () => {
    const m = delivered({ ...LONG, ...EPT, ...INTERRUPT_0X20 });
    expect(field(m, 'GUEST_RIP')).toBe(handlerOf(0x20));
    expect(m.readMemory(0, 0) & 0x100).toBe(0x100); // EPT PML4E accessed
    expect(m.readMemory(0x6_6000, 0) & 0x100).toBe(0x100); // EPT PDPTE accessed
    expect(m.readMemory(0x6_7000, 0) & 0x300).toBe(0x300); // the 2-MByte page 0-2 MBytes: accessed and dirty
  });

  it('a guest-physical page mapped elsewhere: the frame lands at the physical address EPT gives', () => {
    // EPT PDE 1 maps guest-physical 2-4 MBytes at physical 600000H; the guest's stack is at
    // 209000H (guest paging maps it to itself), so the frame is at physical 608FD8H.
    const m = delivered({ ...LONG, ...EPT, ...INTERRUPT_0X20, GUEST_RSP: 0x20_9000n }, [[0x6_7008, 0x60_0000 | 0x80 | (6 << 3) | 7]]);
    expect(field(m, 'GUEST_RSP')).toBe(0x20_9000 - 40);
    expect(slots(m, 0x60_8fd8, 5)).toEqual([0x1000n, 0x8n, 0x202n, 0x20_9000n, 0x10n]);
    expect(slots(m, 0x20_8fd8, 1)).toEqual([0n]);
  });

  it('an EPT entry that is not present is an EPT violation during delivery: not implemented', () => {
    const { status, m } = enter({ ...LONG, ...EPT, ...INTERRUPT_0X20 }, [[0x6_7000, 0]]);
    expect(status).toBe(STATUS_DELIVERY_UNIMPLEMENTED);
    expect(m.delivery.what).toMatch(/EPT violation/);
  });
});

describe('protected mode (the valid VMCS\'s 32-bit PAE guest)', () => {
  it('from CPL 3 to CPL 0: SS0:ESP0 from the TSS, frame SS, ESP, EFLAGS, CS, EIP, error code; SS and CS loaded from the GDT', () => {
    const ring3 = { GUEST_CS_SELECTOR: BigInt(CODE3), GUEST_CS_ACCESS_RIGHTS: 0xc0fbn, GUEST_SS_SELECTOR: BigInt(DATA3), GUEST_SS_ACCESS_RIGHTS: 0xc0f3n, GUEST_RSP: 0x7ffcn };
    const m = delivered({ ...ring3, VM_ENTRY_INTERRUPTION_INFORMATION: event(3, 13, true), VM_ENTRY_EXCEPTION_ERROR_CODE: 0x20n, GUEST_RFLAGS: 0x202n });
    expect(field(m, 'GUEST_RIP')).toBe(handlerOf(13));
    expect(field(m, 'GUEST_RSP')).toBe(RSP0 - 24);
    expect([field(m, 'GUEST_SS_SELECTOR'), field(m, 'GUEST_SS_ACCESS_RIGHTS'), field(m, 'GUEST_SS_LIMIT') >>> 0]).toEqual([DATA0, 0xc093, 0xffff_ffff]);
    expect([field(m, 'GUEST_CS_SELECTOR'), field(m, 'GUEST_CS_ACCESS_RIGHTS')]).toEqual([0x8, 0xc09b]);
    expect(field(m, 'GUEST_RFLAGS')).toBe(0x2);
    expect(dwords(m, RSP0 - 24, 6)).toEqual([0x20, 0x1000, CODE3, 0x202, 0x7ffc, DATA3]);
  });

  it('at the same CPL: EFLAGS, CS, EIP on the current stack (no alignment)', () => {
    const m = delivered({ ...INTERRUPT_0X20, GUEST_RSP: 0x9006n });
    expect(field(m, 'GUEST_RSP')).toBe(0x9006 - 12);
    // EIP at 8FFAH, CS at 8FFEH, EFLAGS at 9002H (an unaligned frame, stored across words).
    expect(m.readMemory(0x8ff8, 0) >>> 16).toBe(0x1000);
    expect(m.readMemory(0x8ffc, 0) >>> 16).toBe(0x8);
    expect(m.readMemory(0x9000, 0) >>> 16).toBe(0x0202);
    expect(field(m, 'GUEST_SS_SELECTOR')).toBe(0x10);
  });

  it('a task gate is not modelled', () => {
    const { status, m } = enter(INTERRUPT_0X20, [[0x4_0000 + 0x20 * 8 + 4, 0xe500]]);
    expect(status).toBe(STATUS_DELIVERY_UNIMPLEMENTED);
    expect(m.delivery.what).toMatch(/task gate/);
  });
});

describe('real-address mode under "unrestricted guest"', () => {
  it('pushes FLAGS, CS, IP and continues at the IVT entry with IF cleared', () => {
    const ivt = 0x6_8000;
    const cr0 = validField('GUEST_CR0') & ~0x8000_0001n;
    const real = {
      ...EPT,
      SECONDARY_PROCESSOR_BASED_CONTROLS: EPT.SECONDARY_PROCESSOR_BASED_CONTROLS | bit(SECONDARY_CONTROL.UNRESTRICTED_GUEST),
      GUEST_CR0: cr0,
      GUEST_CS_SELECTOR: 0x100n,
      GUEST_CS_BASE: 0x1000n,
      GUEST_CS_LIMIT: 0xffffn,
      GUEST_CS_ACCESS_RIGHTS: 0x9bn,
      GUEST_SS_SELECTOR: 0n,
      GUEST_SS_BASE: 0n,
      GUEST_SS_LIMIT: 0xffffn,
      GUEST_SS_ACCESS_RIGHTS: 0x93n,
      GUEST_IDTR_BASE: BigInt(ivt),
      GUEST_IDTR_LIMIT: 0x3ffn,
      GUEST_RIP: 0x10n,
      GUEST_RSP: 0x8000n,
      ...INTERRUPT_0X20,
      GUEST_RFLAGS: 0x4_0302n, // AC, IF, TF
    };
    const m = delivered(real, [[ivt + 0x20 * 4, (0x2000 << 16) | 0x1234]]);
    expect([field(m, 'GUEST_CS_SELECTOR'), field(m, 'GUEST_CS_BASE'), field(m, 'GUEST_RIP')]).toEqual([0x2000, 0x2_0000, 0x1234]);
    expect(field(m, 'GUEST_RSP')).toBe(0x8000 - 6);
    expect(field(m, 'GUEST_RFLAGS')).toBe(0x2);
    // IP, CS, FLAGS (2 bytes each) from the lowest address up.
    // SP 8000H: FLAGS at 7FFEH, CS at 7FFCH, IP at 7FFAH.
    expect(dwords(m, 0x7ff8, 2)).toEqual([0x10 << 16, (0x0302 << 16) | 0x100]);
  });
});

