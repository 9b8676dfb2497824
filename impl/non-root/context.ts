/**
 * What the guest operations share: the machine's processor rows and memory, the current VMCS's
 * controls, and the three ways a guest instruction ends in VMX non-root operation: it causes a VM
 * exit (exit information in the machine's {@link ExitInfo}, then the machine's VM exit), it faults
 * (through the exception bitmap, which may turn the fault into a VM exit), or it completes (guest
 * RIP advanced by the instruction length). Outside VMX non-root operation the same instructions
 * fault or complete as ordinary instructions.
 *
 * Sources: SDM Vol. 3C, December 2023, §26.1.1 "Relative Priority of Faults and VM Exits", §26.2
 * "Other Causes of VM Exits" (exceptions: the exception bitmap, the page-fault error-code mask and
 * match), §28.2.2 "Information for VM Exits Due to Vectored Events" (VM-exit interruption
 * information and error code), §28.2.1 "Basic VM-Exit Information" (exit qualification for debug
 * exceptions and page faults).
 *
 * The machine builds one context, handing over its arrays and a few of its own operations as
 * hooks (MOV-SS blocking, the VM exit, the RIP update, recomputing its cached mode); nothing here
 * allocates per step.
 */
import { PIN_CONTROL, PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_INTERRUPTION_INFO, EXIT_INTERRUPTION_TYPE } from '../../spec/exit-interruption-information.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { Profile } from '../../spec/profile.ts';
import { S_BLOCKING, S_CPL, S_CR0_LO, S_CUR_BASE, S_IN_VMX, S_VM } from '../cpu-row.ts';
import type { PhysicalMemory } from '../memory.ts';
import { factsFor, type ProfileFacts } from '../profile-facts.ts';
import { STATUS_FAULT, STATUS_GP, STATUS_GUEST_UNIMPLEMENTED, STATUS_UD } from '../status.ts';
import {
  EXIT_INFO_INSTRUCTION_INFORMATION,
  EXIT_INFO_INSTRUCTION_LENGTH,
  EXIT_INFO_INTERRUPTION,
  EXIT_INFO_INTERRUPTION_ERROR_CODE,
  EXIT_INFO_QUALIFICATION,
  type ExitInfo,
} from '../vm-exit/exit-info.ts';
import { DELIVER_ERROR_CODE, DELIVER_RF, DELIVER_SOFTWARE, type EventDelivery } from './event-delivery/index.ts';
import { systemFeaturesFor, type SystemFeatures } from './system-features.ts';
import { nonRootWordsFor, type NonRootWords } from './words.ts';

/** S_IN_VMX of a processor in VMX non-root operation. */
export const NON_ROOT = 2;

export { STATUS_FAULT, STATUS_GUEST_UNIMPLEMENTED } from '../status.ts';

/** Interruption types (bits 10:8 of the interruption information) impl/ reports. */
export const TYPE_NMI = EXIT_INTERRUPTION_TYPE.NMI;
export const TYPE_HARDWARE_EXCEPTION = EXIT_INTERRUPTION_TYPE.HARDWARE_EXCEPTION;
export const TYPE_SOFTWARE_EXCEPTION = EXIT_INTERRUPTION_TYPE.SOFTWARE_EXCEPTION;

const VECTOR_NMI = 2;
const VECTOR_UD = 6;
const VECTOR_GP = 13;
const VECTOR_PF = 14;
/** Blocking by STI and by NMI in S_BLOCKING (interruptibility-state bits 0 and 3). */
const BLOCKING_BY_STI = 1;
const BLOCKING_BY_NMI = 8;
/**
 * Fault-class exception vectors (Vol. 3A §6.15 "Exception and Interrupt Reference", Table 6-1):
 * #DE, #BR, #UD, #NM, #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP. Their delivery pushes
 * RFLAGS with RF = 1 (Vol. 3A §18.3.1.1 "Instruction-Breakpoint Exception Condition"), as
 * impl/vm-exit/index.ts saves RF = 1 for their VM exits.
 */
