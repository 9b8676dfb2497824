/**
 * What a delivery is given and what it produces, shared by the three IDT formats (idt-64.ts,
 * idt-protected.ts, idt-real.ts) and their entry point (deliver.ts).
 */
import type { SegmentRegister } from '../state.ts';

/** The interruption types of SDM Vol. 3C, December 2023, §25.8.3 "VM-Entry Controls for Event Injection" (type 7 is never delivered through the IDT). */
export const INTERRUPTION_TYPE = {
  EXTERNAL_INTERRUPT: 0,
  NMI: 2,
  HARDWARE_EXCEPTION: 3,
  SOFTWARE_INTERRUPT: 4,
  PRIVILEGED_SOFTWARE_EXCEPTION: 5,
  SOFTWARE_EXCEPTION: 6,
} as const;

/** One event to deliver through the guest IDT. */
export interface DeliveryEvent {
  readonly vector: number;
  /** Interruption type 0-6 ({@link INTERRUPTION_TYPE}). */
  readonly type: number;
  /** The error code pushed, when the event pushes one. */
  readonly errorCode?: bigint;
  /** The RIP pushed (the current RIP, or for types 4-6 RIP + the instruction length). */
  readonly pushedRip: bigint;
  /** The RFLAGS image pushed (RF as the caller determined it). */
  readonly pushedRflags: bigint;
}

/**
 * A software interrupt (type 4) or software exception (type 6, INT3/INTO) checks the gate's DPL
 * against the CPL as INT n, INT3 and INTO do; a privileged software exception (type 5) does not
 * (§27.6.1.1 "Details of Vectored-Event Injection"), nor do the other types.
 */
export function checksGateDpl(event: DeliveryEvent): boolean {
  return event.type === INTERRUPTION_TYPE.SOFTWARE_INTERRUPT || event.type === INTERRUPTION_TYPE.SOFTWARE_EXCEPTION;
}

/** The guest's registers at the handler's first instruction. */
export interface HandlerState {
  readonly cs: SegmentRegister;
  readonly rip: bigint;
  readonly cpl: number;
  readonly csL: number;
  /** SS after a stack switch (unchanged otherwise). */
  readonly ss?: SegmentRegister;
  readonly rsp: bigint;
  readonly rflags: bigint;
}
