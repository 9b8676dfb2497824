/**
 * VM exits in impl/ (SDM Vol. 3C, December 2023, chapter 28 "VM Exits"), VM-entry failures after
 * the guest-state checks began (§27.8 "VM-Entry Failures During or After Loading Guest State"),
 * and the parts of VM entry a VM exit later depends on (guest RIP and the other tracked guest
 * state, event injection), for one machine.
 *
 * A VM exit, in the SDM's order:
 * 1. §28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields" (record.ts), from
 *    the {@link ExitInfo} record the exiting instruction filled;
 * 2. §28.3 "Saving Guest State" (save-guest.ts);
 * 3. §28.4 "Saving MSRs" (msr-areas.ts; a failure is VMX abort 1);
 * 4. §28.5 "Loading Host State" (impl/vm-entry/load-host.ts; VMX abort 6 when the guest was in
 *    IA-32e mode and "host address-space size" is 0, checked first; VMX abort 2 for bad host
 *    PDPTEs);
 * 5. §28.6 "Loading MSRs" (msr-areas.ts; a failure is VMX abort 4);
 * 6. §28.7 "VMX Aborts" on any failure: the indicator at byte 4 of the VMCS region, the processor
 *    shut down.
 *
 * Event injection (§27.6 "Event Injection"): impl/ reports the injected event (vector, type,
 * error code) with the VM entry; impl/vm-entry/pending-events.ts delivers it through the guest
 * IDT. What injection does to blocking is modelled (§27.7.1 "Interruptibility
 * State": no blocking by STI or MOV SS after a vectoring entry; an injected NMI blocks NMIs). An
 * "other event" injection (type 7, vector 0) makes an MTF VM exit pending before the first guest
 * instruction (§27.6.2 "Injection of Pending MTF VM Exits", §26.5.2 "Monitor Trap Flag"):
 * impl/vm-entry/pending-events.ts performs it, in its priority among the VM exits a VM entry may
 * end in, as the outcome of the VMLAUNCH/VMRESUME. Delivery of a vectored event through the
 * guest IDT, and the MTF VM exit "monitor trap flag" makes pending after it, are
 * impl/vm-entry/pending-events.ts's (with impl/non-root/event-delivery/).
 */
import { EXIT_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { INTERRUPTIBILITY } from '../../spec/guest-state-bits.ts';
import type { Profile } from '../../spec/profile.ts';
import { REGION_ABORT_WORD } from '../field-table.ts';
import type { PhysicalMemory } from '../memory.ts';
import {
  STATUS_ENTRY_FAILURE,
  STATUS_VMENTRY,
  STATUS_VMEXIT,
  STATUS_VMX_ABORT,
} from '../status.ts';
import { entryFactsFor, type EntryFacts } from '../vm-entry/facts.ts';
import { loadHostState } from '../vm-entry/load-host.ts';
import { loadTrackedGuestState } from '../vm-entry/load-guest.ts';
import { loadHostDescriptorTables } from '../non-root/hidden-state.ts';
import { nonRootWordsFor, type NonRootWords } from '../non-root/words.ts';
import { exitFactsFor, type ExitFacts } from './exit-facts.ts';
import { EXIT_INFO_BEFORE_INSTRUCTION, EXIT_INFO_INTERRUPTION, type ExitInfo } from './exit-info.ts';
import { ABORT_HOST_ADDRESS_SPACE, loadExitMsrs, storeExitMsrs } from './msr-areas.ts';
import { recordEntryFailure, recordExitInformation } from './record.ts';
import { assertLiterals } from '../literals.ts';
import { saveGuestState } from './save-guest.ts';

/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  S_BLOCKING = 55,
  S_CUR_BASE = 17,
  S_DR7_LO = 35,
  S_FLAGS = 10,
  S_LMA = 5,
  S_MOV_SS = 9,
  S_PAT_HI = 43,
  S_PAT_LO = 42,
  S_PENDING_DEBUG_HI = 57,
  S_PENDING_DEBUG_LO = 56,
  S_SHUTDOWN = 58,
  S_WIDE = 19,
  EXIT_CONTROL_HOST_ADDRESS_SPACE_SIZE = 9,
  EXIT_REASON_MONITOR_TRAP_FLAG = 37,
  EXIT_REASON_TPR_BELOW_THRESHOLD = 43,
  /** ExitInfo.defined: a VM exit before the first guest instruction (impl/vm-exit/exit-info.ts). */
  EXIT_INFO_BEFORE_INSTRUCTION = 64,
  EXIT_INFO_INTERRUPTION = 16,
  STATUS_VMEXIT = -7,
  INTERRUPTIBILITY_BLOCKING_BY_NMI = 3,
  INTERRUPTIBILITY_BLOCKING_BY_STI = 0,
  /** IA32_PAT after reset: 0007040600070406H (Vol. 3A §13.12.4 "Programming the PAT"). */
  PAT_RESET_LO = 0x70406,
  PAT_RESET_HI = 0x70406,
  /** DR7 after reset: 400H. */
  DR7_RESET = 0x400,
  VALID = -0x80000000,
  TYPE_SHIFT = 8,
  TYPE_NMI = 2,
  TYPE_HARDWARE_EXCEPTION = 3,
  ERROR_CODE_BIT = 0x800,
  /** Debug exception (#DB). */
  VECTOR_DB = 1,
  BLOCKING_BY_STI = 1,
  BLOCKING_BY_NMI = 8,
}

