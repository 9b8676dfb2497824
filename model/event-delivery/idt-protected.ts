/**
 * Delivery through the IDT in protected mode (SDM Vol. 3A, December 2023, §6.11 "IDT
 * Descriptors", §6.12.1 "Exception- or Interrupt-Handler Procedures"; Vol. 2A "INT n/INTO/INT3/
 * INT1—Call to Interrupt Procedure", Operation, PROTECTED-MODE, INTER-PRIVILEGE-LEVEL-INTERRUPT
 * and INTRA-PRIVILEGE-LEVEL-INTERRUPT), in the order the processor works:
 *
 * 1. The gate is the 8 bytes at IDTR.base + 8 × vector; beyond the limit is #GP. A task gate is
 *    not followed (task switch), nor are 16-bit interrupt and trap gates; a type other than a
 *    32-bit interrupt (0EH) or trap gate (0FH) is #GP. A software interrupt or exception (types
 *    4, 6) with gate DPL < CPL is #GP; a gate not present #NP.
 * 2. The handler's code segment (descriptors.ts: present code segment, DPL ≤ CPL).
 * 3. A non-conforming segment with DPL < CPL switches stacks (§6.12.1.2 "Stack Switching"): SSn
 *    and ESPn of the new CPL from the 32-bit TSS (ESPn at 4 + 8 × n, SSn at 8 + 8 × n; beyond
 *    TR.limit is #TS); SSn must be a non-null selector with RPL = new CPL naming a present,
 *    writable data segment with DPL = new CPL (#TS, #SS when not present). A 16-bit TSS and an
 *    expand-down stack segment are not followed. SS, ESP, EFLAGS, CS, EIP and the error code are
 *    pushed on the new stack; otherwise EFLAGS, CS, EIP and the error code on the current one.
 * 4. The handler's EIP must be within the new CS limit (#GP).
 * 5. Pushes are 4 bytes (a 32-bit gate); segment selectors are pushed zero-extended (the SDM
 *    leaves a 16-bit store of a selector push open for PUSH; the model reads delivery's pushes as
 *    full 4-byte stores, as Bochs does). The stack offset is ESP with a 32-bit stack segment
 *    (D/B = 1), SP with a 16-bit one (wrapping at 64 KBytes); a push beyond the limit is #SS.
 *    Bits of RSP above the stack width are kept (writes of ESP or SP in legacy mode).
 * 6. TF, NT, RF and VM are cleared, IF too through an interrupt gate; CS is the handler's with
 *    RPL = new CPL; the CPL is the new CPL; loaded descriptors are marked accessed (§3.4.5).
 */
import { DESCRIPTOR_HIGH, GATE, RFLAGS_BIT, SYSTEM_DESCRIPTOR_TYPE, TSS_32 } from '../../spec/event-delivery-formats.ts';
import type { SegmentRegister } from '../state.ts';
import { cpuOf } from '../state.ts';
import { dplOf, handlerCodeSegment, has, loaded, markAccessed, newCpl, readDescriptor } from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import type { DeliveryState } from './ept.ts';
import { checksGateDpl } from './event.ts';
import type { DeliveryEvent, HandlerState } from './event.ts';
import { EVENT_DELIVERY_RULES as R, isStop, stopAt } from './rules.ts';
import type { Stop } from './rules.ts';
import { readLinear, writeLinear } from './translate.ts';

const LOW32 = 0xffff_ffffn;
const SUPERVISOR_READ = { write: false, user: false } as const;
/** VMCS access rights: bit 2 of the type (expand-down for data), bit 14 D/B. */
const AR_EXPAND_DOWN = 1n << 2n;
const AR_DB = 1n << 14n;

/** The stack delivery pushes on: its segment, the offset to push below, and the width of the offset. */
interface Stack {
  readonly segment: SegmentRegister;
  readonly offset: bigint;
  readonly mask: bigint;
  readonly descriptor?: Descriptor;
}

