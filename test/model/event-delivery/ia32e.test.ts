/**
 * Delivery through the IDT in IA-32e mode, with expectations from SDM Vol. 3A, December 2023:
 * §6.14.1 "64-Bit Mode IDT" (16-byte gates at IDTR.base + 16 × vector), §6.14.2 "64-Bit Mode
 * Stack Frame" (SS, RSP, RFLAGS, CS, RIP, error code as 8-byte pushes, RSP aligned to 16 bytes),
 * §6.14.4 "Stack Switching in IA-32e Mode" (RSPn from the TSS on a privilege change, SS a null
 * selector with RPL = new CPL), §6.14.5 "Interrupt Stack Table", §6.12.1.3 "Flag Usage By
 * Exception- or Interrupt-Handler Procedure" (TF, NT, RF, VM cleared; IF cleared by an interrupt
 * gate only), §6.12.1.1 (software interrupts and the gate DPL), §4.8 "Accessed and Dirty Flags",
 * §3.4.5 "Segment Descriptors" (the accessed bit).
 */
import { describe, expect, it } from 'vitest';
import type { ModelState } from '../../../model/index.ts';
import { deliverEvent } from '../../../model/event-delivery/deliver.ts';
import type { DeliveryOutcome } from '../../../model/event-delivery/deliver.ts';
import type { DeliveryEvent } from '../../../model/event-delivery/event.ts';
import { cpuOf } from '../../../model/state.ts';
import { RULES_HIT } from '../helpers.ts';
import { CR4_PAE, DESCRIPTORS, GDT, gate64, guest64, HANDLER, IDT, IST_STACK, KERNEL_STACK, peek64, PT, poke64, segment, AR, SYSTEM_PAGES, TSS, USER_STACK, fourLevelPaging, withGdt } from './setup.ts';

const RIP = 0x13_0000n;
/** RFLAGS with IF, ZF, PF, bit 1, and TF and NT set to see them cleared. */
const RFLAGS = 0x4346n;

/** Memory: paging of the system pages and the user stack, the GDT, the TSS (RSP0 unaligned, IST1), and `gates` at their vectors. */
function memory(state: ModelState, gates: ReadonlyArray<readonly [number, readonly [bigint, bigint]]>, userStack = true): ModelState {
  let next = withGdt(fourLevelPaging(state, SYSTEM_PAGES.concat(userStack ? [USER_STACK] : []), [USER_STACK]));
  for (const [vector, [low, high]] of gates) next = poke64(poke64(next, IDT + BigInt(vector) * 16n, low), IDT + BigInt(vector) * 16n + 8n, high);
  next = poke64(next, TSS, (KERNEL_STACK + 0xff8n) << 32n);
  next = poke64(next, TSS + 8n, 0n);
  return poke64(next, TSS + 0x20n, (IST_STACK + 0x800n) << 32n);
}

const event = (vector: number, more: Partial<DeliveryEvent> = {}): DeliveryEvent => ({ vector, type: 3, pushedRip: RIP, pushedRflags: RFLAGS, ...more });

/** The delivered state, its rule recorded. */
function delivered(outcome: DeliveryOutcome, ruleId = 'event-delivery.ia32e'): ModelState {
  expect(outcome.kind === 'stopped' ? outcome.rule.id : 'delivered').toBe('delivered');
  expect(outcome.rule.id).toBe(ruleId);
  RULES_HIT.add(ruleId);
  return (outcome as Extract<DeliveryOutcome, { kind: 'delivered' }>).state;
}

/** Delivery stops at `ruleId`. */
function stopped(outcome: DeliveryOutcome, ruleId: string): void {
  expect(outcome).toMatchObject({ kind: 'stopped', rule: { id: ruleId } });
  RULES_HIT.add(ruleId);
}

