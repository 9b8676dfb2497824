/**
 * The end of a successful VM entry in impl/ (SDM Vol. 3C, December 2023, §27.6 "Event Injection"
 * and §27.7 "Special Features of VM Entry"): event injection, the activity state the processor
 * is left in, and the VM exits that happen before the guest's first instruction.
 *
 * A VM entry is *vectoring* when it injects an event of type 0-6 (§27.7). Then:
 * - impl/vm-exit/index.ts `inject` reports the event and updates blocking, and
 *   impl/non-root/event-delivery/ delivers it through the guest IDT (§27.6.1.1 "Details of
 *   Vectored-Event Injection": the RIP pushed is the guest RIP, plus the VM-entry instruction
 *   length for types 4, 5 and 6; the gate DPL is checked against the CPL for types 4 and 6, as
 *   INT n, INT3 and INTO do; the error code when bit 11 asks for one; RFLAGS pushed as loaded);
 *   what delivery does not model answers STATUS_DELIVERY_UNIMPLEMENTED;
 * - the processor is active whatever the activity-state field says (§27.7.2 "Activity State");
 * - there are no pending debug exceptions unless a software interrupt or exception is injected
 *   under blocking by MOV SS (§27.7.3 "Delivery of Pending Debug Exceptions after VM Entry");
 * - the VM exits below follow the delivery ("these VM exits follow event injection",
 *   §27.7.4-§27.7.7) and save the state of the guest's handler: TPR below threshold, then the
 *   MTF VM exit "monitor trap flag" makes pending before the first instruction after a vectoring
 *   entry (§26.5.2 "Monitor Trap Flag"), the preemption timer, the NMI window (no NMI blocking:
 *   an injected NMI blocks), the interrupt window (RFLAGS.IF as the delivery left it). Pending
 *   debug exceptions kept by a software interrupt or exception under MOV-SS blocking, and a
 *   virtual interrupt, answer STATUS_ENTRY_EVENT_UNIMPLEMENTED ({@link EntryEvents.unimplementedWhat}).
 *
 * A VM entry that is not vectoring (nothing injected, or a pending MTF VM exit, type 7) ends in
 * the activity state of the guest-state field (§27.7.2), and then, in this priority order (the
 * priorities §26.2 "Other Causes of VM Exits", §26.5.2 "Monitor Trap Flag" and §27.7.3-§27.7.8
 * give each pair), the first of these that applies happens before any guest instruction:
 * 1. TPR below threshold (reason 43; §27.7.7 "VM Exits Induced by the TPR Threshold"): "use TPR
 *    shadow" 1, "virtual-interrupt delivery" 0, TPR threshold[3:0] > VTPR[7:4]; not blocked by
 *    RFLAGS.IF or the interruptibility state; wakes HLT, does not occur in shutdown or
 *    wait-for-SIPI. It has priority over SMIs, INIT and lower events, so over all below.
 * 2. The pending MTF VM exit an "other event" injects (reason 37; §27.6.2 "Injection of Pending
 *    MTF VM Exits", §27.7.8 "Pending MTF VM Exits"): below SMI and INIT, above debug traps; not
 *    blocked in HLT (§28.1 "Architectural State before a VM Exit"; the checks allow this
 *    injection in no other inactive state).
 * 3. Pending debug exceptions (§27.7.3): none in shutdown or wait-for-SIPI; valid when BS (14) or
 *    the enabled-breakpoint bit (12) is set; held (impl/: lost when the first instruction
 *    completes) under blocking by MOV SS; otherwise a #DB with the priority of a trap on the
 *    previous instruction, a VM exit when bit 1 of the exception bitmap is 1 (reason 0; exit
 *    qualification B3-B0, BS and RTM from the field, §28.2.1 "Basic VM-Exit Information";
 *    interruption information vector 1, hardware exception). Otherwise the #DB is delivered
 *    through the guest IDT (a HLT state wakes), updating DR6 "normally" (impl/: B3-B0 and BS
 *    set, RTM (bit 16) cleared for an RTM exception); after it the MTF VM exit when "monitor trap
 *    flag" is 1 ("a pending event ... delivered before an instruction can execute", §26.5.2), then
 *    the VM exits 4-6 below at the handler's first instruction.
 * 4. VMX-preemption timer value 0 with "activate VMX-preemption timer" 1 (reason 52; §27.7.4
 *    "VMX-Preemption Timer", §26.2: below debug traps, above NMI-window exits; wakes HLT and
 *    shutdown, does not occur in wait-for-SIPI).
 * 5. NMI-window exiting (reason 8; §27.7.6 "NMI-Window Exiting", §26.2): no virtual-NMI blocking
 *    and no blocking by MOV SS; blocking by STI may also prevent it, and in impl/ it does; wakes
 *    HLT and shutdown, not wait-for-SIPI.
 * 6. Interrupt-window exiting (reason 7; §27.7.5 "Interrupt-Window Exiting and Virtual-Interrupt
 *    Delivery", §26.2): RFLAGS.IF = 1 and no blocking by STI or MOV SS; wakes HLT, does not occur
 *    in shutdown or wait-for-SIPI. With "interrupt-window exiting" 0 and "virtual-interrupt
 *    delivery" 1, a virtual interrupt (RVI[7:4] > VPPR[7:4], VPPR at byte A0H of the
 *    virtual-APIC page) is delivered at that priority through the guest IDT: not modelled.
 *
 * A VM exit here saves the activity state the entry left (HLT stays HLT: "a return to the active
 * state occurs only after the VM exit completes", §28.1), RFLAGS.RF as loaded (§28.3.3), and the
 * pending debug exceptions as §28.3.4 "Saving Non-Register State" says (kept for reasons 37 and
 * 43, under MOV-SS blocking for an exit not caused by #DB; cleared otherwise). When none applies
 * and the state is inactive, the processor stays there: every later instruction of it is observed
 * as `inactive` (impl/non-root/activity.ts), since the contract has no event that wakes it.
 */
