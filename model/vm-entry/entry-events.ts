/**
 * What happens at the boundary of a successful VM entry, before the guest's first instruction
 * (SDM Vol. 3C, December 2023, §27.7 "Special Features of VM Entry"). Guest state is loaded
 * (load-guest.ts); the processor is in VMX non-root operation in the activity state the entry
 * left it in. A VM exit here is the observation of the VMLAUNCH or VMRESUME (the entry completed:
 * a VMLAUNCH has made the VMCS launched); the exit saves the state the entry loaded. In the
 * priority the SDM gives, highest first:
 *
 * 1. §27.7.7 "VM Exits Induced by the TPR Threshold": with "use TPR shadow" = 1 and
 *    "virtual-interrupt delivery" = 0, a VM exit (reason 43, "TPR below threshold") right after
 *    the entry when bits 3:0 of the TPR threshold exceed bits 7:4 of VTPR (byte 80H of the
 *    virtual-APIC page). The text asks for "virtualize APIC accesses" = 1 as well; with it 0 the
 *    VM-entry check on the same comparison (§27.2.1.1) has already failed the entry, so the
 *    condition is the same. Not blocked by RFLAGS.IF or the interruptibility state; priority over
 *    SMIs, INIT, the window exits, pending MTF VM exits and pending debug exceptions; wakes HLT;
 *    does not occur from shutdown or wait-for-SIPI.
 * 2. §27.7.8 "Pending MTF VM Exits": an injected "other event" (type 7) with vector 0 makes an MTF
 *    VM exit pending before the first instruction (§27.6.2 "Injection of Pending MTF VM Exits"),
 *    whatever "monitor trap flag" says; below SMIs and INIT, above debug-trap exceptions; wakes
 *    HLT (the only inactive state the injection checks allow with it). Likewise with "monitor
 *    trap flag" = 1 and a vectored event injected (§26.5.2 "Monitor Trap Flag"): the MTF VM exit
 *    is pending on the boundary before the first instruction after the entry, the handler's
 *    (load-guest.ts delivered the event; the exit saves the handler's state).
 * 3. §27.7.3 "Delivery of Pending Debug Exceptions after VM Entry": the pending-debug-exceptions
 *    field is ignored after an entry into shutdown or wait-for-SIPI, and after a vectoring entry
 *    except one injecting a software interrupt or software exception under blocking by MOV SS
 *    (then the pending exceptions are treated as after INT3/INTO following a MOV SS, or may be
 *    lost or delivered: not modelled); otherwise debug exceptions are pending when BS (bit 14)
 *    or "enabled breakpoint" (bit 12) is 1. Under blocking by MOV SS they are "held pending or
 *    lost as would normally be the case" (not modelled); otherwise a #DB is delivered with the
 *    priority of a trap on the previous instruction, which causes a VM exit (reason 0,
 *    exception) when bit 1 of the exception bitmap is 1 and is delivered through the guest IDT
 *    otherwise (model/event-delivery/exception.ts: the RIP loaded is pushed, RF as loaded); with
 *    "monitor trap flag" = 1 an MTF VM exit is then pending before the handler's first
 *    instruction (§26.5.2: a pending event delivered before an instruction can execute), and the
 *    lower-priority events below see the handler's state. The exit qualification holds
 *    the debug conditions the exception reports, as the pending field records them: B3-B0 (bits
 *    3:0), BS (bit 14) and RTM (bit 16) sit at the same positions in both layouts (§25.4.2 table
 *    "Format of Pending-Debug-Exceptions", §28.2.1 table "Exit Qualification for Debug
 *    Exceptions"); BD (bit 13) is 0. Blocking by STI stays as loaded in the saved interruptibility
 *    state: §27.7.1 ends it when the guest "incurs" the exception, but an exception that causes a
 *    VM exit directly does not update architectural state as its delivery would (§28.1
 *    "Architectural State before a VM Exit").
 * 4. §27.7.4 "VMX-Preemption Timer": with "activate VMX-preemption timer" = 1 and a timer value of
 *    0, a VM exit (reason 52) before any instruction, unless the activity state is wait-for-SIPI;
 *    with another value the timer may still reach 0 before the first instruction, so that exit is
 *    allowed besides the entry (the model has no time).
 * 5. §27.7.6 "NMI-Window Exiting" and 6. §27.7.5 "Interrupt-Window Exiting and Virtual-Interrupt
 *    Delivery": the window exits of model/non-root/boundary-exits.ts, at once when their
 *    conditions hold after the entry ("these VM exits follow event injection"; NMI window wakes
 *    HLT and shutdown, interrupt window HLT only).
 *
 * When none of them acts, the entry completes (`vmentry`): the guest's first instruction is the
 * processor's next operation, or, in an inactive activity state, the processor waits and its
 * instructions are observed `inactive` (model/activity.ts).
 */