describe('§6.14 a 64-bit guest at CPL 3, interrupt gate to a CPL-0 handler', () => {
  const gp = memory(guest64(3, { rflags: RFLAGS }), [[13, gate64(0x08n, HANDLER)]]);
  const after = delivered(deliverEvent(gp, 0, event(13, { errorCode: 0x18n })));
  const cpu = cpuOf(after, 0);
  /** RSP0 = KERNEL_STACK + FF8H, aligned down to 16 bytes. */
  const top = KERNEL_STACK + 0xff0n;

  it('switches to RSP0 of the TSS aligned to 16 bytes, and pushes SS, RSP, RFLAGS, CS, RIP and the error code as 8-byte values', () => {
    expect(peek64(after, top - 0x08n)).toBe(0x2bn);
    expect(peek64(after, top - 0x10n)).toBe(USER_STACK + 0xff8n);
    expect(peek64(after, top - 0x18n)).toBe(RFLAGS);
    expect(peek64(after, top - 0x20n)).toBe(0x33n);
    expect(peek64(after, top - 0x28n)).toBe(RIP);
    expect(peek64(after, top - 0x30n)).toBe(0x18n);
    expect(cpu.guest?.rsp).toBe(top - 0x30n);
  });

  it('loads CS:RIP from the gate (CPL 0), SS with the null selector whose RPL is the new CPL, and clears IF, TF and NT', () => {
    expect(cpu.rip).toBe(HANDLER);
    expect(cpu.cpl).toBe(0);
    expect(cpu.csL).toBe(1);
    expect(cpu.guest?.segments.CS.selector).toBe(0x08n);
    expect(cpu.guest?.segments.SS.selector).toBe(0n);
    expect((cpu.guest?.segments.SS.accessRights ?? 0n) & AR.UNUSABLE).toBe(AR.UNUSABLE);
    expect(cpu.guest?.rflags).toBe(RFLAGS & ~0x4300n);
  });

  it('sets the accessed bit of the handler\'s code-segment descriptor (§3.4.5), and the accessed and dirty flags of the paging entries (§4.8)', () => {
    const [, code] = DESCRIPTORS[0] ?? [0n, 0n];
    expect(peek64(after, GDT + 8n)).toBe(code | (1n << 40n));
    const stackPte = peek64(after, PT + (KERNEL_STACK >> 12n) * 8n);
    expect(stackPte & 0x60n).toBe(0x60n);
    const idtPte = peek64(after, PT + (IDT >> 12n) * 8n);
    expect(idtPte & 0x60n).toBe(0x20n);
  });
});

describe('§6.14.2 same privilege level, §6.14.5 IST, trap gates', () => {
  it('a CPL-0 guest: no stack switch, the current RSP aligned to 16 bytes, SS:RSP still pushed, SS unchanged', () => {
    const state = memory(guest64(0, { rflags: RFLAGS, rsp: USER_STACK + 0xff8n }), [[32, gate64(0x08n, HANDLER)]]);
    const after = delivered(deliverEvent(state, 0, event(32, { type: 0 })));
    const top = USER_STACK + 0xff0n;
    expect(peek64(after, top - 0x08n)).toBe(0x10n);
    expect(peek64(after, top - 0x10n)).toBe(USER_STACK + 0xff8n);
    expect(cpuOf(after, 0).guest?.rsp).toBe(top - 0x28n);
    expect(cpuOf(after, 0).guest?.segments.SS.selector).toBe(0x10n);
  });

  it('a gate with IST 1 switches to IST1 of the TSS even without a privilege change', () => {
    const state = memory(guest64(0, { rflags: RFLAGS }), [[2, gate64(0x08n, HANDLER, { ist: 1 })]]);
    const after = delivered(deliverEvent(state, 0, event(2, { type: 2 })));
    expect(cpuOf(after, 0).guest?.rsp).toBe(IST_STACK + 0x800n - 0x28n);
    expect(peek64(after, IST_STACK + 0x800n - 0x28n)).toBe(RIP);
    // An NMI leaves NMIs blocked: bit 3 of the interruptibility state (§27.6.1.1).
    expect(cpuOf(after, 0).guest?.interruptibility).toBe(8n);
  });

  it('a trap gate keeps RFLAGS.IF', () => {
    const state = memory(guest64(3, { rflags: RFLAGS }), [[6, gate64(0x08n, HANDLER, { type: 0xf })]]);
    const after = delivered(deliverEvent(state, 0, event(6)));
    expect((cpuOf(after, 0).guest?.rflags ?? 0n) & 0x200n).toBe(0x200n);
  });

  it('a conforming handler segment keeps the CPL: no stack switch at CPL 3', () => {
    const state = memory(guest64(3, { rflags: RFLAGS }), [[6, gate64(0x40n, HANDLER)]]);
    const after = delivered(deliverEvent(state, 0, event(6)));
    expect(cpuOf(after, 0).cpl).toBe(3);
    expect(cpuOf(after, 0).guest?.rsp).toBe(USER_STACK + 0xff0n - 0x28n);
  });
});