/** The handler state after delivering `event` in protected mode (memory written in `d`), or a stop. */
export function deliverProtected(d: DeliveryState, event: DeliveryEvent): HandlerState | Stop {
  const cpu = cpuOf(d.state, d.cpu);
  const guest = cpu.guest;
  const idtr = guest?.idtr;
  const cs = guest?.segments.CS;
  const ss = guest?.segments.SS;
  const rsp = guest?.rsp;
  if (idtr?.base === undefined || idtr.limit === undefined || cs?.selector === undefined || ss?.accessRights === undefined || ss.base === undefined || ss.limit === undefined || ss.selector === undefined || rsp === undefined) {
    return stopAt(R.stateUnknown);
  }

  const offset = BigInt(event.vector) * GATE.SIZE_PROTECTED;
  if (offset + 7n > idtr.limit) return stopAt(R.nestedGp);
  const gate = readLinear(d, (idtr.base + offset) & LOW32, 8, SUPERVISOR_READ, LOW32);
  if (isStop(gate)) return gate;
  const low = gate & LOW32;
  const high = gate >> 32n;
  const type = Number((high >> 8n) & 0x1fn);
  if (type === SYSTEM_DESCRIPTOR_TYPE.TASK_GATE) return stopAt(R.taskGate);
  if (type === SYSTEM_DESCRIPTOR_TYPE.INTERRUPT_GATE_16 || type === SYSTEM_DESCRIPTOR_TYPE.TRAP_GATE_16) return stopAt(R.gate16);
  if (type !== SYSTEM_DESCRIPTOR_TYPE.INTERRUPT_GATE && type !== SYSTEM_DESCRIPTOR_TYPE.TRAP_GATE) return stopAt(R.nestedGp);
  if (checksGateDpl(event) && Number((high >> 13n) & 3n) < cpu.cpl) return stopAt(R.nestedGp);
  if ((high & BigInt(DESCRIPTOR_HIGH.P)) === 0n) return stopAt(R.nestedNp);

  const selector = (low >> 16n) & 0xffffn;
  const code = handlerCodeSegment(d, selector, cpu.cpl, false, LOW32);
  if (isStop(code)) return code;
  const cpl = newCpl(code, cpu.cpl);
  const switched = cpl < cpu.cpl;
  const stack = switched ? newStack(d, cpl) : currentStack(ss, rsp);
  if (isStop(stack)) return stack;
  const handlerCs = loaded(code, (selector & ~3n) | BigInt(cpl));
  const target = (low & 0xffffn) | (high & 0xffff_0000n);
  if (target > (handlerCs.limit ?? 0n)) return stopAt(R.nestedGp);

  const frame = switched ? [ss.selector, rsp & LOW32] : [];
  frame.push(event.pushedRflags & LOW32, cs.selector, event.pushedRip & LOW32);
  if (event.errorCode !== undefined) frame.push(event.errorCode & LOW32);
  const push = { write: true, user: cpl === 3 };
  let top = stack.offset;
  for (const value of frame) {
    top = (top - 4n) & stack.mask;
    if (top + 3n > (stack.segment.limit ?? 0n)) return stopAt(R.nestedStack);
    const stored = writeLinear(d, ((stack.segment.base ?? 0n) + top) & LOW32, 4, value, push, LOW32);
    if (stored !== undefined) return stored;
  }
  for (const descriptor of [stack.descriptor, code]) {
    if (descriptor === undefined) continue;
    const accessed = markAccessed(d, descriptor, LOW32);
    if (accessed !== undefined) return accessed;
  }

  const interruptGate = (type & 0xf) === SYSTEM_DESCRIPTOR_TYPE.INTERRUPT_GATE;
  const cleared = RFLAGS_BIT.TF | RFLAGS_BIT.NT | RFLAGS_BIT.RF | RFLAGS_BIT.VM | (interruptGate ? RFLAGS_BIT.IF : 0n);
  const base = switched ? 0n : rsp;
  return {
    cs: handlerCs,
    rip: target,
    cpl,
    csL: 0,
    ...(switched ? { ss: stack.segment } : {}),
    rsp: (base & ~stack.mask) | top,
    rflags: event.pushedRflags & ~cleared,
  };
}

/** The current stack: SS as loaded, offset ESP or SP. */
function currentStack(ss: SegmentRegister, rsp: bigint): Stack | Stop {
  const rights = ss.accessRights ?? 0n;
  if ((rights & AR_EXPAND_DOWN) !== 0n) return stopAt(R.feature);
  const mask = (rights & AR_DB) !== 0n ? LOW32 : 0xffffn;
  return { segment: ss, offset: rsp & mask, mask };
}

/** §6.12.1.2: the stack of `cpl` from the 32-bit TSS, its segment checked, or a stop. */
function newStack(d: DeliveryState, cpl: number): Stack | Stop {
  const tr = cpuOf(d.state, d.cpu).guest?.segments.TR;
  if (tr?.base === undefined || tr.limit === undefined || tr.accessRights === undefined) return stopAt(R.stateUnknown);
  if (Number(tr.accessRights & 0xfn) !== SYSTEM_DESCRIPTOR_TYPE.TSS_BUSY) return stopAt(R.feature);
  const at = TSS_32.ESP0 + 8n * BigInt(cpl);
  if (at + 5n > tr.limit) return stopAt(R.nestedStack);
  const esp = readLinear(d, (tr.base + at) & LOW32, 4, SUPERVISOR_READ, LOW32);
  if (isStop(esp)) return esp;
  const selector = readLinear(d, (tr.base + TSS_32.SS0 + 8n * BigInt(cpl)) & LOW32, 2, SUPERVISOR_READ, LOW32);
  if (isStop(selector)) return selector;
  if ((selector & 3n) !== BigInt(cpl)) return stopAt(R.nestedStack);
  const descriptor = readDescriptor(d, selector, LOW32, R.nestedStack);
  if (isStop(descriptor)) return descriptor.stop === R.nestedGp ? stopAt(R.nestedStack) : descriptor;
  const writableData = has(descriptor, DESCRIPTOR_HIGH.S) && !has(descriptor, DESCRIPTOR_HIGH.CODE) && has(descriptor, DESCRIPTOR_HIGH.WRITABLE);
  if (!writableData || dplOf(descriptor) !== cpl || !has(descriptor, DESCRIPTOR_HIGH.P)) return stopAt(R.nestedStack);
  if (has(descriptor, DESCRIPTOR_HIGH.EXPAND_DOWN_OR_CONFORMING)) return stopAt(R.feature);
  const segment = loaded(descriptor, selector);
  const mask = has(descriptor, DESCRIPTOR_HIGH.DB) ? LOW32 : 0xffffn;
  return { segment, offset: esp & mask, mask, descriptor };
}