import { fieldMask } from '../../spec/bit-fields.ts';
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { DEBUG_QUALIFICATION } from '../../spec/exit-qualification.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import { readWord } from '../memory.ts';
import { bitOf, controlField, secondaryControlsInEffect } from '../non-root.ts';
import { BOUNDARY_RULES, eventExit, monitorTrapFlag, timerActive, windowExits } from '../non-root/boundary-exits.ts';
import { DELIVERY_STOP_RULES } from '../event-delivery/rules.ts';
import type { Observation } from '../../spec/observations.ts';
import { EXCEPTION_RULES, raiseException } from '../non-root/exceptions.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Branch, Verdict } from '../verdict.ts';
import { defined, notModelled, undefinedBy } from '../verdict.ts';

const I = 'VM entry';

/** The decision points of the boundary of a VM entry. */
export const ENTRY_EVENT_RULES = {
  tprBelowThreshold: rule(
    'vm-entry.tpr-below-threshold',
    I,
    sdm('27.7.7', 'VM Exits Induced by the TPR Threshold'),
    '"use TPR shadow" = 1, "virtual-interrupt delivery" = 0 and TPR threshold bits 3:0 above VTPR bits 7:4: VM exit (reason 43, qualification 0) right after the entry, first of all the entry\'s events; wakes HLT',
  ),
  pendingMtf: rule(
    'vm-entry.pending-mtf-vm-exit',
    I,
    sdm('27.7.8', 'Pending MTF VM Exits'),
    'the entry injects a pending MTF VM exit (type 7, vector 0): an MTF VM exit (reason 37, qualification 0) before the first instruction, below only the TPR-threshold exit; wakes HLT',
  ),
  pendingDebugExit: rule(
    'vm-entry.pending-debug-exception-exit',
    I,
    sdm('27.7.3', 'Delivery of Pending Debug Exceptions after VM Entry'),
    'BS or "enabled breakpoint" pending, no MOV-SS blocking, not shutdown or wait-for-SIPI, #DB set in the exception bitmap: VM exit (reason 0, #DB) with the pending debug conditions as the qualification',
  ),
  pendingDebugDelivered: rule(
    'vm-entry.pending-debug-exception-delivered',
    I,
    sdm('27.7.3', 'Delivery of Pending Debug Exceptions after VM Entry'),
    'a pending debug exception is delivered after the entry through the guest IDT (#DB clear in the exception bitmap) as a trap on the previous instruction: the guest goes on at the #DB handler',
  ),
  mtfAfterInjection: rule(
    'vm-entry.mtf-after-injected-event',
    I,
    sdm('26.5.2', 'Monitor Trap Flag'),
    '"monitor trap flag" = 1 and the entry injected a vectored event: an MTF VM exit (reason 37) on the boundary before the first instruction, the handler\'s, after delivery',
  ),
  mtfAfterPendingDebug: rule(
    'vm-entry.mtf-after-pending-debug-exception',
    I,
    sdm('26.5.2', 'Monitor Trap Flag'),
    '"monitor trap flag" = 1 and a pending debug exception was delivered through the guest IDT after the entry: an MTF VM exit (reason 37) before the handler\'s first instruction',
  ),
  pendingDebugMovSs: rule(
    'vm-entry.pending-debug-exception-mov-ss',
    I,
    sdm('27.7.3', 'Delivery of Pending Debug Exceptions after VM Entry'),
    'debug exceptions are pending under blocking by MOV SS: they are held pending or lost "as would normally be the case"; not modelled',
  ),
  timerZero: rule(
    'vm-entry.preemption-timer-zero',
    I,
    sdm('27.7.4', 'VMX-Preemption Timer'),
    '"activate VMX-preemption timer" = 1 and a timer value of 0: VM exit (reason 52, qualification 0) before any instruction, after pending debug exceptions; not from wait-for-SIPI',
  ),
} as const;

