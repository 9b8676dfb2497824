/**
 * VM exits the VMCS arms for an instruction boundary in VMX non-root operation, in the priority
 * the SDM gives them (SDM Vol. 3C, December 2023, §26.2 "Other Causes of VM Exits", §26.5.1
 * "VMX-Preemption Timer", §26.5.2 "Monitor Trap Flag"). They are the same before the guest's
 * first instruction (model/vm-entry/entry-events.ts) and after each guest instruction (the
 * boundary after an instruction belongs to that instruction's step: its observation is the VM
 * exit, the instruction having completed first).
 *
 * In priority order, highest first:
 * 1. MTF VM exits (§26.5.2): with "monitor trap flag" = 1, a guest instruction that completes (or
 *    whose fault is delivered through the guest IDT) is followed by an MTF VM exit on the next
 *    boundary; after HLT the exit comes from the HLT activity state. "SMIs, INIT signals and
 *    higher priority events take priority over MTF VM exits; MTF VM exits take priority over
 *    debug-trap exceptions and lower priority events." An instruction that causes a VM exit
 *    itself is followed by no MTF VM exit.
 * 2. VMX-preemption timer (§26.2, §26.5.1): the timer counts down in proportion to the TSC, which
 *    the model does not track; with "activate VMX-preemption timer" = 1 it may reach zero at any
 *    boundary, so a VM exit with reason 52 is always one allowed outcome (a value of 0 at VM
 *    entry makes it certain there: entry-events.ts). The model places this open exit before an
 *    instruction: any instruction of the guest may be observed as the timer's VM exit, with the
 *    instruction not executed (`timerBefore`); after an instruction it is allowed only where a
 *    window exit of lower priority would otherwise be certain. One place for it keeps the state
 *    after the exit unambiguous. It wakes the HLT and shutdown states, not
 *    wait-for-SIPI. "Debug-trap exceptions and higher priority events take priority over VM exits
 *    caused by the VMX-preemption timer; they take priority over VM exits caused by NMI-window
 *    exiting and lower priority events."
 * 3. NMI-window exiting (§26.2): a VM exit (reason 8) before any instruction when there is no
 *    virtual-NMI blocking (interruptibility bit 3; the control requires "virtual NMIs") and no
 *    blocking by MOV SS; "a logical processor may also prevent such a VM exit if there is blocking
 *    of events by STI", so with STI blocking the exit is allowed, not required. It wakes HLT and
 *    shutdown, not wait-for-SIPI.
 * 4. Interrupt-window exiting (§26.2): a VM exit (reason 7) before any instruction when RFLAGS.IF
 *    = 1 and there is no blocking by STI or by MOV SS. It wakes HLT, not shutdown or wait-for-SIPI.
 *
 * The exit qualification of these four exits is 0, and no other exit information is defined
 * (§28.2.1 "Basic VM-Exit Information": the qualification is cleared for exits it does not
 * describe; the instruction length and information belong to instruction exits, §28.2.5).
 * External interrupts, NMIs, SMIs and INIT do not exist in the engine contract.
 */
import { sdm } from '../../spec/citation.ts';
import { PIN_CONTROL, PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import { bitOf, controlField } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Branch } from '../verdict.ts';
import { vmExitWith } from '../vm-exit.ts';

const I = 'VMX non-root operation';
const OTHER_CAUSES = sdm('26.2', 'Other Causes of VM Exits');

/** The decision points of the exits at an instruction boundary. */
export const BOUNDARY_RULES = {
  mtf: rule(
    'mtf.vm-exit',
    I,
    sdm('26.5.2', 'Monitor Trap Flag'),
    '"monitor trap flag" = 1: the guest instruction completes (or its fault is delivered), then an MTF VM exit (reason 37, qualification 0) on the boundary after it; after HLT the exit is from the HLT activity state',
  ),
  mtfValueUnknown: rule(
    'mtf.value-unknown',
    I,
    sdm('26.5.2', 'Monitor Trap Flag'),
    'an MTF VM exit follows a guest VMREAD whose value the model does not know: the state after the read cannot be built without the value the MTF exit hides; not modelled',
  ),
  timerMayExpire: rule(
    'preemption-timer.may-expire',
    I,
    sdm('26.5.1', 'VMX-Preemption Timer'),
    '"activate VMX-preemption timer" = 1: the timer counts down with time the model does not track and may reach 0 at this boundary: a VM exit (reason 52) is allowed besides the other outcomes (not from wait-for-SIPI)',
  ),
  nmiWindow: rule(
    'nmi-window.vm-exit',
    I,
    OTHER_CAUSES,
    '"NMI-window exiting" = 1, no virtual-NMI blocking and no blocking by MOV SS: VM exit (reason 8) before the next instruction; with blocking by STI the processor may also hold it; wakes HLT and shutdown, not wait-for-SIPI',
  ),
  interruptWindow: rule(
    'interrupt-window.vm-exit',
    I,
    OTHER_CAUSES,
    '"interrupt-window exiting" = 1, RFLAGS.IF = 1 and no blocking by STI or MOV SS: VM exit (reason 7) before the next instruction; wakes HLT, not shutdown or wait-for-SIPI',
  ),
} as const;

