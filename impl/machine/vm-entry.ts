/**
 * VMLAUNCH and VMRESUME (SDM Vol. 3C, December 2023, §31.3 "VMLAUNCH/VMRESUME—Launch/Resume
 * Virtual Machine"): the basic checks of §27.1 "Basic VM-Entry Checks", then the phases of
 * impl/vm-entry/ in the SDM's order, and a VM-entry failure through impl/vm-exit/.
 */
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { LAUNCH_STATE_LAUNCHED, REGION_LAUNCH_WORD } from '../field-table.ts';
import { checkControlsAndHost, checkGuestState, loadEntryMsrs, loadGuestState, PASS } from '../vm-entry/index.ts';
import { VMX_EXIT_VMLAUNCH, VMX_EXIT_VMRESUME } from '../non-root/vmx-exit-info.ts';
import { STATUS_ENTRY_FAILURE, STATUS_FAIL_INVALID, STATUS_VMEXIT } from '../status.ts';
import { VmcsFieldInstructions } from './vmcs-fields.ts';
import { assertLiterals } from '../literals.ts';

// Row offsets: local copies of impl/cpu-row.ts (a speed trick, see impl/machine/base.ts);
// test/impl/local-copies.test.ts checks that they agree.
/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  S_LMA = 5,
  S_CUR_LO = 15,
  S_CUR_HI = 16,
  S_CUR_BASE = 17,
  S_GATE = 18,
  S_CUR_SHADOW = 20,
  /** impl/field-table.ts: the launch-state word of a VMCS region and its "launched" value. */
  REGION_LAUNCH_WORD = 2,
  LAUNCH_STATE_LAUNCHED = 1,
  /** impl/vm-entry/ checkGuestState: every guest-state check passed. */
  PASS = -1,
  STATUS_VMEXIT = -7,
}

