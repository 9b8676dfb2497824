/**
 * Delivery through the IDT in IA-32e mode, 64-bit and compatibility mode alike (SDM Vol. 3A,
 * December 2023, §6.14 "Exception and Interrupt Handling in 64-bit Mode"), in the order the
 * processor works:
 *
 * 1. §6.14.1 "64-Bit Mode IDT": the gate is the 16 bytes at IDTR.base + 16 × vector; beyond the
 *    IDT limit (16 × vector + 15 > limit) is #GP. Only 64-bit interrupt gates (type 0EH) and trap
 *    gates (0FH) exist; any other type (16-bit gates, task gates included) is #GP.
 * 2. A software interrupt or software exception (injected type 4 or 6, §27.6.1.1) through a gate
 *    whose DPL is below the CPL is #GP (§6.12.1.1 "Protection of Exception- and Interrupt-Handler
 *    Procedures"); a gate not present is #NP.
 * 3. The handler's code segment (descriptors.ts) must be a present 64-bit code segment with DPL ≤
 *    CPL; the handler's offset (bytes 0-1, 6-7 and 8-11 of the gate) must be canonical (#GP).
 * 4. §6.14.4 "Stack Switching in IA-32e Mode", §6.14.5 "Interrupt Stack Table": with a non-zero
 *    IST field the new RSP is IST[n] of the 64-bit TSS (offset 36 + 8 × (n − 1)), always; else on a
 *    privilege change (new CPL below the CPL) RSPn of the new CPL (offset 4 + 8 × n); else the
 *    stack is not switched. A TSS read beyond TR.limit is #TS, a non-canonical new RSP #SS. On a
 *    privilege change SS is loaded with a null selector whose RPL is the new CPL (unusable, DPL =
 *    new CPL, the model's reading of a null SS in the VMCS access-rights format, §25.4.1).
 * 5. §6.14.2 "64-Bit Mode Stack Frame": RSP is aligned down to 16 bytes, then SS, RSP, RFLAGS,
 *    CS, RIP and the error code (if any) are pushed as 8-byte values, whatever the CPL change; a
 *    push is a user-mode access when the new CPL is 3; a non-canonical stack address is #SS.
 * 6. §6.12.1.3 "Flag Usage By Exception- or Interrupt-Handler Procedure": after the push TF, NT,
 *    RF and VM are cleared, and IF too through an interrupt gate (a trap gate keeps it).
 * 7. CS:RIP is the handler, with CS's RPL the new CPL; the CPL is the new CPL.
 */
import { DESCRIPTOR_HIGH, GATE, RFLAGS_BIT, SYSTEM_DESCRIPTOR_TYPE, TSS_64 } from '../../spec/event-delivery-formats.ts';
import { ACCESS_RIGHTS_UNUSABLE } from '../../spec/event-delivery-formats.ts';
import { cpuOf } from '../state.ts';
import { handlerCodeSegment, has, loaded, markAccessed, newCpl } from './descriptors.ts';
import type { DeliveryState } from './ept.ts';
import { checksGateDpl } from './event.ts';
import type { DeliveryEvent, HandlerState } from './event.ts';
import { EVENT_DELIVERY_RULES as R, isStop, stopAt } from './rules.ts';
import type { Stop } from './rules.ts';
import { readLinear, writeLinear } from './translate.ts';

const ALL64 = 0xffff_ffff_ffff_ffffn;
const SUPERVISOR_READ = { write: false, user: false } as const;