const R = ENTRY_EVENT_RULES;

/** Pending debug exceptions: "enabled breakpoint" (bit 12), BS (bit 14). */
const PENDING_ENABLED_BREAKPOINT = 1n << 12n;
const PENDING_BS = 1n << 14n;
/** The debug conditions a pending #DB reports: B3-B0, BS and RTM (same bits in both layouts). */
const REPORTED_CONDITIONS = fieldMask(DEBUG_QUALIFICATION.BREAKPOINTS) | fieldMask(DEBUG_QUALIFICATION.BS) | fieldMask(DEBUG_QUALIFICATION.RTM);
/** VM-entry interruption information: valid (31), type (10:8), vector (7:0). */
const INJECTION_VALID = 1n << 31n;
const TYPE_OTHER_EVENT = 7n;
const TYPE_SOFTWARE_INTERRUPT = 4n;
const TYPE_SOFTWARE_EXCEPTION = 6n;
/** Interruptibility state bit 1: blocking by MOV SS. */
const BLOCKING_BY_MOV_SS = 2n;
/** Offset of VTPR on the virtual-APIC page. */
const VTPR_OFFSET = 0x80n;
/** The debug-exception vector. */
const DEBUG_VECTOR = 1;

/**
 * The outcomes of the boundary of the VM entry processor `cpu` made in `state` (guest state
 * loaded); `runs` is the `vmentry` branch for the case that no event acts.
 */
export function eventsAtEntry(state: ModelState, cpu: number, runs: Branch): Verdict {
  const processor = cpuOf(state, cpu);
  const activity = processor.activity;
  if (activity === 'wait-for-sipi') return defined(runs);

  if (activity !== 'shutdown' && tprBelowThreshold(state, cpu)) return defined(eventExit(state, cpu, R.tprBelowThreshold, EXIT_REASON.TPR_BELOW_THRESHOLD));

  if (injectsPendingMtf(state, cpu)) return defined(eventExit(state, cpu, R.pendingMtf, EXIT_REASON.MONITOR_TRAP_FLAG));
  const vectoring = injectsVectoredEvent(state, cpu);
  if (vectoring && monitorTrapFlag(state, cpu)) return defined(eventExit(state, cpu, R.mtfAfterInjection, EXIT_REASON.MONITOR_TRAP_FLAG));

  let current = state;
  let running = runs;
  const pending = activity === 'shutdown' ? 0n : (controlField(state, cpu, FIELD.GUEST_PENDING_DEBUG_EXCEPTIONS) ?? 0n);
  if ((pending & (PENDING_BS | PENDING_ENABLED_BREAKPOINT)) !== 0n) {
    const loadedMovSs = ((controlField(state, cpu, FIELD.GUEST_INTERRUPTIBILITY_STATE) ?? 0n) & BLOCKING_BY_MOV_SS) !== 0n;
    if (vectoring) {
      if (loadedMovSs && injectsSoftwareEvent(state, cpu)) return notModelled(R.pendingDebugMovSs);
    } else {
      if (processor.movSsBlocking === 1) return notModelled(R.pendingDebugMovSs);
      const debug = pendingDebugException(state, cpu, pending);
      if (debug.kind !== 'delivered') return debug.verdict;
      current = debug.state;
      if (monitorTrapFlag(current, cpu)) return defined(eventExit(current, cpu, R.mtfAfterPendingDebug, EXIT_REASON.MONITOR_TRAP_FLAG));
      running = { expected: runs.expected, rule: R.pendingDebugDelivered, next: () => current };
    }
  }

  const may: Branch[] = [];
  if (timerActive(current, cpu)) {
    const timerExit = eventExit(current, cpu, timerValue(current, cpu) === 0n ? R.timerZero : BOUNDARY_RULES.timerMayExpire, EXIT_REASON.PREEMPTION_TIMER_EXPIRED);
    if (timerExit.rule === R.timerZero) return defined(timerExit);
    may.push(timerExit);
  }
  const windows = windowExits(current, cpu);
  const others = windows.may.filter((each) => each.rule !== BOUNDARY_RULES.timerMayExpire);
  return defined(...may, ...others, windows.must ?? running);
}