const FAULT_VECTORS = [0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21].reduce((mask, vector) => mask | (1 << vector), 0);

/** The machine's operations a guest instruction needs. */
export interface MachineHooks {
  /** Row offset of `cpu` for an instruction (ends MOV-SS blocking; throws for a bad index). */
  instruction(cpu: number): number;
  /** The VM exit with `reason`, its information already in the exit-information record. */
  vmExit(b: number, reason: number): number;
  /** Advances guest RIP by `length` bytes. */
  advanceRip(b: number, length: number): void;
  /** Recomputes the machine's cached mode after a change of CR0, CPL, LMA, ... */
  refresh(b: number): void;
  /**
   * After an exception's delivery through the guest IDT: recomputes the cached mode, then the VM
   * exit on the boundary before the handler's first instruction (its status), or 0.
   */
  afterDelivery(b: number): number;
}

export class GuestContext {
  readonly facts: ProfileFacts;
  readonly words: NonRootWords;
  /** Which of the instructions of case format 5 the processor has (impl/non-root/system-features.ts). */
  readonly features: SystemFeatures;
  /** [0] vector, [1] 1 when an error code is delivered, [2] error code: the last STATUS_FAULT. */
  readonly fault = new Int32Array(3);
  /** The value a MOV from CR or MOV from DR read (lo, hi), for the `ok` observation. */
  readonly value = new Int32Array(2);
  /** What the last STATUS_GUEST_UNIMPLEMENTED did not implement. */
  unimplementedWhat = '';

  constructor(
    readonly profile: Profile,
    readonly s: Int32Array,
    readonly memory: PhysicalMemory,
    readonly exitInfo: ExitInfo,
    readonly hooks: MachineHooks,
    /** Delivery through the guest IDT of an exception the exception bitmap does not turn into a VM exit. */
    readonly delivery: EventDelivery,
  ) {
    this.facts = factsFor(profile);
    this.words = nonRootWordsFor(profile);
    this.features = systemFeaturesFor(profile);
  }

  /** True when the row at `b` is in VMX non-root operation. */
  nonRoot(b: number): boolean {
    return this.s[b + S_IN_VMX] === NON_ROOT;
  }

  /**
   * The privilege level instructions check: 0 in real-address mode (CR0.PE = 0), 3 in
   * virtual-8086 mode, the CPL otherwise (Vol. 3A §5.5 "Privilege Levels"; the instruction pages'
   * real-address-mode exception lists have no CPL checks).
   */
  privilegeLevel(b: number): number {
    if (((this.s[b + S_CR0_LO] as number) & 1) === 0) return 0;
    if (this.s[b + S_VM] === 1) return 3;
    return this.s[b + S_CPL] as number;
  }

  /** Privileged instructions fault in virtual-8086 mode and at CPL > 0 (never in real-address mode). */
  privileged(b: number): boolean {
    return this.privilegeLevel(b) !== 0;
  }

  /** Bits 31:0 of a field of the current VMCS (0 when the profile lacks it). */
  low(b: number, word: number): number {
    return word < 0 ? 0 : (this.memory.words[(this.s[b + S_CUR_BASE] as number) + word] as number);
  }

  /** Bits 63:32 of a 64-bit or natural-width field of the current VMCS. */
  high(b: number, word: number): number {
    return word < 0 ? 0 : (this.memory.words[(this.s[b + S_CUR_BASE] as number) + word + 1] as number);
  }

  /** Writes a field of at most 32 bits of the current VMCS (nothing when the profile lacks it). */
  setLow(b: number, word: number, value: number): void {
    if (word >= 0) this.memory.words[(this.s[b + S_CUR_BASE] as number) + word] = value;
  }

  /** Writes a 64-bit or natural-width field of the current VMCS (nothing when the profile lacks it). */
  setWide(b: number, word: number, lo: number, hi: number): void {
    if (word < 0) return;
    const at = (this.s[b + S_CUR_BASE] as number) + word;
    this.memory.words[at] = lo;
    this.memory.words[at + 1] = hi;
  }