import { PIN_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { INTERRUPTION_TYPE } from '../../spec/control-field-formats.ts';
import { EXIT_INTERRUPTION_INFO, EXIT_INTERRUPTION_TYPE } from '../../spec/exit-interruption-information.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { ACTIVITY_STATE, INTERRUPTIBILITY, PENDING_DEBUG, RFLAGS } from '../../spec/guest-state-bits.ts';
import type { Profile } from '../../spec/profile.ts';
import { S_ACTIVITY, S_BLOCKING, S_DR6_LO, S_MOV_SS, S_PENDING_DEBUG_HI, S_PENDING_DEBUG_LO } from '../cpu-row.ts';
import type { PhysicalMemory } from '../memory.ts';
import { DELIVER_ERROR_CODE, DELIVER_SOFTWARE, type EventDelivery } from '../non-root/event-delivery/index.ts';
import { STATUS_ENTRY_EVENT_UNIMPLEMENTED, STATUS_VMENTRY } from '../status.ts';
import { EXIT_INFO_BEFORE_INSTRUCTION, EXIT_INFO_INTERRUPTION, EXIT_INFO_QUALIFICATION, type ExitInfo } from '../vm-exit/exit-info.ts';
import type { VmExits } from '../vm-exit/index.ts';
import { nonRootWordsFor, type NonRootWords } from '../non-root/words.ts';
import { assertLiterals } from '../literals.ts';

const HLT = Number(ACTIVITY_STATE.HLT);
const WAIT_FOR_SIPI = Number(ACTIVITY_STATE.WAIT_FOR_SIPI);
const TYPE_NMI = Number(INTERRUPTION_TYPE.NMI);
const TYPE_SOFTWARE_INTERRUPT = Number(INTERRUPTION_TYPE.SOFTWARE_INTERRUPT);
const TYPE_SOFTWARE_EXCEPTION = Number(INTERRUPTION_TYPE.SOFTWARE_EXCEPTION);
const TYPE_PRIVILEGED_SOFTWARE_EXCEPTION = Number(INTERRUPTION_TYPE.PRIVILEGED_SOFTWARE_EXCEPTION);
const TYPE_OTHER_EVENT = Number(INTERRUPTION_TYPE.OTHER_EVENT);

const STI = 1 << INTERRUPTIBILITY.BLOCKING_BY_STI;
const MOV_SS = 1 << INTERRUPTIBILITY.BLOCKING_BY_MOV_SS;
const NMI_BLOCKING = 1 << INTERRUPTIBILITY.BLOCKING_BY_NMI;
const IF = 1 << RFLAGS.IF;
/** Pending-debug-exception bits: enabled breakpoint (12), BS (14), RTM (16). */
const ENABLED_BREAKPOINT = 1 << 12;
const BS = 1 << PENDING_DEBUG.BS;
const RTM = 1 << 16;
/** Bits the #DB exit qualification takes from the pending debug exceptions: B3-B0, BS, RTM (§28.2.1). */
const DEBUG_QUALIFICATION = 0xf | BS | RTM;
/** Debug exception (#DB). */
const VECTOR_DB = 1;
const DEBUG_EXIT_INFORMATION =
  (VECTOR_DB << EXIT_INTERRUPTION_INFO.VECTOR.lsb) |
  (EXIT_INTERRUPTION_TYPE.HARDWARE_EXCEPTION << EXIT_INTERRUPTION_INFO.TYPE.lsb) |
  (1 << EXIT_INTERRUPTION_INFO.VALID.lsb);
/** VTPR and VPPR: bytes 80H and A0H of the virtual-APIC page (§30.1 "Virtual Apic State"). */
const VTPR_OFFSET = 0x80;
const VPPR_OFFSET = 0xa0;

const on = (value: number, position: number): boolean => ((value >>> position) & 1) === 1;

/**
 * The fast path's masks as literals (a const enum: esbuild writes each use as a literal, where an
 * imported or module-level constant is a load and a check at every use; impl/README.md "The fast
 * paths of VM entry and VM exit"). Checked against spec/ when the module loads (end of the file).
 */
const enum Quiet {
  /** "Use TPR shadow" (21; "virtual-interrupt delivery" needs it, a VM-entry check), "NMI-window exiting" (22), "interrupt-window exiting" (2). */
  PRIMARY_EVENT_CONTROLS = (1 << 21) | (1 << 22) | (1 << 2),
  /** "Activate VMX-preemption timer" (6). */
  PIN_TIMER = 1 << 6,
  /** Pending-debug-exception bits that make a #DB pending: enabled breakpoint (12), BS (14). */
  PENDING_DEBUG_VALID = (1 << 12) | (1 << 14),
  S_ACTIVITY = 59,
  S_PENDING_DEBUG_LO = 56,
}

/** What a VM entry leaves pending, for one machine (see the file header). */
export class EntryEvents {
  private readonly w: NonRootWords;
  /** What the last STATUS_ENTRY_EVENT_UNIMPLEMENTED did not implement. */
  unimplementedWhat = '';

  constructor(
    profile: Profile,
    private readonly s: Int32Array,
    private readonly memory: PhysicalMemory,
    private readonly info: ExitInfo,
    private readonly exits: VmExits,
    private readonly delivery: EventDelivery,
  ) {
    this.w = nonRootWordsFor(profile);
  }

  /**
   * The end of a VM entry of the processor at row `b` into the VMCS at `base`, after guest-state
   * and MSR loading: STATUS_VMENTRY (the guest runs, or waits in an inactive state), the outcome
   * of a VM exit before the first guest instruction, or an unimplemented status.
   */
  afterEntry(b: number, base: number): number {
    const s = this.s;
    const v = this.memory.words;
    const w = this.w;
    const injection = v[base + w.VM_ENTRY_INTERRUPTION_INFORMATION] as number;
    // The common case in one test: nothing injected (valid bit 0), the active state, no pending
    // debug exception, and none of the controls that cause a VM exit at the end of a VM entry
    // (TPR shadow, NMI and interrupt windows, preemption timer). Then nothing below applies: the
    // guest runs. The same outcome as the full evaluation, which follows for everything else.
    if (
      injection >= 0 &&
      ((v[base + w.GUEST_ACTIVITY_STATE] as number) & 3) === 0 &&
      ((v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number) & Quiet.PRIMARY_EVENT_CONTROLS) === 0 &&
      ((v[base + w.PIN_BASED_CONTROLS] as number) & Quiet.PIN_TIMER) === 0 &&
      ((s[b + Quiet.S_PENDING_DEBUG_LO] as number) & Quiet.PENDING_DEBUG_VALID) === 0
    ) {
      this.exits.injectedInformation = 0;
      s[b + Quiet.S_ACTIVITY] = 0;
      return STATUS_VMENTRY;
    }
    const type = (injection >>> 8) & 7;
    const interruptibility = v[base + w.GUEST_INTERRUPTIBILITY_STATE] as number;
    if (injection < 0 && type !== TYPE_OTHER_EVENT) return this.afterVectoringEntry(b, base, type, interruptibility);
    this.exits.injectedInformation = 0;
    // §27.7.2: the activity state of the field (the checks allow 0-3 only).
    const activity = (v[base + w.GUEST_ACTIVITY_STATE] as number) & 3;
    s[b + S_ACTIVITY] = activity;
    // Events that wake HLT and do not occur in shutdown or wait-for-SIPI.
    const awake = activity <= HLT;
    // §27.7.3: no pending debug exceptions after an entry into shutdown or wait-for-SIPI.
    if (!awake) {
      s[b + S_PENDING_DEBUG_LO] = 0;
      s[b + S_PENDING_DEBUG_HI] = 0;
    }
    if (awake && this.tprBelowThreshold(base)) return this.exitBeforeInstruction(b, EXIT_REASON.TPR_BELOW_THRESHOLD);
    if (injection < 0) return this.exitBeforeInstruction(b, EXIT_REASON.MONITOR_TRAP_FLAG);
    const blocked = interruptibility & (STI | MOV_SS);
    const pending = s[b + S_PENDING_DEBUG_LO] as number;
    if ((interruptibility & MOV_SS) === 0 && (pending & (BS | ENABLED_BREAKPOINT)) !== 0) {
      if (!on(v[base + w.EXCEPTION_BITMAP] as number, VECTOR_DB)) return this.deliverPendingDebug(b, base, pending);
      const info = this.info;
      info.clear();
      info.qualificationLo = pending & DEBUG_QUALIFICATION;
      info.interruptionInformation = DEBUG_EXIT_INFORMATION;
      info.defined = EXIT_INFO_BEFORE_INSTRUCTION | EXIT_INFO_QUALIFICATION | EXIT_INFO_INTERRUPTION;
      return this.exits.exit(b, EXIT_REASON.EXCEPTION_OR_NMI, s[b + S_MOV_SS] as number);
    }
    if (activity !== WAIT_FOR_SIPI && this.timerExpired(base)) return this.exitBeforeInstruction(b, EXIT_REASON.PREEMPTION_TIMER_EXPIRED);
    const primary = v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number;
    // "NMI-window exiting" needs "virtual NMIs" (a control check), so bit 3 is virtual-NMI blocking.
    if (activity !== WAIT_FOR_SIPI && on(primary, PRIMARY_CONTROL.NMI_WINDOW_EXITING) && (interruptibility & (NMI_BLOCKING | STI | MOV_SS)) === 0) {
      return this.exitBeforeInstruction(b, EXIT_REASON.NMI_WINDOW);
    }
    if (awake && blocked === 0 && ((v[base + w.GUEST_RFLAGS] as number) & IF) !== 0) {
      if (on(primary, PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING)) return this.exitBeforeInstruction(b, EXIT_REASON.INTERRUPT_WINDOW);
      if (this.virtualInterruptPending(base)) return this.unimplemented('a virtual interrupt delivered through the guest IDT after VM entry');
    }
    return STATUS_VMENTRY;
  }

  /** §27.7 for a vectoring entry (see the file header). */
  private afterVectoringEntry(b: number, base: number, type: number, interruptibility: number): number {
    const s = this.s;
    const v = this.memory.words;
    const w = this.w;
    const status = this.exits.inject(b, base);
    s[b + S_ACTIVITY] = 0;
    const software = type === TYPE_SOFTWARE_INTERRUPT || type === TYPE_SOFTWARE_EXCEPTION;
    const movSs = (interruptibility & MOV_SS) !== 0;
    if (!software || !movSs) {
      s[b + S_PENDING_DEBUG_LO] = 0;
      s[b + S_PENDING_DEBUG_HI] = 0;
    }
    if (status !== STATUS_VMENTRY) return status;
    // §27.6.1.1: types 4, 5, 6 push RIP + the VM-entry instruction length; 4 and 6 check the gate DPL.
    const injection = v[base + w.VM_ENTRY_INTERRUPTION_INFORMATION] as number;
    const length = software || type === TYPE_PRIVILEGED_SOFTWARE_EXCEPTION ? (v[base + w.VM_ENTRY_INSTRUCTION_LENGTH] as number) : 0;
    const flags = ((injection & 0x800) !== 0 ? DELIVER_ERROR_CODE : 0) | (software ? DELIVER_SOFTWARE : 0);
    const delivered = this.delivery.deliver(b, injection & 0xff, flags, v[base + w.VM_ENTRY_EXCEPTION_ERROR_CODE] as number, length);
    if (delivered !== 0) return delivered;
    // The VM exits that follow the delivery, before the handler's first instruction (the
    // delivery's stores may have replaced the memory slab: read it again).
    if (this.tprBelowThreshold(base)) return this.exitBeforeInstruction(b, EXIT_REASON.TPR_BELOW_THRESHOLD);
    const primary = this.memory.words[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number;
    if (on(primary, PRIMARY_CONTROL.MONITOR_TRAP_FLAG)) return this.exitBeforeInstruction(b, EXIT_REASON.MONITOR_TRAP_FLAG);
    if (((s[b + S_PENDING_DEBUG_LO] as number) & (BS | ENABLED_BREAKPOINT)) !== 0) {
      return this.unimplemented('pending debug exceptions kept by an injected software interrupt or exception under blocking by MOV SS, after VM entry');
    }
    return this.windowsAfterDelivery(b, base, primary);
  }

  /**
   * §27.7.3: the pending debug exceptions `pending` delivered as a #DB through the guest IDT (the
   * exception bitmap's bit 1 is 0), then the VM exits that follow it (see the file header).
   */
  private deliverPendingDebug(b: number, base: number, pending: number): number {
    const s = this.s;
    const delivered = this.delivery.deliver(b, VECTOR_DB, 0, 0, 0);
    if (delivered !== 0) return delivered;
    // DR6 updated as a #DB normally does: B3-B0 and BS set; RTM (bit 16) is cleared by an RTM #DB.
    const dr6 = (s[b + S_DR6_LO] as number) | (pending & (0xf | BS));
    s[b + S_DR6_LO] = (pending & RTM) !== 0 ? dr6 & ~RTM : dr6;
    s[b + S_PENDING_DEBUG_LO] = 0;
    s[b + S_PENDING_DEBUG_HI] = 0;
    s[b + S_ACTIVITY] = 0;
    // The #DB's delivery ends blocking by STI and by MOV SS, as any delivery through the IDT does
    // (the guest's next instruction is the handler's first).
    s[b + S_BLOCKING] = (s[b + S_BLOCKING] as number) & ~STI;
    s[b + S_MOV_SS] = 0;
    const primary = this.memory.words[base + this.w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number;
    if (on(primary, PRIMARY_CONTROL.MONITOR_TRAP_FLAG)) return this.exitBeforeInstruction(b, EXIT_REASON.MONITOR_TRAP_FLAG);
    return this.windowsAfterDelivery(b, base, primary);
  }

  /**
   * After a delivery at the end of a VM entry: preemption timer 0, NMI window (no NMI blocking;
   * no STI or MOV-SS blocking remains), interrupt window (RFLAGS.IF after the delivery), a
   * virtual interrupt (not modelled); else the guest runs at the handler.
   */
  private windowsAfterDelivery(b: number, base: number, primary: number): number {
    const v = this.memory.words;
    if (this.timerExpired(base)) return this.exitBeforeInstruction(b, EXIT_REASON.PREEMPTION_TIMER_EXPIRED);
    if (on(primary, PRIMARY_CONTROL.NMI_WINDOW_EXITING) && ((this.s[b + S_BLOCKING] as number) & NMI_BLOCKING) === 0) return this.exitBeforeInstruction(b, EXIT_REASON.NMI_WINDOW);
    if (((v[base + this.w.GUEST_RFLAGS] as number) & IF) !== 0) {
      if (on(primary, PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING)) return this.exitBeforeInstruction(b, EXIT_REASON.INTERRUPT_WINDOW);
      if (this.virtualInterruptPending(base)) return this.unimplemented('a virtual interrupt delivered through the guest IDT after VM entry');
    }
    return STATUS_VMENTRY;
  }

  /** A VM exit before the first guest instruction with no exit information besides the reason. */
  private exitBeforeInstruction(b: number, reason: number): number {
    const info = this.info;
    info.clear();
    info.defined = EXIT_INFO_BEFORE_INSTRUCTION;
    return this.exits.exit(b, reason, this.s[b + S_MOV_SS] as number);
  }

  private unimplemented(what: string): number {
    this.unimplementedWhat = what;
    return STATUS_ENTRY_EVENT_UNIMPLEMENTED;
  }

  /** §27.7.4: "activate VMX-preemption timer" 1 and the timer value 0. */
  private timerExpired(base: number): boolean {
    const v = this.memory.words;
    const w = this.w;
    return on(v[base + w.PIN_BASED_CONTROLS] as number, PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER) && w.VMX_PREEMPTION_TIMER_VALUE >= 0 && this.field(base, w.VMX_PREEMPTION_TIMER_VALUE) === 0;
  }

  /** The secondary control at `position` is 1 and the secondary controls are active. */
  private secondary(base: number, position: number): boolean {
    const v = this.memory.words;
    const w = this.w;
    return on(v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) && w.SECONDARY_PROCESSOR_BASED_CONTROLS >= 0 && on(v[base + w.SECONDARY_PROCESSOR_BASED_CONTROLS] as number, position);
  }

  /** Bits 31:0 of a field the profile may lack (0 then: its control is never 1 there). */
  private field(base: number, word: number): number {
    return word < 0 ? 0 : (this.memory.words[base + word] as number);
  }

  /** A byte of the virtual-APIC page (read from memory at each entry; never-written memory reads 0). */
  private apicByte(base: number, offset: number): number {
    const v = this.memory.words;
    const at = this.w.VIRTUAL_APIC_ADDRESS;
    return this.memory.read32((this.field(base, at) & ~0xfff) + offset, at < 0 ? 0 : (v[base + at + 1] as number)) & 0xff;
  }

  /** §27.7.7: "use TPR shadow" 1, "virtual-interrupt delivery" 0, TPR threshold[3:0] > VTPR[7:4]. */
  private tprBelowThreshold(base: number): boolean {
    const v = this.memory.words;
    const w = this.w;
    if (!on(v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number, PRIMARY_CONTROL.USE_TPR_SHADOW)) return false;
    if (this.secondary(base, SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY)) return false;
    return (this.field(base, w.TPR_THRESHOLD) & 0xf) > this.apicByte(base, VTPR_OFFSET) >>> 4;
  }

  /** §27.7.5: "virtual-interrupt delivery" 1 and RVI[7:4] > VPPR[7:4] (a virtual interrupt is recognized). */
  private virtualInterruptPending(base: number): boolean {
    if (!this.secondary(base, SECONDARY_CONTROL.VIRTUAL_INTERRUPT_DELIVERY)) return false;
    const rvi = this.field(base, this.w.GUEST_INTERRUPT_STATUS) & 0xff;
    return rvi >>> 4 > this.apicByte(base, VPPR_OFFSET) >>> 4;
  }
}

// The literals of Quiet are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-entry/pending-events.ts', [
  [
    Quiet.PRIMARY_EVENT_CONTROLS,
    (1 << PRIMARY_CONTROL.USE_TPR_SHADOW) | (1 << PRIMARY_CONTROL.NMI_WINDOW_EXITING) | (1 << PRIMARY_CONTROL.INTERRUPT_WINDOW_EXITING),
  ],
  [Quiet.PIN_TIMER, 1 << PIN_CONTROL.ACTIVATE_VMX_PREEMPTION_TIMER],
  [Quiet.PENDING_DEBUG_VALID, ENABLED_BREAKPOINT | BS],
  [Quiet.S_ACTIVITY, S_ACTIVITY],
  [Quiet.S_PENDING_DEBUG_LO, S_PENDING_DEBUG_LO],
]);