export { ExitInfo } from './exit-info.ts';
export * from './exit-info.ts';
export { exitFactsFor, type ExitFacts } from './exit-facts.ts';


/**
 * Fault-class exception vectors (Vol. 3A §6.15 "Exception and Interrupt Reference", Table 6-1):
 * #DE, #BR, #UD, #NM, #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP. Their delivery pushes
 * RFLAGS with RF = 1 (Vol. 3A §18.3.1.1 "Instruction-Breakpoint Exception Condition"), so a VM
 * exit they cause saves RF = 1 (§28.3.3). #DB is left out (an instruction breakpoint pushes the
 * current RF), as are the traps and aborts.
 */
const FAULT_VECTORS = [0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21].reduce((mask, vector) => mask | (1 << vector), 0);

/** Row words a fresh processor needs besides those impl/machine/base.ts sets. */
export function initialiseTrackedState(s: Int32Array, b: number): void {
  s[b + K.S_DR7_LO] = K.DR7_RESET;
  s[b + K.S_PAT_LO] = K.PAT_RESET_LO;
  s[b + K.S_PAT_HI] = K.PAT_RESET_HI;
}

/**
 * Adds `length` to the guest RIP of the processor at row `b` for a guest instruction that
 * completed. The guest RIP is the current VMCS's guest-RIP field (word `ripWord` of its region
 * in `v`), where VM entry found it and a VM exit saves it from (§28.3.3). 64 bits in 64-bit mode,
 * else 32 bits (EIP wraps; impl/ treats every code segment outside 64-bit mode as 32-bit). A
 * completed instruction also ends blocking by STI and by MOV SS (§27.7.1 "Interruptibility
 * State") and delivers or loses the pending debug exceptions VM entry loaded.
 */
export function advanceGuestRip(s: Int32Array, b: number, v: Int32Array, ripWord: number, length: number): void {
  const at = (s[b + K.S_CUR_BASE] as number) + ripWord;
  const sum = ((v[at] as number) >>> 0) + length;
  v[at] = sum | 0;
  if (s[b + K.S_WIDE] === 1) {
    if (sum > 0xffff_ffff) v[at + 1] = ((v[at + 1] as number) + 1) | 0;
  } else {
    v[at + 1] = 0;
  }
  s[b + K.S_BLOCKING] = (s[b + K.S_BLOCKING] as number) & ~K.BLOCKING_BY_STI;
  s[b + K.S_MOV_SS] = 0;
  s[b + K.S_PENDING_DEBUG_LO] = 0;
  s[b + K.S_PENDING_DEBUG_HI] = 0;
}

/** VM exits, VM-entry failures and the entry's tracked state for one machine. */
export class VmExits {
  private readonly entry: EntryFacts;
  private readonly facts: ExitFacts;
  /** Where the host GDTR/IDTR bases and TR selector are (impl/non-root/hidden-state.ts). */
  private readonly tableWords: NonRootWords;
  /** Scratch for MSR-area addresses and values (no allocation per exit). */
  private readonly scratch = new Int32Array(4);
  /** The VM-entry interruption information of the last VM entry that injected an event (bit 31 set), else 0. */
  injectedInformation = 0;
  /** Its error code (meaningful when bit 11 of {@link injectedInformation} is set). */
  injectedErrorCode = 0;

