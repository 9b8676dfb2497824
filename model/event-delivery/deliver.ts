/**
 * Delivery of one event through the guest IDT in VMX non-root operation: the entry point for an
 * event injected by VM entry (SDM Vol. 3C, December 2023, §27.6.1.1 "Details of Vectored-Event
 * Injection"), an exception a guest instruction raises that the exception bitmap does not turn
 * into a VM exit (§26.2 "Other Causes of VM Exits"), and a debug exception pending after VM entry
 * (§27.7.3 "Delivery of Pending Debug Exceptions after VM Entry").
 *
 * The IDT format follows the guest's mode (Vol. 3A §6.10 "Interrupt Descriptor Table (IDT)"):
 * IA-32e mode (idt-64.ts), protected mode (idt-protected.ts), real-address mode (idt-real.ts,
 * reached with "unrestricted guest"); virtual-8086 mode is not followed. Every access goes
 * through the guest's paging and EPT (translate.ts, ept.ts), setting accessed and dirty flags.
 *
 * After delivery (§6.12 "Exception and Interrupt Handling"; §27.7.1 "Interruptibility State"):
 * the processor is at the handler's first instruction, with the CS, RIP, SS, RSP, RFLAGS and CPL
 * delivery produced; RFLAGS.VM is 0; there is no blocking by STI or by MOV SS (a vectoring VM
 * entry leaves none, and incurring an exception ends both); after an NMI, NMIs are blocked
 * (virtual-NMI blocking with "virtual NMIs" = 1), which the interruptibility state records in
 * bit 3 (§27.6.1.1); the processor is active (a vectoring VM entry ends in the active state,
 * §27.7.2 "Activity State"). The arithmetic flags are those before delivery (no delivery step
 * changes them).
 */
import { RFLAGS_BIT } from '../../spec/event-delivery-formats.ts';
import { ARITHMETIC_FLAGS_MASK } from '../../spec/observations.ts';
import { inIa32eMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import type { Rule } from '../rule.ts';
import type { CpuState, ModelState } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import type { DeliveryState } from './ept.ts';
import { INTERRUPTION_TYPE } from './event.ts';
import type { DeliveryEvent, HandlerState } from './event.ts';
import { deliverIa32e } from './idt-64.ts';
import { deliverProtected } from './idt-protected.ts';
import { deliverReal } from './idt-real.ts';
import { EVENT_DELIVERY_RULES as R, isStop } from './rules.ts';

/** The outcome of a delivery: the state at the handler, or the rule at which the model stops. */
export type DeliveryOutcome = { kind: 'delivered'; state: ModelState; rule: Rule } | { kind: 'stopped'; rule: Rule };

/** Interruptibility state: blocking by STI (bit 0) and MOV SS (bit 1); blocking by NMI (bit 3). */
const STI_AND_MOV_SS = 3n;
const BLOCKING_BY_NMI = 8n;

/**
 * RFLAGS of processor `cpu` as it is now (the loaded value with the current arithmetic flags
 * and VM bit), or `undefined` when the model does not know it.
 */
export function currentRflags(cpu: CpuState): bigint | undefined {
  const loaded = cpu.guest?.rflags;
  if (loaded === undefined) return undefined;
  const kept = loaded & ~(BigInt(ARITHMETIC_FLAGS_MASK) | RFLAGS_BIT.VM);
  return kept | BigInt(cpu.flags) | (cpu.rflagsVm === 1 ? RFLAGS_BIT.VM : 0n);
}

/** The state after delivering `event` through the guest IDT of processor `cpu`, or where the model stops. */
export function deliverEvent(state: ModelState, cpu: number, event: DeliveryEvent): DeliveryOutcome {
  const processor = cpuOf(state, cpu);
  if (inVirtual8086Mode(processor)) return { kind: 'stopped', rule: R.virtual8086 };
  const d: DeliveryState = { state, cpu };
  const [handler, rule] = inIa32eMode(processor)
    ? [deliverIa32e(d, event), R.ia32e]
    : inRealAddressMode(processor)
      ? [deliverReal(d, event), R.realAddress]
      : [deliverProtected(d, event), R.protectedMode];
  if (isStop(handler)) return { kind: 'stopped', rule: handler.stop };
  return { kind: 'delivered', state: atHandler(d.state, cpu, handler, event), rule };
}

/** `state` with processor `cpu` at the handler (see the file comment). */
function atHandler(state: ModelState, cpu: number, handler: HandlerState, event: DeliveryEvent): ModelState {
  const processor = cpuOf(state, cpu);
  const guest = processor.guest;
  if (guest === undefined) throw new Error('model bug: event delivery outside VMX non-root operation');
  const segments = { ...guest.segments, CS: handler.cs, ...(handler.ss === undefined ? {} : { SS: handler.ss }) };
  const nmi = event.type === INTERRUPTION_TYPE.NMI ? BLOCKING_BY_NMI : 0n;
  const interruptibility = guest.interruptibility === undefined ? undefined : (guest.interruptibility & ~STI_AND_MOV_SS) | nmi;
  return withCpu(state, cpu, {
    rip: handler.rip,
    cpl: handler.cpl,
    csL: handler.csL,
    rflagsVm: 0,
    movSsBlocking: 0,
    activity: 'active',
    guest: { ...guest, segments, rsp: handler.rsp, rflags: handler.rflags, interruptibility },
  });
}