const R = BOUNDARY_RULES;

/** Interruptibility state: blocking by STI (bit 0), by NMI (bit 3; virtual-NMI blocking with "virtual NMIs"). */
const BLOCKING_BY_STI = 1n;
const BLOCKING_BY_NMI = 1n << 3n;
/** RFLAGS bit 9: IF. */
const RFLAGS_IF = 1n << 9n;

/** The window and timer exits allowed at a boundary: `may` besides the outcome the step has anyway, or a `must` that replaces it. */
export interface BoundaryExits {
  readonly may: readonly Branch[];
  readonly must?: Branch;
}

/** A VM exit of processor `cpu` with `reason`, qualification 0, decided by `why`. */
export function eventExit(state: ModelState, cpu: number, why: Rule, reason: number): Branch {
  return vmExitWith(state, cpu, why, { reason, qualification: 0n });
}

/** True when "activate VMX-preemption timer" is 1 for processor `cpu` in VMX non-root operation. */
export function timerActive(state: ModelState, cpu: number): boolean {
  const pin = controlField(state, cpu, FIELD.PIN_BASED_CONTROLS);
  return pin !== undefined && bitOf(pin, PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER);
}

/** True when "monitor trap flag" is 1 for processor `cpu` in VMX non-root operation. */
export function monitorTrapFlag(state: ModelState, cpu: number): boolean {
  const primary = controlField(state, cpu, FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS);
  return primary !== undefined && bitOf(primary, PRIMARY_CONTROL.MONITOR_TRAP_FLAG);
}

/**
 * The timer's VM exit allowed before an instruction of processor `cpu` (in VMX non-root
 * operation, the instruction not executed), or `undefined` when the timer is not active or the
 * processor waits for a SIPI.
 */
export function timerBefore(state: ModelState, cpu: number): Branch | undefined {
  if (cpuOf(state, cpu).activity === 'wait-for-sipi' || !timerActive(state, cpu)) return undefined;
  return eventExit(state, cpu, R.timerMayExpire, EXIT_REASON.PREEMPTION_TIMER_EXPIRED);
}

/**
 * The NMI-window and interrupt-window exits at the boundary processor `cpu` (in VMX non-root
 * operation) is on in `state`, in priority order (items 3-4 of the file comment); when one is
 * certain, the timer's exit (item 2, higher priority) is allowed besides it.
 */
export function windowExits(state: ModelState, cpu: number): BoundaryExits {
  const found = windows(state, cpu);
  const timer = found.must === undefined ? undefined : timerBefore(state, cpu);
  return timer === undefined ? found : { may: [timer, ...found.may], must: found.must };
}

function windows(state: ModelState, cpu: number): BoundaryExits {
  const processor = cpuOf(state, cpu);
  const activity = processor.activity;
  if (activity === 'wait-for-sipi') return { may: [] };
  const may: Branch[] = [];
  const primary = controlField(state, cpu, FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS) ?? 0n;
  const interruptibility = processor.guest?.interruptibility ?? 0n;
  const sti = (interruptibility & BLOCKING_BY_STI) !== 0n;
  const movSs = processor.movSsBlocking === 1;
  if (bitOf(primary, PRIMARY_CONTROL.NMI_WINDOW_EXITING) && (interruptibility & BLOCKING_BY_NMI) === 0n && !movSs) {
    const exit = eventExit(state, cpu, R.nmiWindow, EXIT_REASON.NMI_WINDOW);
    if (!sti) return { may, must: exit };
    may.push(exit);
  }
  const interruptsEnabled = ((processor.guest?.rflags ?? 0n) & RFLAGS_IF) !== 0n;
  if (bitOf(primary, PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING) && activity !== 'shutdown' && interruptsEnabled && !sti && !movSs) {
    return { may, must: eventExit(state, cpu, R.interruptWindow, EXIT_REASON.INTERRUPT_WINDOW) };
  }
  return { may };
}