  /** The primary processor-based control at `position` is 1. */
  primary(b: number, position: number): boolean {
    return ((this.low(b, this.words.PRIMARY_PROCESSOR_BASED_CONTROLS) >>> position) & 1) === 1;
  }

  /** The secondary processor-based control at `position` is 1 and the secondary controls are active. */
  secondary(b: number, position: number): boolean {
    return (
      this.primary(b, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) &&
      ((this.low(b, this.words.SECONDARY_PROCESSOR_BASED_CONTROLS) >>> position) & 1) === 1
    );
  }

  /**
   * A VM exit caused by an instruction (§28.2.5 "Information for VM Exits Due to Instruction
   * Execution"): exit qualification (lo, hi) and instruction length recorded, other members as
   * the caller adds them after this call's `clear`.
   */
  instructionExit(b: number, reason: number, qualificationLo: number, qualificationHi: number, length: number): number {
    const info = this.beginExit(qualificationLo, qualificationHi, length);
    info.defined |= EXIT_INFO_INSTRUCTION_LENGTH;
    return this.hooks.vmExit(b, reason);
  }

  /**
   * A VM exit caused by an instruction that defines the VM-exit instruction information (§28.2.5):
   * exit qualification 0 (the instructions of the contract have no displacement, §28.2.1),
   * instruction length and information.
   */
  informationExit(b: number, reason: number, length: number, information: number): number {
    const info = this.beginExit(0, 0, length);
    info.instructionInformation = information;
    info.defined |= EXIT_INFO_INSTRUCTION_LENGTH | EXIT_INFO_INSTRUCTION_INFORMATION;
    return this.hooks.vmExit(b, reason);
  }

  /** Clears the exit-information record and fills qualification and instruction length. */
  beginExit(qualificationLo: number, qualificationHi: number, length: number): ExitInfo {
    const info = this.exitInfo;
    info.clear();
    info.qualificationLo = qualificationLo;
    info.qualificationHi = qualificationHi;
    info.instructionLength = length;
    info.defined = EXIT_INFO_QUALIFICATION;
    return info;
  }

  /** The instruction completed: in VMX non-root operation guest RIP moves past it. */
  complete(b: number, length: number): number {
    if (this.s[b + S_IN_VMX] === NON_ROOT) this.hooks.advanceRip(b, length);
    return 0;
  }

  /** #UD raised by an instruction (no error code). */
  ud(b: number): number {
    return this.raise(b, VECTOR_UD, TYPE_HARDWARE_EXCEPTION, false, 0, 0, 0, 0, true);
  }

  /** #GP(0) raised by an instruction. */
  gp(b: number): number {
    return this.raise(b, VECTOR_GP, TYPE_HARDWARE_EXCEPTION, true, 0, 0, 0, 0, true);
  }

  /** What the machine answered for an unimplemented outcome. */
  unimplemented(what: string): number {
    this.unimplementedWhat = what;
    return STATUS_GUEST_UNIMPLEMENTED;
  }

