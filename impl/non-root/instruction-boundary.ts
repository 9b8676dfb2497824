/**
 * The VM exits at the instruction boundary after a guest instruction that completed (SDM Vol. 3C,
 * December 2023), in their priority order; the first that applies is the instruction's
 * observation, with guest RIP past the instruction:
 * 1. MTF (reason 37; §26.5.2 "Monitor Trap Flag"): with the "monitor trap flag" VM-execution
 *    control 1, an instruction that completes without a fault makes an MTF VM exit pending on
 *    the boundary after it. It has priority over debug traps and everything below.
 * 2. NMI window (reason 8; §26.2 "Other Causes of VM Exits"): "NMI-window exiting" 1, no
 *    virtual-NMI blocking, no blocking by MOV SS (and, impl/'s choice where the SDM lets a
 *    processor decide, none by STI).
 * 3. Interrupt window (reason 7; §26.2): "interrupt-window exiting" 1, RFLAGS.IF = 1, no blocking
 *    by STI or MOV SS.
 * The windows can open here only because the instruction ended blocking by STI or MOV SS
 * (§27.7.1 "Interruptibility State"): no guest operation changes RFLAGS.IF or virtual-NMI
 * blocking, and an open window at the previous boundary already made its VM exit there
 * (impl/vm-entry/pending-events.ts after a VM entry). The VMX-preemption timer does not count in
 * impl/ (no time passes), so it causes no VM exit here. Events of higher priority decide first:
 * a VM exit the instruction itself causes, including the trap-like TPR-below-threshold exit of
 * MOV to CR8 (priority over SMIs and INIT, so over MTF), leaves none of these.
 *
 * What the exit saves (§28.3):
 * - RFLAGS.RF 0: the instruction completed, and completion clears RF ("the value RFLAGS.RF had
 *   before the VM exit occurred", §28.3.3);
 * - the activity state HLT after an HLT that completed: MTF VM exits are not blocked in the HLT
 *   activity state, the window exits wake it, and the processor returns to the active state
 *   only after the VM exit (§28.1 "Architectural State before a VM Exit"); active otherwise
 *   (MWAIT's state is never reflected in the field, §25.4.2);
 * - no blocking by MOV SS or STI (they end when an instruction completes);
 * - pending debug exceptions (an MTF exit keeps them, §28.3.4 "Saving Non-Register State"; the
 *   window exits clear them): the single-step trap the instruction made pending, BS (bit 14),
 *   when RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0 (MTF VM exits take priority over debug traps);
 *   no guest operation here is a branch or touches a data breakpoint, so nothing else.
 *
 * An instruction that faults makes the MTF VM exit pending after the fault's delivery through
 * the guest IDT, which impl/ does not model: the fault stays the observation and no MTF VM exit
 * follows. Not modelled either: the single-step #DB trap itself when no MTF VM exit precedes it
 * (impl/ delivers no debug traps after guest instructions), and a virtual interrupt recognized
 * once blocking ends ("virtual-interrupt delivery").
 */
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { ACTIVITY_STATE, DEBUGCTL, INTERRUPTIBILITY, PENDING_DEBUG, RFLAGS } from '../../spec/guest-state-bits.ts';
import { S_ACTIVITY, S_BLOCKING, S_CUR_BASE, S_DEBUGCTL_LO, S_IN_VMX, S_MOV_SS, S_PENDING_DEBUG_HI, S_PENDING_DEBUG_LO } from '../cpu-row.ts';
import { STATUS_FAIL_INVALID } from '../status.ts';
import type { NonRootWords } from './words.ts';
import type { ExitInfo } from '../vm-exit/exit-info.ts';
import type { VmExits } from '../vm-exit/index.ts';
import { NON_ROOT } from './context.ts';

const HLT = Number(ACTIVITY_STATE.HLT);
const TF = 1 << RFLAGS.TF;
const IF = 1 << RFLAGS.IF;
const BTF = 1 << DEBUGCTL.BTF;
const BS = 1 << PENDING_DEBUG.BS;
/** Blocking kept in S_BLOCKING: by STI, by NMI (virtual-NMI blocking under "virtual NMIs"). */
const STI = 1 << INTERRUPTIBILITY.BLOCKING_BY_STI;
const NMI_BLOCKING = 1 << INTERRUPTIBILITY.BLOCKING_BY_NMI;

const on = (value: number, position: number): boolean => ((value >>> position) & 1) === 1;

/** "Monitor trap flag", "NMI-window exiting", "interrupt-window exiting": the controls of the exits here. */
const BOUNDARY_CONTROLS =
  (1 << PRIMARY_CONTROL.MONITOR_TRAP_FLAG) | (1 << PRIMARY_CONTROL.NMI_WINDOW_EXITING) | (1 << PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING);

/**
 * After an instruction of the processor at row `b` completed (guest RIP advanced) with `status`:
 * the VM exit at the boundary after it when one applies (its status: STATUS_VMEXIT or a VMX
 * abort), else `status`. `halted` says the instruction was HLT. `v` is physical memory's words.
 */
export function exitAfterInstruction(
  s: Int32Array,
  v: Int32Array,
  w: NonRootWords,
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
  const primary = v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number;
  // The common case in one test: none of the three controls is 1, no VM exit at this boundary.
  if ((primary & BOUNDARY_CONTROLS) === 0) return status;
  const blocking = (s[b + S_BLOCKING] as number) | (s[b + S_MOV_SS] === 1 ? 2 : 0);
  let reason: number;
  if (on(primary, PRIMARY_CONTROL.MONITOR_TRAP_FLAG)) {
    const singleStep = ((v[base + w.GUEST_RFLAGS] as number) & TF) !== 0 && ((s[b + S_DEBUGCTL_LO] as number) & BTF) === 0;
    s[b + S_PENDING_DEBUG_LO] = singleStep ? BS : 0;
    s[b + S_PENDING_DEBUG_HI] = 0;
    reason = EXIT_REASON.MONITOR_TRAP_FLAG;
  } else if (on(primary, PRIMARY_CONTROL.NMI_WINDOW_EXITING) && (blocking & (NMI_BLOCKING | STI | 2)) === 0) {
    reason = EXIT_REASON.NMI_WINDOW;
  } else if (on(primary, PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING) && (blocking & (STI | 2)) === 0 && ((v[base + w.GUEST_RFLAGS] as number) & IF) !== 0) {
    reason = EXIT_REASON.INTERRUPT_WINDOW;
  } else {
    return status;
  }
  if (halted) s[b + S_ACTIVITY] = HLT;
  info.clear();
  return exits.exit(b, reason, 0);
}