  constructor(
    profile: Profile,
    private readonly s: Int32Array,
    private readonly memory: PhysicalMemory,
    private readonly info: ExitInfo,
    /** [0] exit reason, [1], [2] qualification halves, as ImplMachine reports them. */
    private readonly last: Int32Array,
  ) {
    this.entry = entryFactsFor(profile);
    this.facts = exitFactsFor(profile);
    this.tableWords = nonRootWordsFor(profile);
  }

  /**
   * The VM exit of the processor at row `b` with basic exit reason `reason`, from VMX non-root
   * operation with the current VMCS; `movSsBlocked` is the blocking by MOV SS before the exiting
   * instruction. Consumes {@link ExitInfo} (its `defined` bits are reset).
   */
  exit(b: number, reason: number, movSsBlocked: number): number {
    const s = this.s;
    const memory = this.memory;
    const v = memory.words;
    const info = this.info;
    const x = this.facts;
    const base = s[b + K.S_CUR_BASE] as number;
    // §28.3.3: RF is 1 for a fault-class hardware exception, 0 for an instruction's VM exit, and
    // for a VM exit before the first guest instruction (impl/vm-entry/pending-events.ts) the value
    // VM entry loaded.
    let rf = (info.defined & K.EXIT_INFO_BEFORE_INSTRUCTION) !== 0 ? ((v[base + x.words.GUEST_RFLAGS] as number) >>> 16) & 1 : 0;
    // §28.3.4: the pending debug exceptions survive an MTF VM exit, a TPR-below-threshold VM exit,
    // and an exit not caused by a debug exception under MOV-SS blocking.
    const keep = reason === K.EXIT_REASON_MONITOR_TRAP_FLAG || reason === K.EXIT_REASON_TPR_BELOW_THRESHOLD;
    let debugException = false;
    if ((info.defined & K.EXIT_INFO_INTERRUPTION) !== 0) {
      const interruption = info.interruptionInformation;
      const hardware = ((interruption >>> K.TYPE_SHIFT) & 7) === K.TYPE_HARDWARE_EXCEPTION && (interruption & 0xe0) === 0;
      if (hardware && ((FAULT_VECTORS >>> (interruption & 31)) & 1) === 1) rf = 1;
      debugException = hardware && (interruption & 0xff) === K.VECTOR_DB;
    }
    recordExitInformation(x, v, base, reason, info);
    info.defined = 0;
    saveGuestState(x, s, b, v, base, movSsBlocked, rf, keep || (movSsBlocked === 1 && !debugException));
    const last = this.last;
    last[0] = reason;
    last[1] = v[base + x.words.EXIT_QUALIFICATION] as number;
    last[2] = v[base + x.words.EXIT_QUALIFICATION + 1] as number;
    const stored = storeExitMsrs(x, s, b, memory, base, this.scratch);
    if (stored !== 0) return this.abort(b, base, stored);
    const exitControls = v[base + x.words.PRIMARY_VM_EXIT_CONTROLS] as number;
    if (s[b + K.S_LMA] === 1 && ((exitControls >>> K.EXIT_CONTROL_HOST_ADDRESS_SPACE_SIZE) & 1) === 0) {
      return this.abort(b, base, ABORT_HOST_ADDRESS_SPACE);
    }
    return this.finish(b, base, K.STATUS_VMEXIT);
  }

  /**
   * A VM-entry failure with basic reason 33 or 34 (§27.8): the exit reason (bit 31 set) and
   * qualification, host state as on a VM exit, the VM-exit MSR-load area; nothing is saved.
   */
  entryFailure(b: number, base: number, basicReason: number, qualification: number): number {
    const reason = (basicReason | 0x8000_0000) | 0;
    recordEntryFailure(this.facts, this.memory.words, base, reason, qualification);
    const last = this.last;
    last[0] = reason;
    last[1] = qualification;
    last[2] = 0;
    return this.finish(b, base, STATUS_ENTRY_FAILURE);
  }

