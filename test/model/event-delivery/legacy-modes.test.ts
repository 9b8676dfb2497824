/**
 * Delivery outside IA-32e mode, with expectations from SDM Vol. 3A, December 2023, §6.11 "IDT
 * Descriptors" (8-byte gates), §6.12.1 "Exception- or Interrupt-Handler Procedures" (the stack
 * switch from the 32-bit TSS: SS0:ESP0 for CPL 0; SS, ESP, EFLAGS, CS, EIP and the error code
 * pushed on the new stack), §6.12.2 "Interrupt Tasks" (task gates); Vol. 3B §21.1.4 "Interrupt
 * and Exception Handling" (real-address mode: the IVT, FLAGS, CS and IP pushed, IF, TF and AC
 * cleared); Vol. 2A INT n Operation (REAL-ADDRESS-MODE, PROTECTED-MODE).
 */
import { describe, expect, it } from 'vitest';
import type { ModelState } from '../../../model/index.ts';
import { deliverEvent } from '../../../model/event-delivery/deliver.ts';
import type { DeliveryOutcome } from '../../../model/event-delivery/deliver.ts';
import { cpuOf } from '../../../model/state.ts';
import { readWord, writeWord } from '../../../model/memory.ts';
import { RULES_HIT } from '../helpers.ts';
import { AR, deliveryGuest, gate32, GDT, HANDLER, IDT, KERNEL_STACK, poke64, segment, TSS, USER_STACK, withGdt } from './setup.ts';

const RIP = 0x13_0000n;

function delivered(outcome: DeliveryOutcome, ruleId: string): ModelState {
  expect(outcome.kind === 'stopped' ? outcome.rule.id : outcome.rule.id).toBe(ruleId);
  RULES_HIT.add(ruleId);
  return (outcome as Extract<DeliveryOutcome, { kind: 'delivered' }>).state;
}

function stopped(outcome: DeliveryOutcome, ruleId: string): void {
  expect(outcome).toMatchObject({ kind: 'stopped', rule: { id: ruleId } });
  RULES_HIT.add(ruleId);
}

/** A 32-bit guest at CPL 3, paging off, with a 32-bit TSS at TSS (ESP0 = KERNEL_STACK + FFEH, SS0 = 38H) and `gates` (8 bytes each). */
function protected3(gates: ReadonlyArray<readonly [number, bigint]>, rflags = 0x202n): ModelState {
  let state = deliveryGuest({
    cr0: 0x11n,
    cr4: 0x2000n,
    ia32e: false,
    cs: segment(0x23n, 0n, 0xffff_ffffn, AR.CODE32_DPL3),
    ss: segment(0x2bn, 0n, 0xffff_ffffn, AR.DATA_DPL3),
    tr: segment(0x18n, TSS, 0x67n, 0x8bn),
    rsp: USER_STACK + 0xffcn,
    rflags,
  });
  state = withGdt(state);
  state = writeWord(state, TSS + 4n, Number(KERNEL_STACK + 0xffen));
  state = writeWord(state, TSS + 8n, 0x38);
  for (const [vector, gate] of gates) state = poke64(state, IDT + BigInt(vector) * 8n, gate);
  return state;
}

