/**
 * The machine's second layer: what every instruction shares. The observable processor state
 * (flags, VMX operation, RIP, the last exit), the per-instruction preamble (the processor's row,
 * MOV-SS blocking consumed), the cached #UD/#GP gate, the VMsucceed/VMfail conventions of SDM
 * Vol. 3C, December 2023, §31.2 "Conventions", and the VM exit of a guest's VMX instruction.
 */
import { ARITHMETIC_FLAGS } from '../../spec/observations.ts';
import { S_RIP_HI, S_RIP_LO, S_SHUTDOWN } from '../cpu-row.ts';
import { IN_VMX_NON_ROOT } from '../vm-entry/index.ts';
import { advanceGuestRip } from '../vm-exit/index.ts';
import { fillVmxExitInfo, VMX_EXIT_REASON } from '../non-root/vmx-exit-info.ts';
import { STATUS_FAIL_INVALID, STATUS_GP, STATUS_SUCCEED, STATUS_UD, STATUS_VMEXIT } from '../status.ts';
import { assertLiterals } from '../literals.ts';
import { OP_HLT } from '../guest-opcodes.ts';
import { activityOf } from '../non-root/activity.ts';
import { exitAfterInstruction } from '../non-root/instruction-boundary.ts';
import { MachineBase } from './base.ts';

// Row offsets: local copies of impl/cpu-row.ts (a speed trick, see impl/machine/base.ts);
// test/impl/local-copies.test.ts checks that they agree.
/**
 * The constants of this file as one const enum: esbuild (tsx, vitest) writes each use as a
 * literal, where a module-level `const` is a load from the module context with a type check at
 * every use (a speed trick, impl/README.md "Constants as literals"). The original expression of
 * each member is checked against its literal when the module loads (see the end of the file).
 */
const enum K {
  S_IN_VMX = 0,
  S_CR0_LO = 1,
  S_LMA = 5,
  S_CSL = 6,
  S_CPL = 7,
  S_VM = 8,
  S_MOV_SS = 9,
  S_FLAGS = 10,
  S_CUR_LO = 15,
  S_CUR_HI = 16,
  S_CUR_BASE = 17,
  S_GATE = 18,
  S_WIDE = 19,
  STRIDE = 64,
  CF = 1,
  ZF = 64,
  ALL_ONES = -1,
  CR0_PE = 1,
  /** S_IN_VMX in VMX non-root operation (impl/vm-entry/load-guest.ts). */
  IN_VMX_NON_ROOT = 2,
  STATUS_UD = -2,
  STATUS_GP = -3,
  STATUS_VMEXIT = -7,
}



/** Observable state, the instruction preamble, the VMX outcome conventions, VM exits. */
export abstract class MachineCore extends MachineBase {
  // -------------------------------------------------------------------------------------------
  // Observable processor state
  // -------------------------------------------------------------------------------------------

  /** Arithmetic flags of RFLAGS of processor `cpu` (CF|PF|AF|ZF|SF|OF bits). */
  flags(cpu: number): number {
    return this.state[this.row(cpu) + K.S_FLAGS] as number;
  }

  /** True while processor `cpu` is in VMX operation. */
  inVmxOperation(cpu: number): boolean {
    return this.state[this.row(cpu) + K.S_IN_VMX] !== 0;
  }

  /** True while processor `cpu` is in VMX non-root operation (after a VM entry, before a VM exit). */
  inVmxNonRoot(cpu: number): boolean {
    return this.state[this.row(cpu) + K.S_IN_VMX] === IN_VMX_NON_ROOT;
  }

  /** The VMX-abort indicator that shut processor `cpu` down, 0 while it runs (§28.7 "VMX Aborts"). */
  abortIndicator(cpu: number): number {
    return this.state[this.row(cpu) + S_SHUTDOWN] as number;
  }

  /**
   * Processor `cpu` was shut down by a VMX abort (false for an index out of range, which the
   * operation itself then reports).
   */
  isShutDown(cpu: number): boolean {
    return (cpu >>> 0) === cpu && cpu < this.logicalProcessors && this.state[cpu * K.STRIDE + S_SHUTDOWN] !== 0;
  }