  /** Host-state loading and the VM-exit MSR-load area, then `status`, or a VMX abort. */
  private finish(b: number, base: number, status: number): number {
    const loaded = loadHostState(this.entry, this.facts, this.s, b, this.memory, base);
    loadHostDescriptorTables(this.memory, this.tableWords, b, base);
    if (loaded !== 0) return this.abort(b, base, loaded);
    const msrs = loadExitMsrs(this.facts, this.s, b, this.memory, base, this.scratch);
    if (msrs !== 0) return this.abort(b, base, msrs);
    return status;
  }

  /** §28.7: the indicator into the VMCS region (byte 4), the processor shut down. */
  private abort(b: number, base: number, indicator: number): number {
    this.memory.words[base + REGION_ABORT_WORD] = indicator;
    this.s[b + K.S_SHUTDOWN] = indicator;
    // RFLAGS of a processor in the shutdown state cannot be observed and the SDM gives it no
    // value; impl/ reports the arithmetic flags clear, as for every VM exit (host RFLAGS = 2).
    this.s[b + K.S_FLAGS] = 0;
    return STATUS_VMX_ABORT;
  }

  /**
   * After a VM entry's guest-state loading (impl/vm-entry/load-guest.ts loadGuestState), before
   * its MSR loading: the rest of the guest state impl/ tracks (loadTrackedGuestState).
   */
  loadGuest(b: number, base: number): void {
    loadTrackedGuestState(this.facts, this.s, b, this.memory.words, base);
  }

  /**
   * Event injection at the end of a successful VM entry (see the file header), for a vectoring
   * entry or none (impl/vm-entry/pending-events.ts handles the "other event", the delivery and
   * what follows): STATUS_VMENTRY.
   */
  inject(b: number, base: number): number {
    const s = this.s;
    const v = this.memory.words;
    const w = this.facts.words;
    const injection = v[base + w.VM_ENTRY_INTERRUPTION_INFORMATION] as number;
    this.injectedInformation = 0;
    if ((injection & K.VALID) === 0) return STATUS_VMENTRY;
    const type = (injection >>> K.TYPE_SHIFT) & 7;
    // §27.7.1: no blocking by STI or MOV SS after a vectoring entry; an injected NMI blocks NMIs
    // (virtual-NMI blocking with "virtual NMIs" = 1; impl/ keeps both in the same bit).
    s[b + K.S_BLOCKING] = ((s[b + K.S_BLOCKING] as number) & ~K.BLOCKING_BY_STI) | (type === K.TYPE_NMI ? K.BLOCKING_BY_NMI : 0);
    s[b + K.S_MOV_SS] = 0;
    this.injectedInformation = injection;
    this.injectedErrorCode = (injection & K.ERROR_CODE_BIT) !== 0 ? (v[base + w.VM_ENTRY_EXCEPTION_ERROR_CODE] as number) : 0;
    return STATUS_VMENTRY;
  }
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/vm-exit/index.ts', [
  [K.EXIT_CONTROL_HOST_ADDRESS_SPACE_SIZE, EXIT_CONTROL.HOST_ADDRESS_SPACE_SIZE],
  [K.EXIT_REASON_MONITOR_TRAP_FLAG, EXIT_REASON.MONITOR_TRAP_FLAG],
  [K.EXIT_REASON_TPR_BELOW_THRESHOLD, EXIT_REASON.TPR_BELOW_THRESHOLD],
  [K.EXIT_INFO_BEFORE_INSTRUCTION, EXIT_INFO_BEFORE_INSTRUCTION],
  [K.EXIT_INFO_INTERRUPTION, EXIT_INFO_INTERRUPTION],
  [K.STATUS_VMEXIT, STATUS_VMEXIT],
  [K.INTERRUPTIBILITY_BLOCKING_BY_NMI, INTERRUPTIBILITY.BLOCKING_BY_NMI],
  [K.INTERRUPTIBILITY_BLOCKING_BY_STI, INTERRUPTIBILITY.BLOCKING_BY_STI],
  [K.BLOCKING_BY_STI, 1 << K.INTERRUPTIBILITY_BLOCKING_BY_STI],
  [K.BLOCKING_BY_NMI, 1 << K.INTERRUPTIBILITY_BLOCKING_BY_NMI],
]);
