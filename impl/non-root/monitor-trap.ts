/**
 * The MTF VM exit after a guest instruction (SDM Vol. 3C, December 2023, §26.5.2 "Monitor Trap
 * Flag"): with the "monitor trap flag" VM-execution control 1, an instruction that completes
 * without a fault makes an MTF VM exit pending on the instruction boundary after it; the VM exit
 * (basic reason 37, exit qualification cleared, §28.2.1 "Basic VM-Exit Information") is the
 * instruction's observation, with guest RIP past the instruction. Events of higher priority
 * decide first: a VM exit the instruction itself causes, including the trap-like TPR-below-
 * threshold exit of MOV to CR8 (which has priority over SMIs and INIT, so over MTF), leaves no
 * MTF VM exit.
 *
 * What the exit saves (§28.3):
 * - RFLAGS.RF 0: the instruction completed, and completion clears RF ("the value RFLAGS.RF had
 *   before the VM exit occurred", §28.3.3);
 * - the activity state HLT after an HLT that completed: "MTF VM exits are not blocked in the HLT
 *   activity state", and the processor returns to the active state only after the VM exit
 *   (§28.1 "Architectural State before a VM Exit"); active otherwise (MWAIT's state is never
 *   reflected in the field, §25.4.2);
 * - no blocking by MOV SS or STI (they end when an instruction completes, §27.7.1);
 * - pending debug exceptions (an MTF exit keeps them, §28.3.4 "Saving Non-Register State"): the
 *   single-step trap the instruction made pending, BS (bit 14), when RFLAGS.TF = 1 and
 *   IA32_DEBUGCTL.BTF = 0 (MTF VM exits take priority over debug traps, §26.5.2); no guest
 *   operation here is a branch or touches a data breakpoint, so nothing else.
 *
 * An instruction that faults makes the MTF VM exit pending after the fault's delivery through
 * the guest IDT, which impl/ does not model: the fault stays the observation and no MTF VM exit
 * follows.
 */
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { ACTIVITY_STATE, DEBUGCTL, PENDING_DEBUG, RFLAGS } from '../../spec/guest-state-bits.ts';
import { S_ACTIVITY, S_CUR_BASE, S_DEBUGCTL_LO, S_IN_VMX, S_PENDING_DEBUG_HI, S_PENDING_DEBUG_LO } from '../cpu-row.ts';
import { STATUS_FAIL_INVALID } from '../status.ts';
import type { EventWords } from '../vm-entry/event-facts.ts';
import type { ExitInfo } from '../vm-exit/exit-info.ts';
import type { VmExits } from '../vm-exit/index.ts';
import { NON_ROOT } from './context.ts';

const HLT = Number(ACTIVITY_STATE.HLT);
const TF = 1 << RFLAGS.TF;
const BTF = 1 << DEBUGCTL.BTF;
const BS = 1 << PENDING_DEBUG.BS;

/**
 * After an instruction of the processor at row `b` completed (guest RIP advanced) with `status`:
 * the MTF VM exit when it applies (its status: STATUS_VMEXIT or a VMX abort), else `status`.
 * `halted` says the instruction was HLT. `v` is physical memory's words.
 */
export function monitorTrapAfterInstruction(
  s: Int32Array,
  v: Int32Array,
  w: EventWords,
  info: ExitInfo,
  exits: VmExits,
  b: number,
  status: number,
  halted: boolean,
): number {
  // A fault or a VM exit of the instruction (or a status impl/ does not implement) comes first;
  // VMsucceed, VMfailValid and VMfailInvalid are instructions that completed.
  if (status < STATUS_FAIL_INVALID || s[b + S_IN_VMX] !== NON_ROOT) return status;
  const base = s[b + S_CUR_BASE] as number;
  if ((((v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number) >>> PRIMARY_CONTROL.MONITOR_TRAP_FLAG) & 1) === 0) return status;
  const singleStep = ((v[base + w.GUEST_RFLAGS] as number) & TF) !== 0 && ((s[b + S_DEBUGCTL_LO] as number) & BTF) === 0;
  s[b + S_PENDING_DEBUG_LO] = singleStep ? BS : 0;
  s[b + S_PENDING_DEBUG_HI] = 0;
  if (halted) s[b + S_ACTIVITY] = HLT;
  info.clear();
  return exits.exit(b, EXIT_REASON.MONITOR_TRAP_FLAG, 0);
}
