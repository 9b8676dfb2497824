/**
 * An exception raised in VMX non-root operation that the exception bitmap does not turn into a VM
 * exit, as delivery sees it: a hardware exception (interruption type 3) with the RIP and RFLAGS
 * the processor pushes for its class (SDM Vol. 3A, December 2023, §6.5 "Exception
 * Classifications"; Vol. 3B §18.3.1.1 "Instruction-Breakpoint Exception Condition", the RF rules):
 *
 * - a fault pushes the RIP of the faulting instruction (the processor's RIP, not advanced) and
 *   RFLAGS with RF = 1 ("for any fault-class exception except a debug exception generated in
 *   response to an instruction breakpoint, the value pushed for RF is 1");
 * - a debug exception pending after VM entry has the priority of a trap on the previous
 *   instruction (Vol. 3C §27.7.3): it pushes the RIP loaded by VM entry (the next instruction's)
 *   and RFLAGS with RF as it is;
 * - a #DB with BD set (general detect, MOV DR with DR7.GD = 1) is a fault;
 * - where the `exception` operation does not say the class or the next RIP, the model stops
 *   (`event-delivery.return-address-unknown`): #BP and #OF are traps of INT3 and INTO, whose next
 *   RIP needs an instruction length the operation does not give; #DB may be a fault or a trap;
 *   #DF and #MC are aborts (the pushed CS:RIP may not point at the faulting instruction).
 *
 * The error code is pushed for the vectors that have one (spec/exceptions.ts). CR2 (for #PF) and
 * DR6 (for #DB) are not tracked by the model.
 */
import { DEBUG_QUALIFICATION } from '../../spec/exit-qualification.ts';
import { fieldMask } from '../../spec/bit-fields.ts';
import { RFLAGS_BIT } from '../../spec/event-delivery-formats.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import { currentRflags, deliverEvent } from './deliver.ts';
import type { DeliveryOutcome } from './deliver.ts';
import { INTERRUPTION_TYPE } from './event.ts';
import { EVENT_DELIVERY_RULES as R } from './rules.ts';

const DEBUG = 1;
const BREAKPOINT = 3;
const OVERFLOW = 4;
const DOUBLE_FAULT = 8;
const MACHINE_CHECK = 18;

/** One exception to deliver in the guest. */
export interface GuestException {
  readonly vector: number;
  readonly errorCode?: bigint;
  /** The exit qualification of a #DB whose cause is known (BD for general detect). */
  readonly debugQualification?: bigint;
  /** A debug exception pending after VM entry: a trap on the previous instruction. */
  readonly pendingAfterEntry?: boolean;
}

/** The state after delivering `exception` through the guest IDT of processor `cpu`, or where the model stops. */
export function deliverGuestException(state: ModelState, cpu: number, exception: GuestException): DeliveryOutcome {
  const trap = exception.vector === DEBUG && exception.pendingAfterEntry === true;
  const generalDetect = exception.vector === DEBUG && exception.debugQualification !== undefined && (exception.debugQualification & fieldMask(DEBUG_QUALIFICATION.BD)) !== 0n;
  const classUnknown =
    exception.vector === BREAKPOINT || exception.vector === OVERFLOW || exception.vector === DOUBLE_FAULT || exception.vector === MACHINE_CHECK || (exception.vector === DEBUG && !trap && !generalDetect);
  if (classUnknown) return { kind: 'stopped', rule: R.returnAddressUnknown };
  const processor = cpuOf(state, cpu);
  const rflags = currentRflags(processor);
  if (processor.rip === undefined || rflags === undefined) return { kind: 'stopped', rule: R.stateUnknown };
  return deliverEvent(state, cpu, {
    vector: exception.vector,
    type: INTERRUPTION_TYPE.HARDWARE_EXCEPTION,
    ...(exception.errorCode === undefined ? {} : { errorCode: exception.errorCode & 0xffff_ffffn }),
    pushedRip: processor.rip,
    pushedRflags: trap ? rflags : rflags | RFLAGS_BIT.RF,
  });
}