/** True when `address` is canonical with 48-bit linear addresses (CR4.LA57 = 0). */
function canonical(address: bigint): boolean {
  const top = address >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

/** The handler state after delivering `event` in IA-32e mode (memory written in `d`), or a stop. */
export function deliverIa32e(d: DeliveryState, event: DeliveryEvent): HandlerState | Stop {
  const cpu = cpuOf(d.state, d.cpu);
  const guest = cpu.guest;
  const idtr = guest?.idtr;
  const cs = guest?.segments.CS;
  const ss = guest?.segments.SS;
  const rsp = guest?.rsp;
  if (idtr?.base === undefined || idtr.limit === undefined || cs?.selector === undefined || ss?.selector === undefined || rsp === undefined) return stopAt(R.stateUnknown);

  const offset = BigInt(event.vector) * GATE.SIZE_IA32E;
  if (offset + 15n > idtr.limit) return stopAt(R.nestedGp);
  const gate = readLinear(d, (idtr.base + offset) & ALL64, 16, SUPERVISOR_READ, ALL64);
  if (isStop(gate)) return gate;
  const low = gate & 0xffff_ffffn;
  const high = (gate >> 32n) & 0xffff_ffffn;
  const type = Number((high >> 8n) & 0x1fn);
  if (type !== SYSTEM_DESCRIPTOR_TYPE.INTERRUPT_GATE && type !== SYSTEM_DESCRIPTOR_TYPE.TRAP_GATE) return stopAt(R.nestedGp);
  if (checksGateDpl(event) && Number((high >> 13n) & 3n) < cpu.cpl) return stopAt(R.nestedGp);
  if ((high & BigInt(DESCRIPTOR_HIGH.P)) === 0n) return stopAt(R.nestedNp);

  const selector = (low >> 16n) & 0xffffn;
  const code = handlerCodeSegment(d, selector, cpu.cpl, true, ALL64);
  if (isStop(code)) return code;
  const target = (low & 0xffffn) | (high & 0xffff_0000n) | (((gate >> 64n) & 0xffff_ffffn) << 32n);
  if (!canonical(target)) return stopAt(R.nestedGp);

  const cpl = newCpl(code, cpu.cpl);
  const ist = Number(high & BigInt(GATE.IST_MASK));
  const switched = cpl < cpu.cpl;
  let stack = rsp;
  if (ist !== 0 || switched) {
    const fromTss = tssStackPointer(d, ist !== 0 ? TSS_64.IST1 + 8n * BigInt(ist - 1) : TSS_64.RSP0 + 8n * BigInt(cpl));
    if (isStop(fromTss)) return fromTss;
    stack = fromTss;
  }
  stack &= ~0xfn;

  const frame = [ss.selector, rsp, event.pushedRflags, cs.selector, event.pushedRip];
  if (event.errorCode !== undefined) frame.push(event.errorCode);
  const push = { write: true, user: cpl === 3 };
  for (const value of frame) {
    stack = (stack - 8n) & ALL64;
    if (!canonical(stack)) return stopAt(R.nestedStack);
    const stored = writeLinear(d, stack, 8, value, push, ALL64);
    if (stored !== undefined) return stored;
  }
  const accessed = markAccessed(d, code, ALL64);
  if (accessed !== undefined) return accessed;

  const interruptGate = type === SYSTEM_DESCRIPTOR_TYPE.INTERRUPT_GATE;
  const cleared = RFLAGS_BIT.TF | RFLAGS_BIT.NT | RFLAGS_BIT.RF | RFLAGS_BIT.VM | (interruptGate ? RFLAGS_BIT.IF : 0n);
  const newSs = switched ? { selector: BigInt(cpl), base: 0n, limit: 0n, accessRights: ACCESS_RIGHTS_UNUSABLE | (BigInt(cpl) << 5n) } : undefined;
  return {
    cs: loaded(code, (selector & ~3n) | BigInt(cpl)),
    rip: target,
    cpl,
    csL: has(code, DESCRIPTOR_HIGH.L) ? 1 : 0,
    ...(newSs === undefined ? {} : { ss: newSs }),
    rsp: stack,
    rflags: event.pushedRflags & ~cleared,
  };
}

/** The 8-byte stack pointer at `offset` in the 64-bit TSS, or a stop (#TS beyond TR.limit, #SS non-canonical). */
function tssStackPointer(d: DeliveryState, offset: bigint): bigint | Stop {
  const tr = cpuOf(d.state, d.cpu).guest?.segments.TR;
  if (tr?.base === undefined || tr.limit === undefined) return stopAt(R.stateUnknown);
  if (offset + 7n > tr.limit) return stopAt(R.nestedStack);
  const value = readLinear(d, (tr.base + offset) & ALL64, 8, SUPERVISOR_READ, ALL64);
  if (isStop(value)) return value;
  return canonical(value) ? value : stopAt(R.nestedStack);
}
