/**
 * The observation vocabulary of the engine contract: what an engine reports after one step.
 * Observations are plain JSON (64-bit values as {@link Hex}).
 *
 * Every observation carries `flags`, the six arithmetic flags of RFLAGS after the step (CF bit 0,
 * PF bit 2, AF bit 4, ZF bit 6, SF bit 7, OF bit 11; other bits zero). The SDM's conventions fix
 * them for VMsucceed, VMfailInvalid and VMfailValid (SDM Vol. 3C, December 2023, §31.2
 * "Conventions"); a fault leaves them unchanged.
 */
import type { ExceptionMnemonic } from './exceptions.ts';
import type { Hex } from './hex.ts';

/** RFLAGS bits that VMX instruction outcomes define. */
export const ARITHMETIC_FLAGS = {
  CF: 1 << 0,
  PF: 1 << 2,
  AF: 1 << 4,
  ZF: 1 << 6,
  SF: 1 << 7,
  OF: 1 << 11,
} as const;

/** Mask of the six arithmetic flags. */
export const ARITHMETIC_FLAGS_MASK = 0x8d5;

interface WithFlags {
  /** RFLAGS & {@link ARITHMETIC_FLAGS_MASK} after the step. */
  flags: number;
}

/**
 * An exception delivered instead of completing the instruction. The VMX instructions and MOV to
 * CR0/CR4 give #UD, or #GP with error code 0 (no `errorCode`); an `exception` guest operation that
 * does not cause a VM exit is delivered with its own vector and, where it has one, error code
 * (case format 4).
 */
export interface FaultObservation extends WithFlags {
  kind: 'fault';
  vector: ExceptionMnemonic;
  /** The error code delivered, for an `exception` operation whose vector has one. */
  errorCode?: Hex;
}
/** The instruction caused a VM exit (VMX non-root operation); `reason` is the basic exit reason. */
export interface VmExitObservation extends WithFlags {
  kind: 'vmexit';
  reason: number;
}
/**
 * VMLAUNCH or VMRESUME entered the guest: the instruction does not complete, the logical processor
 * is in VMX non-root operation, and its next operations are the guest's. `flags` are the
 * arithmetic flags of the guest RFLAGS loaded from the VMCS (SDM Vol. 3C, December 2023, §27.3.2.3
 * "Loading Guest RIP, RSP, RFLAGS, and SSP").
 */
export interface VmEntryObservation extends WithFlags {
  kind: 'vmentry';
  /**
   * The event injected as part of the entry (VM-entry interruption-information field valid,
   * §27.6 "Event Injection"): its vector, type (bits 10:8 of the field) and, when delivered with
   * one, the error code. Absent when nothing was injected (case format 4; earlier formats never
   * reported it).
   */
  injected?: InjectedEvent;
}

/** An event delivered through VM-entry event injection. */
export interface InjectedEvent {
  vector: number;
  /** Interruption type, 0..7 (0 external interrupt, 2 NMI, 3 hardware exception, 4 software interrupt, 5 privileged software exception, 6 software exception, 7 other event). */
  type: number;
  errorCode?: Hex;
}
/**
 * VM entry failed after the checks on the controls and the host state passed (§27.8 "VM-Entry
 * Failures During or After Loading Guest State"): the processor loads host state as on a VM exit
 * (RFLAGS = 2, so `flags` is 0) and writes the exit reason, with bit 31 set, and the exit
 * qualification into the VMCS. `exitReason` is the full 32-bit exit reason (0x80000021 for invalid
 * guest state, 0x80000022 for MSR loading); `qualification` the exit qualification.
 */
export interface VmEntryFailureObservation extends WithFlags {
  kind: 'vmentry-failure';
  exitReason: number;
  qualification: Hex;
}
/** VMsucceed. `value` is what VMREAD returned or VMPTRST stored; absent for other instructions. */
export interface VmSucceedObservation extends WithFlags {
  kind: 'vmsucceed';
  value?: Hex;
}
/** VMfailInvalid: CF = 1, no current VMCS to hold an error number. */
export interface VmFailInvalidObservation extends WithFlags {
  kind: 'vmfail-invalid';
}
/** VMfailValid(error): ZF = 1, `error` written to the current VMCS's VM-instruction error field. */
export interface VmFailValidObservation extends WithFlags {
  kind: 'vmfail-valid';
  error: number;
}
/**
 * A processor-state operation (`mov-cr0`, `set`, `write-memory`, ...) or a guest operation that
 * did not cause a VM exit completed. `value` is the register value a read produced where the
 * contract defines it (`mov-from-cr`, `mov-dr` from a debug register); absent otherwise.
 */
export interface OkObservation extends WithFlags {
  kind: 'ok';
  value?: Hex;
}
/**
 * The engine reached behaviour it does not implement (for example a VM entry that passed the
 * basic checks). Honest engines say so instead of inventing an outcome.
 */
export interface UnimplementedObservation extends WithFlags {
  kind: 'unimplemented';
  /** What was not implemented, in words. */
  what: string;
}

/** The inactive activity states an {@link InactiveObservation} names (SDM Vol. 3C, December 2023, §25.4.2 "Guest Non-Register State", activity state 1-3). */
export const INACTIVE_ACTIVITIES = ['hlt', 'shutdown', 'wait-for-sipi'] as const;
/** One of {@link INACTIVE_ACTIVITIES}. */
export type InactiveActivity = (typeof INACTIVE_ACTIVITIES)[number];

/**
 * The logical processor is in an inactive activity state and did not execute the operation. The
 * contract has no interrupts, NMIs, SMIs, INIT or SIPI, so nothing wakes it: this is the
 * observation of every later *instruction* of that processor. It arises
 * - after a VM entry into the HLT, shutdown or wait-for-SIPI activity state with no event that
 *   ends it at once (SDM Vol. 3C, December 2023, §27.7.2 "Activity State"; the VMLAUNCH/VMRESUME
 *   step itself is observed as its `vmentry`);
 * - after a VMX abort (§28.7 "VMX Aborts": the processor enters the shutdown state; the step that
 *   aborts stays observed as its `vmexit`), with `activity: 'shutdown'`.
 * Operations that are not instructions of that processor (`write-memory`, a `set` of another
 * processor's state, an instruction of another processor) work as before. `flags` are those of
 * RFLAGS, unchanged.
 *
 * The `hlt` guest operation (and HLT outside VMX non-root operation) keeps its own convention: the
 * processor is woken before its next operation, so an `hlt` that completes is `ok` and does not
 * make later instructions `inactive`. Only an activity state entered through the VMCS or a VMX
 * abort does.
 */
export interface InactiveObservation extends WithFlags {
  kind: 'inactive';
  activity: InactiveActivity;
}

/** Anything an engine can report after one step. */
export type Observation =
  | FaultObservation
  | VmExitObservation
  | VmEntryObservation
  | VmEntryFailureObservation
  | VmSucceedObservation
  | VmFailInvalidObservation
  | VmFailValidObservation
  | OkObservation
  | UnimplementedObservation
  | InactiveObservation;

/** The `kind` of any observation. */
export type ObservationKind = Observation['kind'];