  /**
   * An exception raised in the processor at `b`. In VMX non-root operation the exception bitmap
   * decides (§26.2 "Other Causes of VM Exits"): bit `vector` set means a VM exit (reason 0), except
   * for a page fault, where the bit is taken as is when (error code AND mask) = match and inverted
   * otherwise; an NMI (vector 2) exits when "NMI exiting" is 1. The VM exit records the
   * interruption information (vector, type, error-code valid, valid), the error code, the exit
   * qualification (`qualLo/Hi`: the linear address of a page fault, the debug-exception bits of a
   * #DB, 0 otherwise, §28.2.1) and, for a software exception, the instruction length. Otherwise
   * the exception is delivered (in VMX non-root operation through the guest IDT,
   * impl/non-root/event-delivery/: the RIP pushed is the instruction's, or the next one's for a
   * software exception (`length`), RF = 1 in the RFLAGS image for a fault-class exception, the
   * gate DPL checked for INT3/INTO; a delivered NMI blocks NMIs; blocking by STI ends, as the
   * instruction boundary it covered has passed; then the MTF VM exit pending after the delivery
   * (§26.5.2 "Monitor Trap Flag": an instruction that faults makes it pending on the boundary
   * after the fault's delivery) or a window exit is the observation), observed as STATUS_UD for
   * #UD, STATUS_GP for an instruction's #GP(0) (`fromInstruction`; the `exception` operation's
   * #GP reports its error code), else STATUS_FAULT with the vector and error code in
   * {@link fault}. A delivery impl/ does not model answers STATUS_DELIVERY_UNIMPLEMENTED.
   */
  raise(
    b: number,
    vector: number,
    type: number,
    hasErrorCode: boolean,
    errorCode: number,
    qualLo: number,
    qualHi: number,
    length: number,
    fromInstruction: boolean,
  ): number {
    if (this.s[b + S_IN_VMX] === NON_ROOT && this.exceptionExits(b, vector, errorCode)) {
      const info = this.beginExit(qualLo, qualHi, length);
      info.interruptionInformation =
        (vector << EXIT_INTERRUPTION_INFO.VECTOR.lsb) |
        (type << EXIT_INTERRUPTION_INFO.TYPE.lsb) |
        ((hasErrorCode ? 1 : 0) << EXIT_INTERRUPTION_INFO.ERROR_CODE_VALID.lsb) |
        (1 << EXIT_INTERRUPTION_INFO.VALID.lsb);
      info.defined |= EXIT_INFO_INTERRUPTION;
      if (hasErrorCode) {
        info.interruptionErrorCode = errorCode;
        info.defined |= EXIT_INFO_INTERRUPTION_ERROR_CODE;
      }
      if (type === TYPE_SOFTWARE_EXCEPTION) info.defined |= EXIT_INFO_INSTRUCTION_LENGTH;
      return this.hooks.vmExit(b, EXIT_REASON.EXCEPTION_OR_NMI);
    }
    if (this.s[b + S_IN_VMX] === NON_ROOT) {
      const software = type === TYPE_SOFTWARE_EXCEPTION;
      const fault = type === TYPE_HARDWARE_EXCEPTION && ((FAULT_VECTORS >>> vector) & 1) === 1;
      const flags = (hasErrorCode ? DELIVER_ERROR_CODE : 0) | (software ? DELIVER_SOFTWARE : 0) | (fault ? DELIVER_RF : 0);
      const delivered = this.delivery.deliver(b, vector, flags, errorCode, software ? length : 0);
      if (delivered !== 0) return delivered;
      const s = this.s;
      s[b + S_BLOCKING] = ((s[b + S_BLOCKING] as number) & ~BLOCKING_BY_STI) | (type === TYPE_NMI ? BLOCKING_BY_NMI : 0);
      const boundary = this.hooks.afterDelivery(b);
      if (boundary !== 0) return boundary;
    }
    // #UD has no error code, so an `exception` operation's #UD is observed as an instruction's.
    if (vector === VECTOR_UD) return STATUS_UD;
    if (fromInstruction && vector === VECTOR_GP && errorCode === 0) return STATUS_GP;
    const fault = this.fault;
    fault[0] = vector;
    fault[1] = hasErrorCode ? 1 : 0;
    fault[2] = errorCode;
    return STATUS_FAULT;
  }

  /** The exception (or NMI) with `vector` causes a VM exit under the current VMCS. */
  private exceptionExits(b: number, vector: number, errorCode: number): boolean {
    const w = this.words;
    if (vector === VECTOR_NMI) return ((this.low(b, w.PIN_BASED_CONTROLS) >>> PIN_CONTROL.NMI_EXITING) & 1) === 1;
    const inBitmap = ((this.low(b, w.EXCEPTION_BITMAP) >>> vector) & 1) === 1;
    if (vector !== VECTOR_PF) return inBitmap;
    const matches = (errorCode & this.low(b, w.PAGE_FAULT_ERROR_CODE_MASK)) === this.low(b, w.PAGE_FAULT_ERROR_CODE_MATCH);
    return matches ? inBitmap : !inBitmap;
  }
}
