/**
 * Activity states and the boundary after a guest instruction, as `step` applies them to every
 * operation (model/index.ts).
 *
 * Inactive processors (SDM Vol. 3C, December 2023, §27.7.2 "Activity State"; §28.7 "VMX Aborts"):
 * a processor that a VM entry left in the HLT, shutdown or wait-for-SIPI state, or that a VMX
 * abort shut down, executes no instruction. The engine contract has no interrupt, NMI, SMI, INIT
 * or SIPI, so nothing wakes it except a VM exit the VMCS arms (the VMX-preemption timer, which may
 * expire at any time and wakes HLT and shutdown: model/non-root/boundary-exits.ts). Each
 * instruction of such a processor is observed as `inactive` and changes nothing (not even the
 * MOV-SS blocking: the instruction never ran). `set` and `write-memory` are not instructions of
 * the processor and work as before. A VMX abort leaves the processor shut down for good (only
 * RESET leaves that state, §28.7); its instructions are then observed under the abort's rule
 * (`vmx-abort.*`, model/vm-exit/abort.ts).
 *
 * The boundary after a guest instruction (model/non-root/boundary-exits.ts): when the instruction
 * completes in VMX non-root operation (or its fault is delivered through the guest IDT), the
 * events at the next boundary act before the next operation: an MTF VM exit replaces the
 * instruction's observation (§26.5.2 "Monitor Trap Flag"); otherwise an NMI-window or
 * interrupt-window exit whose conditions now hold (the instruction ended blocking by STI or MOV
 * SS) replaces it. The VMX-preemption timer's open exit is allowed before every guest instruction
 * (`timerMayPreempt`; boundary-exits.ts says why there).
 */
import { sdm } from '../spec/citation.ts';
import { EXIT_REASON } from '../spec/exit-reasons.ts';
import { isInstruction } from '../spec/operations.ts';
import type { Operation } from '../spec/operations.ts';
import type { Observation } from '../spec/observations.ts';
import { BOUNDARY_RULES, eventExit, monitorTrapFlag, timerBefore, windowExits } from './non-root/boundary-exits.ts';
import { rule } from './rule.ts';
import type { ModelState } from './state.ts';
import { cpuOf, withCpu } from './state.ts';
import type { Branch, Expected, Verdict } from './verdict.ts';
import { defined, notModelled } from './verdict.ts';

/** The decision points of inactive processors. */
export const ACTIVITY_RULES = {
  inactiveGuest: rule(
    'activity.inactive-guest',
    'VM entry',
    sdm('27.7.2', 'Activity State'),
    'the processor is in the HLT, shutdown or wait-for-SIPI state a VM entry left it in: it executes no instruction (observed inactive) until an event wakes it, and the contract has none but the VMX-preemption timer',
  ),
} as const;

/** The verdict for `op` on an inactive processor, or `undefined` when the processor executes it. */
export function inactiveStep(state: ModelState, op: Operation): Verdict | undefined {
  const processor = cpuOf(state, op.cpu);
  if (processor.activity === 'active' || !isInstruction(op)) return undefined;
  const guest = processor.vmx === 'non-root';
  const waits: Branch = {
    expected: { kind: 'inactive', activity: processor.activity, flags: processor.flags },
    rule: processor.abortedBy ?? ACTIVITY_RULES.inactiveGuest,
    next: () => state,
  };
  if (!guest) return defined(waits);
  const exits = windowExits(state, op.cpu);
  return defined(...exits.may, exits.must ?? waits);
}

/** `verdict` with the VMX-preemption timer's VM exit allowed before the instruction `op` of a guest. */
export function timerMayPreempt(state: ModelState, op: Operation, verdict: Verdict): Verdict {
  if (verdict.kind !== 'defined' || !isInstruction(op) || cpuOf(state, op.cpu).vmx !== 'non-root') return verdict;
  const timer = timerBefore(state, op.cpu);
  return timer === undefined || verdict.branches.some((each) => each.rule === timer.rule) ? verdict : defined(...verdict.branches, timer);
}

/** Observations a guest instruction completes with (the fault of a delivered exception included). */
const COMPLETIONS: ReadonlySet<Expected['kind']> = new Set(['ok', 'vmsucceed', 'vmfail-valid', 'vmfail-invalid', 'fault']);

/**
 * `verdict` for `op` on a processor in VMX non-root operation in `before`, with the events of the
 * boundary after the instruction applied to every branch on which it completed in the guest.
 */
export function atBoundaryAfter(before: ModelState, op: Operation, verdict: Verdict): Verdict {
  const cpu = op.cpu;
  if (verdict.kind !== 'defined' || !isInstruction(op) || cpuOf(before, cpu).vmx !== 'non-root') return verdict;
  const branches: Branch[] = [];
  for (const branch of verdict.branches) {
    if (!COMPLETIONS.has(branch.expected.kind)) {
      branches.push(branch);
      continue;
    }
    const observed = asObservation(branch.expected);
    if (observed === undefined) {
      if (monitorTrapFlag(before, cpu)) return notModelled(BOUNDARY_RULES.mtfValueUnknown);
      branches.push(branch);
      continue;
    }
    const after = branch.next(observed);
    const processor = cpuOf(after, cpu);
    if (processor.vmx !== 'non-root' || processor.untracked !== undefined) {
      branches.push(branch);
      continue;
    }
    // After HLT an exit on the boundary comes from the HLT activity state, saved as such: an event
    // that causes a VM exit directly returns the processor to the active state only after the exit
    // (§28.1 "Architectural State before a VM Exit"; §28.3.4 "Saving Non-Register State").
    // A HLT that faulted (at CPL > 0) never halted: its boundary is the handler's.
    const halted = op.kind === 'hlt' && branch.expected.kind !== 'fault' ? withCpu(after, cpu, { activity: 'hlt' }) : after;
    // After a fault delivered through the guest IDT (model/event-delivery/) the boundary is the one
    // before the handler's first instruction: the MTF VM exit saves the handler's state, and the
    // window exits see the RFLAGS.IF the gate left.
    if (monitorTrapFlag(after, cpu)) {
      branches.push(eventExit(halted, cpu, BOUNDARY_RULES.mtf, EXIT_REASON.MONITOR_TRAP_FLAG));
      continue;
    }
    const exits = windowExits(halted, cpu);
    branches.push(...exits.may, exits.must ?? branch);
  }
  return defined(...branches);
}

/** The observation `expected` stands for, or `undefined` when its value is open. */
function asObservation(expected: Expected): Observation | undefined {
  if (expected.kind !== 'vmsucceed') return expected;
  if (expected.value === undefined) return { kind: 'vmsucceed', flags: expected.flags };
  return typeof expected.value === 'string' ? { kind: 'vmsucceed', flags: expected.flags, value: expected.value } : undefined;
}