  /**
   * The activity state of processor `cpu` (impl/non-root/activity.ts): 0 while it runs, 1 HLT, 2
   * shutdown (also after a VMX abort), 3 wait-for-SIPI; 0 for an index out of range, which the
   * operation itself then reports.
   */
  activity(cpu: number): number {
    return (cpu >>> 0) === cpu && cpu < this.logicalProcessors ? activityOf(this.state, cpu * K.STRIDE) : 0;
  }

  /**
   * After a step in which the guest instruction of row {@link retired} completed with `status`
   * (`opcode` the step's, impl/program.ts): the VM exit at the boundary after it (MTF, NMI or interrupt window; impl/non-root/instruction-boundary.ts),
   * else `status`. impl/program.ts `execute` calls it.
   */
  afterInstruction(status: number, opcode: number): number {
    const b = this.retired;
    this.retired = -1;
    const result = exitAfterInstruction(this.state, this.memory.words, this.eventWords, this.exitInfo, this.exits, b, status, opcode === OP_HLT);
    if (result !== status) this.refresh(b);
    return result;
  }


  /**
   * After an exception raised by a guest instruction of row `b` was delivered through the guest
   * IDT (impl/non-root/event-delivery/): the VM exit on the boundary before the handler's first
   * instruction when one applies (MTF, NMI or interrupt window; impl/non-root/instruction-boundary.ts),
   * its status, else 0.
   */
  override afterDelivery(b: number): number {
    this.refresh(b);
    const result = exitAfterInstruction(this.state, this.memory.words, this.eventWords, this.exitInfo, this.exits, b, 0, false);
    if (result !== 0) this.refresh(b);
    return result;
  }

  /**
   * The VM-entry interruption information of the last VM entry that injected a vectored event
   * (bit 31 set; unsigned), 0 when that entry injected none; with {@link injectedErrorCode}.
   */
  get injectedInformation(): number {
    return this.exits.injectedInformation >>> 0;
  }
  /** The error code that event delivered (meaningful when bit 11 of injectedInformation is 1; unsigned). */
  get injectedErrorCode(): number {
    return this.exits.injectedErrorCode >>> 0;
  }

  /**
   * RIP of processor `cpu` as (lo, hi) in resultLo/resultHi: the guest RIP (from the current VMCS's
   * guest-RIP field) in VMX non-root operation, else the RIP the last VM exit loaded.
   */
  rip(cpu: number): number {
    const b = this.row(cpu);
    const s = this.state;
    if (s[b + K.S_IN_VMX] === IN_VMX_NON_ROOT) {
      const at = (s[b + K.S_CUR_BASE] as number) + this.exitFacts.words.GUEST_RIP;
      this.result[0] = this.memory.words[at] as number;
      this.result[1] = this.memory.words[at + 1] as number;
    } else {
      this.result[0] = s[b + S_RIP_LO] as number;
      this.result[1] = s[b + S_RIP_HI] as number;
    }
    return STATUS_SUCCEED;
  }