/** §27.7.7: TPR threshold bits 3:0 above VTPR bits 7:4, with "use TPR shadow" = 1 and "virtual-interrupt delivery" = 0. */
function tprBelowThreshold(state: ModelState, cpu: number): boolean {
  const primary = controlField(state, cpu, FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS) ?? 0n;
  const secondary = secondaryControlsInEffect(state, cpu) ?? 0n;
  if (!bitOf(primary, PRIMARY_CONTROL.USE_TPR_SHADOW) || bitOf(secondary, SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY)) return false;
  const threshold = (controlField(state, cpu, FIELD.TPR_THRESHOLD) ?? 0n) & 0xfn;
  const page = controlField(state, cpu, FIELD.VIRTUAL_APIC_ADDRESS) ?? 0n;
  const vtpr = BigInt((readWord(state, page + VTPR_OFFSET) >>> 4) & 0xf);
  return threshold > vtpr;
}

/** §27.6.2: the entry injects an "other event" with vector 0, a pending MTF VM exit. */
function injectsPendingMtf(state: ModelState, cpu: number): boolean {
  const information = controlField(state, cpu, FIELD.VM_ENTRY_INTERRUPTION_INFORMATION) ?? 0n;
  return (information & INJECTION_VALID) !== 0n && ((information >> 8n) & 7n) === TYPE_OTHER_EVENT && (information & 0xffn) === 0n;
}

/** The VMX-preemption timer value the entry loaded (the entry read it, so it is known). */
function timerValue(state: ModelState, cpu: number): bigint | undefined {
  return controlField(state, cpu, FIELD.VMX_PREEMPTION_TIMER_VALUE);
}

/** A vectored event injected (valid, a type other than 7). */
function injectsVectoredEvent(state: ModelState, cpu: number): boolean {
  const information = controlField(state, cpu, FIELD.VM_ENTRY_INTERRUPTION_INFORMATION) ?? 0n;
  return (information & INJECTION_VALID) !== 0n && ((information >> 8n) & 7n) !== TYPE_OTHER_EVENT;
}

/** The injected event is a software interrupt (type 4) or software exception (type 6). */
function injectsSoftwareEvent(state: ModelState, cpu: number): boolean {
  const type = ((controlField(state, cpu, FIELD.VM_ENTRY_INTERRUPTION_INFORMATION) ?? 0n) >> 8n) & 7n;
  return type === TYPE_SOFTWARE_INTERRUPT || type === TYPE_SOFTWARE_EXCEPTION;
}

/** §27.7.3: a #DB with the pending debug conditions, through the exception bitmap: the exit, or the state after delivery in the guest. */
function pendingDebugException(state: ModelState, cpu: number, pending: bigint): { kind: 'delivered'; state: ModelState } | { kind: 'verdict'; verdict: Verdict } {
  const raised = raiseException(state, cpu, R.pendingDebugExit, { vector: DEBUG_VECTOR, reportErrorCode: false, debugQualification: pending & REPORTED_CONDITIONS, pendingAfterEntry: true });
  if (raised.rule === EXCEPTION_RULES.bitmapUnknown) return { kind: 'verdict', verdict: undefinedBy(EXCEPTION_RULES.bitmapUnknown) };
  if (raised.expected.kind === 'vmexit') return { kind: 'verdict', verdict: defined({ ...raised, rule: R.pendingDebugExit }) };
  if (DELIVERY_STOP_RULES.has(raised.rule)) return { kind: 'verdict', verdict: notModelled(raised.rule) };
  return { kind: 'delivered', state: raised.next(raised.expected as Observation) };
}