describe('§6.12.1.1 software interrupts and the gate DPL; faults during delivery are not modelled', () => {
  it('a software interrupt (type 4) at CPL 3 through a gate with DPL 0 raises #GP: not modelled; with DPL 3 it is delivered', () => {
    const state = memory(guest64(3, { rflags: RFLAGS }), [[0x80, gate64(0x08n, HANDLER)], [0x81, gate64(0x08n, HANDLER, { dpl: 3 })]]);
    stopped(deliverEvent(state, 0, event(0x80, { type: 4 })), 'event-delivery.nested-gp');
    stopped(deliverEvent(state, 0, event(0x80, { type: 6 })), 'event-delivery.nested-gp');
    delivered(deliverEvent(state, 0, event(0x81, { type: 4 })));
  });

  it('a privileged software exception (type 5) and a hardware exception skip the DPL check', () => {
    const state = memory(guest64(3, { rflags: RFLAGS }), [[1, gate64(0x08n, HANDLER)]]);
    delivered(deliverEvent(state, 0, event(1, { type: 5 })));
    delivered(deliverEvent(state, 0, event(1, { type: 3 })));
  });

  it('a gate that is not present raises #NP; a vector beyond the IDT limit or a gate of another type, #GP', () => {
    const state = memory(guest64(0, { rflags: RFLAGS, idtLimit: 0xffn }), [[3, gate64(0x08n, HANDLER, { present: false })], [4, gate64(0x08n, HANDLER, { type: 0x5 })]]);
    stopped(deliverEvent(state, 0, event(3)), 'event-delivery.nested-np');
    stopped(deliverEvent(state, 0, event(4)), 'event-delivery.nested-gp');
    stopped(deliverEvent(state, 0, event(16)), 'event-delivery.nested-gp');
  });

  it('handler code segments: null, beyond the GDT limit, a data segment, not 64-bit (#GP); the LDT is not followed; a non-canonical offset is #GP', () => {
    const gates = [[1, gate64(0x00n, HANDLER)], [2, gate64(0x200n, HANDLER)], [3, gate64(0x10n, HANDLER)], [4, gate64(0x20n, HANDLER)], [5, gate64(0x0cn, HANDLER)], [6, gate64(0x08n, 0x0000_8000_0000_0000n)]] as const;
    const state = memory(guest64(0, { rflags: RFLAGS }), gates);
    for (const vector of [1, 2, 3, 4, 6]) stopped(deliverEvent(state, 0, event(vector)), 'event-delivery.nested-gp');
    stopped(deliverEvent(state, 0, event(5)), 'event-delivery.ldt-selector');
  });

  it('a TSS too short for RSP0 is #TS; a stack page not present is #PF: not modelled', () => {
    const short = memory(guest64(3, { rflags: RFLAGS, tr: segment(0x18n, TSS, 0x8n, AR.BUSY_TSS64) }), [[13, gate64(0x08n, HANDLER)]]);
    stopped(deliverEvent(short, 0, event(13, { errorCode: 0n })), 'event-delivery.nested-ss-ts');
    const noStack = memory(guest64(0, { rflags: RFLAGS }), [[13, gate64(0x08n, HANDLER)]], false);
    stopped(deliverEvent(noStack, 0, event(13, { errorCode: 0n })), 'event-delivery.nested-pf');
  });

  it('a push at CPL 3 (a conforming handler) to a supervisor page faults; CR4.LA57, CR4.CET and a guest with unknown registers are not followed', () => {
    const supervisorStack = memory(guest64(3, { rflags: RFLAGS, rsp: KERNEL_STACK + 0x800n }), [[6, gate64(0x40n, HANDLER)]]);
    stopped(deliverEvent(supervisorStack, 0, event(6)), 'event-delivery.nested-pf');
    const la57 = memory(guest64(0, { rflags: RFLAGS, cr4: CR4_PAE | (1n << 12n) }), [[6, gate64(0x08n, HANDLER)]]);
    stopped(deliverEvent(la57, 0, event(6)), 'event-delivery.five-level-paging');
    const cet = memory(guest64(0, { rflags: RFLAGS, cr4: CR4_PAE | (1n << 23n) }), [[6, gate64(0x08n, HANDLER)]]);
    stopped(deliverEvent(cet, 0, event(6)), 'event-delivery.feature-not-modelled');
    const unknown = memory(guest64(0, { rflags: RFLAGS, rsp: undefined as unknown as bigint }), [[6, gate64(0x08n, HANDLER)]]);
    stopped(deliverEvent(unknown, 0, event(6)), 'event-delivery.state-unknown');
  });
});