describe('protected mode: 32-bit interrupt and trap gates', () => {
  it('a CPL-3 guest, an interrupt gate to CPL 0: SS0:ESP0 from the 32-bit TSS, SS, ESP, EFLAGS, CS, EIP and the error code pushed as 4-byte values', () => {
    const state = protected3([[13, gate32(0x20n, HANDLER)]], 0x4302n);
    const after = delivered(deliverEvent(state, 0, { vector: 13, type: 3, errorCode: 0x10n, pushedRip: RIP, pushedRflags: 0x4302n }), 'event-delivery.protected-mode');
    const top = KERNEL_STACK + 0xffen;
    // ESP0 is not 4-byte aligned: each 4-byte push straddles two words; check through the guest's view.
    const dword = (offset: bigint): bigint => {
      const at = top - offset;
      const low = BigInt(readWord(after, at & ~3n) >>> 0) >> (8n * (at & 3n));
      const high = BigInt(readWord(after, (at & ~3n) + 4n) >>> 0) << (32n - 8n * (at & 3n));
      return (low | high) & 0xffff_ffffn;
    };
    expect(dword(4n)).toBe(0x2bn);
    expect(dword(8n)).toBe(USER_STACK + 0xffcn);
    expect(dword(12n)).toBe(0x4302n);
    expect(dword(16n)).toBe(0x23n);
    expect(dword(20n)).toBe(RIP);
    expect(dword(24n)).toBe(0x10n);
    const cpu = cpuOf(after, 0);
    expect(cpu.guest?.rsp).toBe(top - 24n);
    expect(cpu.guest?.segments.SS.selector).toBe(0x38n);
    expect(cpu.guest?.segments.SS.accessRights).toBe(0xc093n);
    expect(cpu.guest?.segments.CS.selector).toBe(0x20n);
    expect(cpu.cpl).toBe(0);
    expect(cpu.rip).toBe(HANDLER);
    expect(cpu.guest?.rflags).toBe(0x0002n);
  });

  it('a trap gate at the same privilege (CPL 0): no stack switch, EFLAGS, CS, EIP pushed, IF kept', () => {
    const state = deliveryGuest({
      cr0: 0x11n,
      cr4: 0x2000n,
      ia32e: false,
      cs: segment(0x20n, 0n, 0xffff_ffffn, AR.CODE32_DPL0),
      ss: segment(0x10n, 0n, 0xffff_ffffn, AR.DATA_DPL0),
      tr: segment(0x18n, TSS, 0x67n, 0x8bn),
      rsp: USER_STACK + 0x800n,
      rflags: 0x202n,
    });
    const after = delivered(deliverEvent(poke64(withGdt(state), IDT + 6n * 8n, gate32(0x20n, HANDLER, { type: 0xf })), 0, { vector: 6, type: 3, pushedRip: RIP, pushedRflags: 0x10202n }), 'event-delivery.protected-mode');
    expect(readWord(after, USER_STACK + 0x7fcn) >>> 0).toBe(0x10202);
    expect(readWord(after, USER_STACK + 0x7f8n) >>> 0).toBe(0x20);
    expect(readWord(after, USER_STACK + 0x7f4n) >>> 0).toBe(Number(RIP));
    expect(cpuOf(after, 0).guest?.rflags).toBe(0x202n);
  });

  it('task gates and 16-bit gates are not followed; a handler offset beyond the CS limit is #GP; an SS0 with the wrong RPL is #TS', () => {
    const state = protected3([[1, gate32(0x0n, 0n, { type: 0x5 })], [2, gate32(0x20n, HANDLER, { type: 0x6 })], [3, gate32(0x20n, HANDLER, { type: 0x7 })], [4, gate32(0x20n, HANDLER)]]);
    stopped(deliverEvent(state, 0, { vector: 1, type: 3, pushedRip: RIP, pushedRflags: 2n }), 'event-delivery.task-gate');
    stopped(deliverEvent(state, 0, { vector: 2, type: 2, pushedRip: RIP, pushedRflags: 2n }), 'event-delivery.16-bit-gate');
    stopped(deliverEvent(state, 0, { vector: 3, type: 3, pushedRip: RIP, pushedRflags: 2n }), 'event-delivery.16-bit-gate');
    const smallCode = poke64(state, GDT + 0x20n, 0x0040_9b00_0000_0fffn);
    stopped(deliverEvent(smallCode, 0, { vector: 4, type: 3, pushedRip: RIP, pushedRflags: 2n }), 'event-delivery.nested-gp');
    const badSs = writeWord(state, TSS + 8n, 0x3b);
    stopped(deliverEvent(badSs, 0, { vector: 4, type: 3, pushedRip: RIP, pushedRflags: 2n }), 'event-delivery.nested-ss-ts');
  });

  it('a guest in virtual-8086 mode is not followed', () => {
    const state = protected3([], 0x20202n);
    stopped(deliverEvent(state, 0, { vector: 13, type: 3, errorCode: 0n, pushedRip: RIP, pushedRflags: 0x20202n }), 'event-delivery.virtual-8086');
  });
});

describe('real-address mode (unrestricted guest): the IVT', () => {
  /** SS base 3000H, SP 100H, a 16-bit stack; CS 100H; the IVT at 0 with vector 8 → 0500:1234. */
  const real = (): ModelState => {
    const state = deliveryGuest({
      cr0: 0x30n,
      cr4: 0x2000n,
      ia32e: false,
      cs: segment(0x100n, 0x1000n, 0xffffn, AR.REAL_CODE),
      ss: segment(0x300n, 0x3000n, 0xffffn, AR.REAL_DATA),
      tr: segment(0n, 0n, 0xffffn, 0x8bn),
      rsp: 0x1_0000_0100n,
      rflags: 0x40346n,
      rip: 0x42n,
      idtBase: 0n,
      idtLimit: 0x3ffn,
    });
    return writeWord(state, 8n * 4n, 0x0500_1234);
  };

  it('pushes FLAGS, CS and IP as 2-byte values at SS:SP, loads CS = segment (base × 16) and IP = offset, clears IF, TF and AC', () => {
    const after = delivered(deliverEvent(real(), 0, { vector: 8, type: 3, errorCode: 0n, pushedRip: 0x42n, pushedRflags: 0x40346n }), 'event-delivery.real-address-mode');
    expect(readWord(after, 0x30fcn) >>> 0).toBe(0x0346_0100);
    expect((readWord(after, 0x30f8n) >>> 16) & 0xffff).toBe(0x42);
    const cpu = cpuOf(after, 0);
    expect(cpu.rip).toBe(0x1234n);
    expect(cpu.guest?.segments.CS.selector).toBe(0x500n);
    expect(cpu.guest?.segments.CS.base).toBe(0x5000n);
    expect(cpu.guest?.segments.CS.limit).toBe(0xffffn);
    expect(cpu.guest?.rsp).toBe(0x1_0000_00fan);
    expect(cpu.guest?.rflags).toBe(0x46n);
  });

  it('a vector beyond the IDTR limit is #GP; a stack beyond the SS limit is #SS: not modelled', () => {
    stopped(deliverEvent(real(), 0, { vector: 0x100, type: 0, pushedRip: 0x42n, pushedRflags: 2n }), 'event-delivery.nested-gp');
    const tiny = deliveryGuest({ cr0: 0x30n, cr4: 0x2000n, ia32e: false, cs: segment(0x100n, 0x1000n, 0xffffn, AR.REAL_CODE), ss: segment(0x300n, 0x3000n, 0x10n, AR.REAL_DATA), tr: segment(0n, 0n, 0xffffn, 0x8bn), rsp: 0x100n, rflags: 2n, idtBase: 0n, idtLimit: 0x3ffn });
    stopped(deliverEvent(tiny, 0, { vector: 8, type: 3, pushedRip: 0x42n, pushedRflags: 2n }), 'event-delivery.nested-ss-ts');
  });
});
