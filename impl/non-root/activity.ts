/**
 * The activity state of a logical processor (SDM Vol. 3C, December 2023, §25.4.2 "Guest
 * Non-Register State": 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI) as the engine contract
 * observes it. A processor is inactive
 * - after a VM entry that left it in HLT, shutdown or wait-for-SIPI (§27.7.2 "Activity State";
 *   impl/vm-entry/pending-events.ts sets the row's S_ACTIVITY) until a VM exit (none can happen:
 *   the contract has no interrupts, NMIs, SMIs, INIT or SIPI);
 * - after a VMX abort (§28.7 "VMX Aborts": the processor shuts down; S_SHUTDOWN holds the
 *   indicator), in the shutdown state.
 * An inactive processor executes no instruction: impl/program.ts answers STATUS_INACTIVE for
 * every operation of it but `set` and `write-memory`, which are not its instructions. HLT
 * executed by the guest or in VMX root operation keeps the contract's convention (the processor
 * is woken before its next operation) and leaves the processor active.
 */
import { INACTIVE_ACTIVITIES, type InactiveActivity } from '../../spec/observations.ts';
import { ACTIVITY_STATE } from '../../spec/guest-state-bits.ts';
import { S_ACTIVITY, S_SHUTDOWN } from '../cpu-row.ts';

const SHUTDOWN = Number(ACTIVITY_STATE.SHUTDOWN);

/** The activity state of the processor at row `b`: 0 when it runs, else 1-3. */
export function activityOf(s: Int32Array, b: number): number {
  return s[b + S_SHUTDOWN] !== 0 ? SHUTDOWN : (s[b + S_ACTIVITY] as number);
}

/** The contract's name of inactive activity state `activity` (1-3). */
export function activityName(activity: number): InactiveActivity {
  const name = INACTIVE_ACTIVITIES[activity - 1];
  if (name === undefined) throw new Error(`impl bug: activity state ${activity} is not inactive`);
  return name;
}
