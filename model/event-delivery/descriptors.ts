/**
 * Segment descriptors delivery loads from the GDT: the handler's code segment (IA-32e and
 * protected mode) and the new stack segment (protected mode), with the checks the INT n
 * pseudo-code applies to them (SDM Vol. 2A, December 2023, "INT n/INTO/INT3/INT1—Call to
 * Interrupt Procedure", Operation and Protected Mode Exceptions; Vol. 3A §6.12.1.1 "Protection of
 * Exception- and Interrupt-Handler Procedures"), and the accessed bit the processor sets in a
 * descriptor it loads (Vol. 3A §3.4.5 "Segment Descriptors": the processor sets the accessed bit
 * when it loads the selector into a segment register, if it was clear).
 *
 * Order of the code-segment checks, each a nested exception (not modelled): null selector
 * (#GP); index beyond the GDT limit (#GP); not a code segment, or DPL > CPL (#GP); not present
 * (#NP); in IA-32e mode, not a 64-bit code segment (L = 1, D = 0) (#GP). A selector with TI = 1
 * (the LDT) is not followed.
 */
import { DESCRIPTOR_HIGH } from '../../spec/event-delivery-formats.ts';
import { SEGMENT_SELECTOR } from '../../spec/registers.ts';
import type { SegmentRegister } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { DeliveryState } from './ept.ts';
import { EVENT_DELIVERY_RULES as R, isStop, stopAt } from './rules.ts';
import type { Stop } from './rules.ts';
import { readLinear, writeLinear } from './translate.ts';

/** A descriptor read from the GDT: its selector, linear address and two doublewords. */
export interface Descriptor {
  readonly selector: bigint;
  readonly address: bigint;
  readonly low: bigint;
  readonly high: bigint;
}

const SUPERVISOR_READ = { write: false, user: false } as const;
const SUPERVISOR_WRITE = { write: true, user: false } as const;

/** The GDT descriptor `selector` names (null: `nullRule`), or a stop. */
export function readDescriptor(d: DeliveryState, selector: bigint, wrap: bigint, nullRule = R.nestedGp): Descriptor | Stop {
  if ((selector & ~(SEGMENT_SELECTOR.RPL | SEGMENT_SELECTOR.TI)) === 0n && (selector & SEGMENT_SELECTOR.TI) === 0n) return stopAt(nullRule);
  if ((selector & SEGMENT_SELECTOR.TI) !== 0n) return stopAt(R.ldt);
  const gdtr = cpuOf(d.state, d.cpu).guest?.gdtr;
  if (gdtr?.base === undefined || gdtr.limit === undefined) return stopAt(R.stateUnknown);
  const offset = selector & ~7n;
  if (offset + 7n > gdtr.limit) return stopAt(R.nestedGp);
  const address = (gdtr.base + offset) & wrap;
  const value = readLinear(d, address, 8, SUPERVISOR_READ, wrap);
  if (isStop(value)) return value;
  return { selector, address, low: value & 0xffff_ffffn, high: value >> 32n };
}

/** A bit of the descriptor's second doubleword. */
export function has(descriptor: Descriptor, bit: number): boolean {
  return (descriptor.high & BigInt(bit)) !== 0n;
}

/** The descriptor's DPL. */
export function dplOf(descriptor: Descriptor): number {
  return Number((descriptor.high >> BigInt(DESCRIPTOR_HIGH.DPL_SHIFT)) & 3n);
}

/** The handler code segment `selector` names, checked for a delivery at `cpl` (see the file comment). */
export function handlerCodeSegment(d: DeliveryState, selector: bigint, cpl: number, ia32e: boolean, wrap: bigint): Descriptor | Stop {
  const descriptor = readDescriptor(d, selector, wrap);
  if (isStop(descriptor)) return descriptor;
  if (!has(descriptor, DESCRIPTOR_HIGH.S) || !has(descriptor, DESCRIPTOR_HIGH.CODE) || dplOf(descriptor) > cpl) return stopAt(R.nestedGp);
  if (!has(descriptor, DESCRIPTOR_HIGH.P)) return stopAt(R.nestedNp);
  if (ia32e && (!has(descriptor, DESCRIPTOR_HIGH.L) || has(descriptor, DESCRIPTOR_HIGH.DB))) return stopAt(R.nestedGp);
  return descriptor;
}

/** The CPL after delivery through code segment `descriptor`: unchanged for a conforming segment, its DPL otherwise. */
export function newCpl(descriptor: Descriptor, cpl: number): number {
  return has(descriptor, DESCRIPTOR_HIGH.EXPAND_DOWN_OR_CONFORMING) ? cpl : dplOf(descriptor);
}

/** The segment register loaded from `descriptor` with `selector` (accessed bit set, §3.4.5). */
export function loaded(descriptor: Descriptor, selector: bigint): SegmentRegister {
  const high = descriptor.high | BigInt(DESCRIPTOR_HIGH.ACCESSED);
  const base = ((descriptor.low >> 16n) & 0xffffn) | ((high & 0xffn) << 16n) | (((high >> 24n) & 0xffn) << 24n);
  const rawLimit = (descriptor.low & 0xffffn) | (high & 0xf_0000n);
  const limit = (high & BigInt(DESCRIPTOR_HIGH.G)) !== 0n ? (rawLimit << 12n) | 0xfffn : rawLimit;
  return { selector, base, limit, accessRights: (high >> 8n) & 0xf0ffn };
}

/** The accessed bit of `descriptor` set in the GDT when clear (a supervisor-mode write), or a stop. */
export function markAccessed(d: DeliveryState, descriptor: Descriptor, wrap: bigint): Stop | undefined {
  if (has(descriptor, DESCRIPTOR_HIGH.ACCESSED)) return undefined;
  const typeByte = ((descriptor.high >> 8n) & 0xffn) | 1n;
  return writeLinear(d, (descriptor.address + 5n) & wrap, 1, typeByte, SUPERVISOR_WRITE, wrap);
}
