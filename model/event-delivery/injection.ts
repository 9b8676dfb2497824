/**
 * The event a VM entry injects, as delivery sees it (SDM Vol. 3C, December 2023, §27.6.1.1
 * "Details of Vectored-Event Injection"):
 *
 * - the vector and interruption type of the VM-entry interruption-information field (bits 7:0,
 *   10:8); the VM-entry exception error code is pushed when bit 11 "deliver error code" is 1;
 * - the RIP pushed is the guest RIP loaded from the guest-state area for an external interrupt,
 *   NMI or hardware exception, and that RIP plus the VM-entry instruction length for a software
 *   interrupt, privileged software exception or software exception (types 4, 5, 6), wrapping as
 *   RIP does (64 bits in 64-bit mode, 32 bits outside it);
 * - the RFLAGS pushed is the value loaded from the guest-state area: RF is not changed for the
 *   type of event (the virtual-8086 modification for software interrupts is not reached:
 *   virtual-8086 delivery is not followed);
 * - a software interrupt or software exception checks the gate DPL against the CPL, a privileged
 *   software exception does not (event.ts `checksGateDpl`);
 * - CR2, DR6, DR7 and IA32_DEBUGCTL are not changed by injection (none is modelled otherwise).
 */
import { FIELD } from '../../spec/fields.ts';
import { in64BitMode } from '../modes.ts';
import { controlField } from '../non-root.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import { currentRflags, deliverEvent } from './deliver.ts';
import type { DeliveryOutcome } from './deliver.ts';
import { INTERRUPTION_TYPE } from './event.ts';
import { EVENT_DELIVERY_RULES as R } from './rules.ts';

/** VM-entry interruption information: bit 11 deliver error code. */
const DELIVER_ERROR_CODE = 1n << 11n;

/** The state after VM entry delivered the event its VMCS injects on processor `cpu` (guest state loaded), or where the model stops. */
export function deliverInjectedEvent(state: ModelState, cpu: number): DeliveryOutcome {
  const processor = cpuOf(state, cpu);
  const information = controlField(state, cpu, FIELD.VM_ENTRY_INTERRUPTION_INFORMATION) ?? 0n;
  const vector = Number(information & 0xffn);
  const type = Number((information >> 8n) & 7n);
  const software = type === INTERRUPTION_TYPE.SOFTWARE_INTERRUPT || type === INTERRUPTION_TYPE.PRIVILEGED_SOFTWARE_EXCEPTION || type === INTERRUPTION_TYPE.SOFTWARE_EXCEPTION;
  const length = software ? controlField(state, cpu, FIELD.VM_ENTRY_INSTRUCTION_LENGTH) : 0n;
  const errorCode = (information & DELIVER_ERROR_CODE) !== 0n ? controlField(state, cpu, FIELD.VM_ENTRY_EXCEPTION_ERROR_CODE) : undefined;
  const rflags = currentRflags(processor);
  if (processor.rip === undefined || rflags === undefined || length === undefined || ((information & DELIVER_ERROR_CODE) !== 0n && errorCode === undefined)) {
    return { kind: 'stopped', rule: R.stateUnknown };
  }
  const wrap = in64BitMode(processor) ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
  return deliverEvent(state, cpu, {
    vector,
    type,
    ...(errorCode === undefined ? {} : { errorCode: errorCode & 0xffff_ffffn }),
    pushedRip: (processor.rip + (length & 0xffff_ffffn)) & wrap,
    pushedRflags: rflags,
  });
}
