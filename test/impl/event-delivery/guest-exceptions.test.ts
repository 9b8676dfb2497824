/**
 * An exception a guest instruction raises that the exception bitmap does not turn into a VM exit
 * is delivered through the guest IDT (SDM Vol. 3C, December 2023, §26.2 "Other Causes of VM
 * Exits"; Vol. 3A §6.12.1): the step is still observed as the fault, and the guest goes on at the
 * handler. A fault-class exception pushes RFLAGS with RF = 1 (Vol. 3A §18.3.1.1); INT3 pushes the
 * RIP after it; a delivered NMI blocks NMIs (§6.7.1 "Handling Multiple NMIs").
 */
import { describe, expect, it } from 'vitest';
import { STATUS_FAULT, STATUS_UD } from '../../../impl/index.ts';
import { handlerOf } from '../guest-environment.ts';
import { LONG, read, slots } from './rig.ts';
import { launched } from '../vm-exit/rig.ts';

describe('guest exceptions delivered in the guest', () => {
  it('#UD: observed as #UD; RIP at the handler, the frame pushed with RF = 1', () => {
    const m = launched({ changes: { ...LONG, GUEST_RSP: 0x9000n } });
    expect(m.guest.exception(0, 6, false, 0, 0, 0)).toBe(STATUS_UD);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(6)));
    expect(slots(m, 0x9000 - 40, 3)).toEqual([0x1000n, 0x8n, 0x1_0002n]);
    // RF is cleared by the delivery itself (and VMCALL's exit saves RF = 0).
    expect(read(m, 'GUEST_RFLAGS') & 0x1_0000n).toBe(0n);
  });

  it('#BP (INT3, one byte): the RIP after the instruction is pushed, RF not set', () => {
    const m = launched({ changes: { ...LONG } });
    expect(m.guest.exception(0, 3, false, 0, 0, 0)).toBe(STATUS_FAULT);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(3)));
    expect(slots(m, 0x9000 - 40, 3)).toEqual([0x1001n, 0x8n, 0x2n]);
  });

  it('a delivered NMI blocks NMIs (saved in the interruptibility state at the next exit)', () => {
    const m = launched({ changes: { ...LONG } });
    expect(m.guest.exception(0, 2, false, 0, 0, 0)).toBe(STATUS_FAULT);
    m.vmcall(0);
    expect(read(m, 'GUEST_RIP')).toBe(BigInt(handlerOf(2)));
    expect(read(m, 'GUEST_INTERRUPTIBILITY_STATE')).toBe(8n);
  });
});