/** VM entry: VMLAUNCH and VMRESUME. */
export abstract class VmEntryInstructions extends VmcsFieldInstructions {
  /**
   * VMLAUNCH (`resume` false) / VMRESUME (`resume` true) — SDM Vol. 3C, December 2023, §31.3
   * "VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine": the basic checks (§27.1 "Basic VM-Entry
   * Checks"), then the checks on the controls and host state, on the guest state, MSR loading,
   * and guest-state loading (impl/vm-entry/): VMfailValid, STATUS_ENTRY_FAILURE or STATUS_VMENTRY.
   */
  vmlaunch(cpu: number, resume = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + K.S_GATE] as number;
    if (gate !== 0) return gate === K.STATUS_VMEXIT ? this.vmxExit(b, resume ? VMX_EXIT_VMRESUME : VMX_EXIT_VMLAUNCH, 0) : gate;
    const base = s[b + K.S_CUR_BASE] as number;
    if (base < 0) return this.failInvalid(b);
    // A shadow VMCS cannot be entered: VMfailInvalid (§27.1 "Basic VM-Entry Checks").
    if (s[b + K.S_CUR_SHADOW] === 1) return this.failInvalid(b);
    if (this.blockedByMovSs === 1) return this.failValid(b, base, VM_ERROR.ENTRY_MOV_SS_BLOCKING);
    const launched = this.memory.words[base + K.REGION_LAUNCH_WORD] === K.LAUNCH_STATE_LAUNCHED;
    if (!resume && launched) return this.failValid(b, base, VM_ERROR.VMLAUNCH_NON_CLEAR);
    if (resume && !launched) return this.failValid(b, base, VM_ERROR.VMRESUME_NON_LAUNCHED);
    // §27.2 "Checks on VMX Controls and Host-State Area" (impl/vm-entry/).
    const error = checkControlsAndHost(this.entryFacts, this.memory, base, s[b + K.S_LMA] as number);
    if (error !== 0) return this.failValid(b, base, error);
    // §27.3.1 "Checks on the Guest State Area": exit reason 33 with the failing check's qualification.
    const qualification = checkGuestState(this.entryFacts, this.guestFacts, this.memory, base, s[b + K.S_CUR_LO] as number, s[b + K.S_CUR_HI] as number);
    if (qualification !== K.PASS) return this.entryFailure(b, base, EXIT_REASON.ENTRY_FAILURE_INVALID_GUEST_STATE, qualification);
    // §27.3.2 "Loading Guest State", then §27.4 "Loading MSRs" (which may overwrite MSRs the
    // guest-state area loaded): exit reason 34 with the 1-based index of the failing entry.
    // (The cached preamble outcome is recomputed once, at the end: nothing before reads it.)
    loadGuestState(this.entryFacts, this.guestFacts, s, b, this.memory.words, base);
    this.exits.loadGuest(b, base);
    const failedEntry = loadEntryMsrs(this.entryFacts, this.guestFacts, this.memory, base, this.exitFacts, s, b);
    if (failedEntry !== 0) return this.entryFailure(b, base, EXIT_REASON.ENTRY_FAILURE_MSR_LOADING, failedEntry);
    // VMLAUNCH makes the VMCS launched (§31.3 VMLAUNCH/VMRESUME); §27.6 "Event Injection" and
    // §27.7 "Special Features of VM Entry" (impl/vm-entry/pending-events.ts).
    if (!resume) this.memory.words[base + K.REGION_LAUNCH_WORD] = K.LAUNCH_STATE_LAUNCHED;
    const status = this.events.afterEntry(b, base);
    this.refresh(b);
    return status;
  }

  /**
   * VM-entry failure after the guest-state checks began (§27.8 "VM-Entry Failures During or After
   * Loading Guest State"; impl/vm-exit/): exit reason (bit 31 set) and qualification written to the
   * VMCS, host state loaded and the VM-exit MSR-load area processed as on a VM exit, launch state
   * unchanged, the processor in VMX root operation (or a VMX abort).
   */
  protected entryFailure(b: number, base: number, basicReason: number, qualification: number): number {
    const status = this.exits.entryFailure(b, base, basicReason, qualification);
    this.refresh(b);
    return status;
  }

  /** VMRESUME; see {@link ImplMachine.vmlaunch}. */
  vmresume(cpu: number): number {
    return this.vmlaunch(cpu, true);
  }

  /**
   * The VM-entry checks of VMLAUNCH/VMRESUME on the current VMCS of `cpu`, with no effect on the
   * machine (for benchmarks and tools): every check on the controls and the host-state area, and
   * every check on the guest-state area (§27.2, §27.3.1). Returns 0 when all pass, the
   * VM-instruction error VMLAUNCH would report (7 or 8), STATUS_ENTRY_FAILURE when a guest-state
   * check fails, STATUS_FAIL_INVALID when there is no current VMCS. The basic checks of §27.1 and
   * the MSR loading of §27.4 (which writes MSRs) are not made.
   */
  checkVmEntry(cpu: number): number {
    const s = this.state;
    const b = this.row(cpu);
    const base = s[b + K.S_CUR_BASE] as number;
    if (base < 0) return STATUS_FAIL_INVALID;
    const error = checkControlsAndHost(this.entryFacts, this.memory, base, s[b + K.S_LMA] as number);
    if (error !== 0) return error;
    const qualification = checkGuestState(this.entryFacts, this.guestFacts, this.memory, base, s[b + K.S_CUR_LO] as number, s[b + K.S_CUR_HI] as number);
    return qualification === PASS ? 0 : STATUS_ENTRY_FAILURE;
  }
}

// The literals of K are the values of the expressions they replace.
assertLiterals('impl/machine/vm-entry.ts', [
  [K.REGION_LAUNCH_WORD, REGION_LAUNCH_WORD],
  [K.LAUNCH_STATE_LAUNCHED, LAUNCH_STATE_LAUNCHED],
  [K.PASS, PASS],
  [K.STATUS_VMEXIT, STATUS_VMEXIT],
]);