  /** The 32-bit word of physical memory at a 4-byte-aligned address (unsigned). */
  readMemory(addressLo: number, addressHi: number): number {
    return this.memory.read32(addressLo, addressHi) >>> 0;
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  /** Row offset of processor `cpu`; throws for an index out of range (a caller bug). */
  /**
   * The row of `cpu` for an instruction: blocking by MOV SS lasts for one instruction (SDM Vol. 3C,
   * December 2023, §27.7.1 "Interruptibility State"; spec/operations.ts), so the instruction
   * consumes it here: it is kept in {@link blockedByMovSs} for VMLAUNCH/VMRESUME to test and
   * cleared in the row. The harness operations `set` and `write-memory` are not instructions and
   * leave it alone. Costs one load and one store per instruction.
   */
  protected override instruction(cpu: number): number {
    const b = this.row(cpu);
    this.blockedByMovSs = this.state[b + K.S_MOV_SS] as number;
    this.state[b + K.S_MOV_SS] = 0;
    return b;
  }

  protected row(cpu: number): number {
    if ((cpu >>> 0) !== cpu || cpu >= this.logicalProcessors) {
      throw new RangeError(`cpu ${cpu} out of range: this machine has ${this.logicalProcessors} logical processors`);
    }
    return cpu * K.STRIDE;
  }

  /** Recomputes the cached preamble outcome and operand size after a state change. */
  protected override refresh(b: number): void {
    const s = this.state;
    const compatibility = s[b + K.S_LMA] === 1 && s[b + K.S_CSL] === 0;
    const undefinedOpcode =
      s[b + K.S_IN_VMX] === 0 || ((s[b + K.S_CR0_LO] as number) & K.CR0_PE) === 0 || s[b + K.S_VM] === 1 || compatibility;
    // In VMX non-root operation the VMX instructions exit after the #UD checks, before the CPL check.
    s[b + K.S_GATE] = undefinedOpcode ? K.STATUS_UD : s[b + K.S_IN_VMX] === K.IN_VMX_NON_ROOT ? K.STATUS_VMEXIT : s[b + K.S_CPL] !== 0 ? K.STATUS_GP : 0;
    s[b + K.S_WIDE] = s[b + K.S_LMA] === 1 && s[b + K.S_CSL] === 1 ? 1 : 0;
  }

  protected makeNoVmcsCurrent(b: number): void {
    const s = this.state;
    s[b + K.S_CUR_LO] = K.ALL_ONES;
    s[b + K.S_CUR_HI] = K.ALL_ONES;
    s[b + K.S_CUR_BASE] = -1;
  }

  /** VMsucceed: all six arithmetic flags cleared. */
  protected succeed(b: number): number {
    this.state[b + K.S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /** VMfailInvalid: CF = 1, the other arithmetic flags cleared. */
  protected failInvalid(b: number): number {
    this.state[b + K.S_FLAGS] = K.CF;
    return STATUS_FAIL_INVALID;
  }

  /** VMfailValid(error): ZF = 1, others cleared, error stored in the current VMCS at `base`. */
  protected failValid(b: number, base: number, error: number): number {
    this.memory.words[base + this.errorWord] = error;
    this.state[b + K.S_FLAGS] = K.ZF;
    return error;
  }

  /** VMfail(error): VMfailValid when there is a current VMCS, else VMfailInvalid. */
  protected fail(b: number, error: number): number {
    const base = this.state[b + K.S_CUR_BASE] as number;
    return base < 0 ? this.failInvalid(b) : this.failValid(b, base, error);
  }

  /**
   * The VM exit of the processor at row `b` from VMX non-root operation with basic exit reason
   * `reason` (SDM Vol. 3C, December 2023, chapter 28 "VM Exits"; impl/vm-exit/): the exit
   * information of {@link ImplMachine.exitInfo} recorded, guest state saved (RIP is the row's: a
   * trap-like exit advances it first), MSRs stored, host state loaded, MSRs loaded; impl/ then
   * goes on in VMX root operation with the host state. Returns STATUS_VMEXIT or
   * STATUS_VMX_ABORT. For the other impl/ files that decide VM exits.
   */
  override vmExit(b: number, reason: number): number {
    const status = this.exits.exit(b, reason, this.blockedByMovSs);
    this.refresh(b);
    return status;
  }

  /**
   * A guest instruction of the processor at row `b` completed: its RIP advances by `length` bytes
   * (impl/vm-exit/index.ts advanceGuestRip). For the other impl/ files that execute guest
   * instructions.
   */
  override advanceRip(b: number, length: number): void {
    this.retired = b;
    advanceGuestRip(this.state, b, this.memory.words, this.exitFacts.words.GUEST_RIP, length);
  }

  /**
   * A VM exit caused by VMX instruction VMX_EXIT_* `kind` in VMX non-root operation, with its
   * exit information (impl/non-root/vmx-exit-info.ts) in {@link ImplMachine.exitInfo}:
   * qualification 0, instruction length, instruction information where defined. `register` is 1
   * for a register operand.
   */
  protected vmxExit(b: number, kind: number, register: number): number {
    const info = this.exitInfo;
    fillVmxExitInfo(info, kind, this.state[b + K.S_WIDE] as number, register);
    return this.vmExit(b, VMX_EXIT_REASON[kind] as number);
  }
}

// The literals of K are the values of the expressions they replace (spec/ names included).
assertLiterals('impl/machine/core.ts', [
  [K.CF, ARITHMETIC_FLAGS.CF],
  [K.ZF, ARITHMETIC_FLAGS.ZF],
  [K.IN_VMX_NON_ROOT, IN_VMX_NON_ROOT],
  [K.STATUS_UD, STATUS_UD],
  [K.STATUS_GP, STATUS_GP],
  [K.STATUS_VMEXIT, STATUS_VMEXIT],
]);
