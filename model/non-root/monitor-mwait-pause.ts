/**
 * MONITOR, MWAIT and PAUSE, in and out of VMX non-root operation.
 *
 * MONITOR and MWAIT may be executed only at privilege level 0: elsewhere they are #UD (Vol. 2B
 * pages), which comes before a VM exit (Vol. 3C §26.1.1 "Relative Priority of Faults and VM
 * Exits"). The model assumes the processor has them (CPUID.01H:ECX.MONITOR = 1: the profile
 * does not record it; every processor with VMX this project profiles has them), that MONITOR's
 * address (DS:RAX) does not fault, and that MWAIT's ECX is 0 (the operation names no extensions).
 *
 * Exits (§26.1.3 "Instructions That Cause VM Exits Conditionally"): "MONITOR exiting" (reason 39,
 * qualification cleared), "MWAIT exiting" (reason 36; the qualification says whether the
 * address-monitoring hardware was armed, which the model does not track, so it is left
 * unknown), "PAUSE exiting" (reason 40). "PAUSE-loop exiting" at CPL 0 exits when the time since
 * the first PAUSE of a loop exceeds PLE_Window: that depends on timing, so with it the model
 * allows both the exit and the PAUSE completing.
 *
 * Outside a VM exit, MWAIT (like HLT) waits until an event wakes the processor, which happens
 * before its next operation: it completes.
 */
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { MonitorOp, MwaitOp, PauseOp } from '../../spec/guest-operations.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined } from '../verdict.ts';
import { atCplZero, completed, completes, controlBit, controlsUnknown, exitBranch, instructionExit, primaryControls, secondaryControls, ud } from './guest.ts';

const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const MONITOR_PAGE = sdm('4.3', 'MONITOR—Set Up Monitor Address', '2B');
const MWAIT_PAGE = sdm('4.3', 'MWAIT—Monitor Wait', '2B');
const PAUSE_PAGE = sdm('4.3', 'PAUSE—Spin Loop Hint', '2B');

/** The decision points of MONITOR, MWAIT and PAUSE. */
export const MONITOR_MWAIT_PAUSE_RULES = {
  monitorCpl: rule('monitor.ud-cpl', 'MONITOR', MONITOR_PAGE, '#UD when CPL > 0 (before any VM exit)'),
  monitorExit: rule('monitor.vm-exit', 'MONITOR', CONDITIONAL, 'in VMX non-root operation with "MONITOR exiting" = 1: VM exit (reason 39)'),
  monitorOk: rule('monitor.ok', 'MONITOR', MONITOR_PAGE, 'MONITOR arms the address-monitoring hardware'),
  mwaitCpl: rule('mwait.ud-cpl', 'MWAIT', MWAIT_PAGE, '#UD when CPL > 0 (before any VM exit)'),
  mwaitExit: rule('mwait.vm-exit', 'MWAIT', CONDITIONAL, 'in VMX non-root operation with "MWAIT exiting" = 1: VM exit (reason 36); qualification bit 0 (monitor armed) not tracked'),
  mwaitOk: rule('mwait.ok', 'MWAIT', MWAIT_PAGE, 'MWAIT waits; the processor is woken before its next operation'),
  pauseExit: rule('pause.vm-exit', 'PAUSE', CONDITIONAL, 'in VMX non-root operation with "PAUSE exiting" = 1: VM exit (reason 40)'),
  pauseLoop: rule(
    'pause.loop-exiting',
    'PAUSE',
    CONDITIONAL,
    'in VMX non-root operation at CPL 0 with "PAUSE-loop exiting" = 1: a VM exit (reason 40) when the loop has lasted longer than PLE_Window, which depends on timing; either outcome',
  ),
  pauseOk: rule('pause.ok', 'PAUSE', PAUSE_PAGE, 'PAUSE completes'),
} as const;

const R = MONITOR_MWAIT_PAUSE_RULES;

/** MONITOR. */
export function monitor(state: ModelState, op: MonitorOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (!atCplZero(cpu)) return ud(state, c, R.monitorCpl);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.MONITOR_EXITING)) return instructionExit(state, c, op, R.monitorExit, EXIT_REASON.MONITOR, 0n);
  }
  return completed(state, c, op, R.monitorOk);
}

/** MWAIT. */
export function mwait(state: ModelState, op: MwaitOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (!atCplZero(cpu)) return ud(state, c, R.mwaitCpl);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.MWAIT_EXITING)) return instructionExit(state, c, op, R.mwaitExit, EXIT_REASON.MWAIT, undefined);
  }
  return completed(state, c, op, R.mwaitOk);
}

/** PAUSE: never faults. */
export function pause(state: ModelState, op: PauseOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    const secondary = secondaryControls(state, c);
    if (primary === undefined || secondary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.PAUSE_EXITING)) return instructionExit(state, c, op, R.pauseExit, EXIT_REASON.PAUSE, 0n);
    if (controlBit(secondary, SECONDARY_CONTROL.PAUSE_LOOP_EXITING) && atCplZero(cpu)) {
      return defined(exitBranch(state, c, op, R.pauseLoop, EXIT_REASON.PAUSE, 0n), completes(state, c, op, R.pauseLoop));
    }
  }
  return completed(state, c, op, R.pauseOk);
}
