/**
 * The optimized emulator (impl/) behind the engine contract of spec/engine.ts, plus its fast
 * native API for benchmarks and bulk runs.
 *
 * Reading order: status.ts (outcome codes), field-table.ts (per-profile VMCS field look-up and
 * region layout), machine.ts and machine/ (the instructions, in layers), program.ts (operations decoded to integer
 * records), then this adapter. README.md lists every implementation-specific choice.
 */
import type { Engine, EngineConfig, EngineFactory } from '../spec/engine.ts';
import { ARITHMETIC_FLAGS, type Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';
import type { ProfileData } from '../spec/profile-data.ts';
import { createProfile, type Profile } from '../spec/profile.ts';
import { hexOf } from './hex-halves.ts';
import { ImplMachine, type MachineSnapshot } from './machine.ts';
import { encodeOperation, execute, OP_MOV_CR0, OP_VMCLEAR, OP_VMFUNC, OP_VMPTRLD, OP_VMPTRST, OP_VMREAD, RECORD_WORDS, REGISTER_FORM } from './program.ts';
import { FROM_FLAG, OP_CPUID, OP_DESCRIPTOR_TABLE, OP_MOV_DR, OP_MOV_FROM_CR, OP_RDRAND, OP_RDSEED } from './guest-opcodes.ts';
import { DT_SGDT, DT_SIDT, DT_SLDT, DT_STR, STATUS_FAULT, STATUS_GUEST_UNIMPLEMENTED } from './non-root/index.ts';
import { activityName } from './non-root/activity.ts';
import { mnemonicOf } from '../spec/exceptions.ts';
import {
  STATUS_DELIVERY_UNIMPLEMENTED,
  STATUS_ENTRY_EVENT_UNIMPLEMENTED,
  STATUS_ENTRY_FAILURE,
  STATUS_ENTRY_UNIMPLEMENTED,
  STATUS_INACTIVE,
  STATUS_VMX_ABORT,
  STATUS_FAIL_INVALID,
  STATUS_GP,
  STATUS_NON_ROOT_UNIMPLEMENTED,
  STATUS_UD,
  STATUS_VMENTRY,
  STATUS_VMEXIT,
} from './status.ts';

export { ImplMachine, type MachineSnapshot } from './machine.ts';
export {
  SET_CPL,
  SET_CR3,
  SET_CS_L,
  SET_EFER_LMA,
  SET_EFER_LME,
  SET_MOV_SS_BLOCKING,
  SET_RFLAGS_VM,
} from './machine.ts';
export { compile, encodeOperation, execute, RECORD_WORDS, runCompiled, type CompiledProgram } from './program.ts';
export {
  describeStatus,
  STATUS_DELIVERY_UNIMPLEMENTED,
  STATUS_ENTRY_EVENT_UNIMPLEMENTED,
  STATUS_INACTIVE,
  STATUS_ENTRY_FAILURE,
  STATUS_EXIT_MSR_UNIMPLEMENTED,
  STATUS_NON_ROOT_UNIMPLEMENTED,
  STATUS_SHUT_DOWN,
  STATUS_VMENTRY,
  STATUS_VMEXIT,
  STATUS_VMX_ABORT,
  STATUS_ENTRY_UNIMPLEMENTED,
  STATUS_FAIL_INVALID,
  STATUS_GP,
  STATUS_SUCCEED,
  STATUS_UD,
} from './status.ts';
export { hexOf, parseHexInto } from './hex-halves.ts';
export { GuestOperations, STATUS_FAULT, STATUS_GUEST_UNIMPLEMENTED } from './non-root/index.ts';

/** What VMLAUNCH/VMRESUME would report for a VM entry impl/ does not implement (no longer reached). */
export const VM_ENTRY_UNIMPLEMENTED = 'VM entry (checks on controls, host and guest state)';
/** What a VMX instruction in VMX non-root operation reports when impl/ does not implement its effect. */
export const NON_ROOT_UNIMPLEMENTED = 'VMX non-root operation: a VM function other than EPTP switching, or a vectoring VM entry with "monitor trap flag" = 1';

/**
 * What a VM exit or VM-entry failure ending in a VMX abort reported before the contract had the
 * `inactive` observation (no longer reported: the step is its `vmexit`, later instructions
 * `inactive`; SDM Vol. 3C, §28.7 "VMX Aborts").
 */
export const VMX_ABORT_UNIMPLEMENTED = 'VMX abort: the logical processor shut down (the contract has no shutdown observation)';
/** What every operation of a processor shut down by a VMX abort reported (no longer reported: `inactive`). */
export const SHUT_DOWN_UNIMPLEMENTED = 'the logical processor is shut down after a VMX abort (the contract has no shutdown observation)';
/** What a VM exit whose MSR-store area named an MSR impl/ does not model reported (no longer reported: such an MSR is stored as 0). */
export const EXIT_MSR_UNIMPLEMENTED = 'VM-exit MSR-store area naming an MSR whose value impl/ does not model';

/**
 * Validated profiles by the data they came from, so that creating many engines for one profile
 * (one per case) validates it and builds its field table once.
 */
const profiles = new WeakMap<ProfileData, Profile>();

function profileOf(data: ProfileData): Profile {
  let profile = profiles.get(data);
  if (profile === undefined) {
    profile = createProfile(data);
    profiles.set(data, profile);
  }
  return profile;
}

/** A fresh machine for an engine configuration (the fast API's entry point). */
export function createImplMachine(config: EngineConfig): ImplMachine {
  return new ImplMachine(profileOf(config.profile), config.logicalProcessors);
}

/** The observation for a status code (a processor-state operation reports success as `ok`). */
function observationOf(status: number, processorState: boolean, flags: number): Observation {
  if (status === 0) return processorState ? { kind: 'ok', flags } : { kind: 'vmsucceed', flags };
  if (status > 0) return { kind: 'vmfail-valid', error: status, flags };
  switch (status) {
    case STATUS_FAIL_INVALID:
      return { kind: 'vmfail-invalid', flags };
    case STATUS_UD:
      return { kind: 'fault', vector: 'UD', flags };
    case STATUS_GP:
      return { kind: 'fault', vector: 'GP', flags };
    case STATUS_ENTRY_UNIMPLEMENTED:
      return { kind: 'unimplemented', what: VM_ENTRY_UNIMPLEMENTED, flags };
    case STATUS_NON_ROOT_UNIMPLEMENTED:
      return { kind: 'unimplemented', what: NON_ROOT_UNIMPLEMENTED, flags };
    default:
      throw new Error(`impl bug: unknown status ${status}`);
  }
}

/**
 * Trick: apart from VMREAD and VMPTRST values, an observation is determined by (status, whether
 * the operation is a processor-state one, flags), and in impl/ the flags are only ever 0, CF or
 * ZF. Frozen shared objects for those combinations save an allocation per step; freezing makes
 * any caller that tried to modify one fail loudly instead of corrupting later steps.
 */
const FLAG_VALUES = [0, ARITHMETIC_FLAGS.CF, ARITHMETIC_FLAGS.ZF] as const;
const MAX_SHARED_ERROR = 63;
/** Index: ((status + 4) * 2 + processorState) * 3 + flag index, for status in -4 .. 63. */
const SHARED: readonly Observation[] = Array.from({ length: (MAX_SHARED_ERROR + 5) * 2 * 3 }, (_, i) => {
  const flags = FLAG_VALUES[i % 3] as number;
  const processorState = Math.floor(i / 3) % 2 === 1;
  const status = Math.floor(i / 6) - 4;
  return Object.freeze(observationOf(status, processorState, flags));
});

function sharedObservation(status: number, processorState: boolean, flags: number): Observation | undefined {
  const flagIndex = flags === 0 ? 0 : flags === ARITHMETIC_FLAGS.CF ? 1 : flags === ARITHMETIC_FLAGS.ZF ? 2 : -1;
  if (flagIndex < 0 || status > MAX_SHARED_ERROR || status < STATUS_ENTRY_UNIMPLEMENTED) return undefined;
  return SHARED[((status + 4) * 2 + (processorState ? 1 : 0)) * 3 + flagIndex];
}

/** Opcode and instruction flags of the descriptor-table records whose `ok` reports the value stored (SGDT, SIDT, SLDT, STR). */
const STORES_VALUE = new Set([DT_SGDT, DT_SIDT, DT_SLDT, DT_STR].map((instruction) => OP_DESCRIPTOR_TABLE | (instruction << 8)));

/** The guest operations whose `ok` carries the value in `machine.guest.value`. */
function reportsValue(word0: number): boolean {
  const opcode = word0 & 0xff;
  if (opcode === OP_MOV_FROM_CR || opcode === OP_RDRAND || opcode === OP_RDSEED) return true;
  if (opcode === OP_MOV_DR) return (word0 & FROM_FLAG) !== 0;
  return opcode === OP_DESCRIPTOR_TABLE && STORES_VALUE.has(word0 & 0x7ff);
}

/**
 * The observations only guest operations give: a fault with another vector than #UD/#GP(0) (and
 * its error code), an unimplemented outcome, the value MOV from CR, MOV from DR, RDRAND, RDSEED,
 * SGDT, SIDT, SLDT or STR read.
 */
function guestObservation(machine: ImplMachine, word0: number, status: number, flags: number): Observation | undefined {
  const guest = machine.guest;
  if (status === STATUS_FAULT) {
    const vector = mnemonicOf(guest.fault[0] as number);
    if (vector === undefined) throw new Error(`impl bug: fault with vector ${guest.fault[0]}`);
    if (guest.fault[1] === 1) return { kind: 'fault', vector, errorCode: hexOf((guest.fault[2] as number) >>> 0, 0), flags };
    return { kind: 'fault', vector, flags };
  }
  if (status === STATUS_GUEST_UNIMPLEMENTED) return { kind: 'unimplemented', what: guest.unimplementedWhat, flags };
  if (status === 0 && reportsValue(word0)) {
    return { kind: 'ok', value: hexOf((guest.value[0] as number) >>> 0, (guest.value[1] as number) >>> 0), flags };
  }
  return undefined;
}

/**
 * The observation of a VM entry: with the event VM-entry event injection delivered, if any
 * (SDM Vol. 3C, §27.6 "Event Injection"): vector (bits 7:0 of the VM-entry
 * interruption-information field), type (bits 10:8) and, when bit 11 asks for one, the error code.
 */
function vmentryObservation(machine: ImplMachine, flags: number): Observation {
  const injection = machine.injectedInformation;
  if (injection === 0) return { kind: 'vmentry', flags };
  const vector = injection & 0xff;
  const type = (injection >>> 8) & 7;
  if ((injection & 0x800) === 0) return { kind: 'vmentry', injected: { vector, type }, flags };
  return { kind: 'vmentry', injected: { vector, type, errorCode: hexOf(machine.injectedErrorCode, 0) }, flags };
}

/** The {@link Engine} adapter: JSON operations in, observations out. */
export class ImplEngine implements Engine {
  readonly name = 'impl';
  /** The machine this engine drives; its fast API may be used alongside step(). */
  readonly machine: ImplMachine;
  /** Scratch record for the operation being stepped (reused: no per-step typed array). */
  private readonly record = new Int32Array(RECORD_WORDS);

  constructor(config: EngineConfig) {
    this.machine = createImplMachine(config);
  }

  step(operation: Operation): Observation {
    const record = this.record;
    encodeOperation(operation, record, 0);
    const machine = this.machine;
    const cpu = record[1] as number;
    const status = execute(machine, record, 0);
    const flags = machine.flags(cpu);
    const opcode = (record[0] as number) & 0xff;
    if (status === 0 && ((record[0] as number) & REGISTER_FORM) !== 0 && (opcode === OP_VMCLEAR || opcode === OP_VMPTRLD || opcode === OP_VMPTRST)) {
      // The register form executed as RDRAND or RDSEED (impl/program.ts): the value it read.
      const value = machine.guest.value;
      return { kind: 'ok', value: hexOf((value[0] as number) >>> 0, (value[1] as number) >>> 0), flags };
    }
    if (status === 0 && (opcode === OP_VMREAD || opcode === OP_VMPTRST)) {
      return { kind: 'vmsucceed', value: hexOf(machine.resultLo, machine.resultHi), flags };
    }
    // VM entry, VM-entry failure and VM exit carry data from the machine (not the hot path).
    if (status === STATUS_VMENTRY) return vmentryObservation(machine, flags);
    if (status === STATUS_INACTIVE) return { kind: 'inactive', activity: activityName(machine.activity(cpu)), flags };
    if (status === STATUS_ENTRY_EVENT_UNIMPLEMENTED) return { kind: 'unimplemented', what: machine.events.unimplementedWhat, flags };
    if (status === STATUS_DELIVERY_UNIMPLEMENTED) return { kind: 'unimplemented', what: machine.delivery.what, flags };
    if (status === STATUS_VMX_ABORT) {
      // §28.7 "VMX Aborts": the step is observed as the VM exit (or VM-entry failure) it was; the
      // processor is shut down (its later instructions are `inactive`).
      const reason = machine.exitReason;
      if (reason >= 0x8000_0000) return { kind: 'vmentry-failure', exitReason: reason, qualification: hexOf(machine.exitQualificationLo, machine.exitQualificationHi), flags };
      return { kind: 'vmexit', reason: reason & 0xffff, flags };
    }
    if (status === STATUS_ENTRY_FAILURE) {
      return {
        kind: 'vmentry-failure',
        exitReason: machine.exitReason,
        qualification: hexOf(machine.exitQualificationLo, machine.exitQualificationHi),
        flags,
      };
    }
    if (status === STATUS_VMEXIT) return { kind: 'vmexit', reason: machine.exitReason & 0xffff, flags };
    if (opcode >= OP_CPUID) {
      const guest = guestObservation(machine, record[0] as number, status, flags);
      if (guest !== undefined) return guest;
    }
    // A VMFUNC that completes (EPTP switching) leaves the flags alone: `ok`, not VMsucceed.
    const completes = opcode >= OP_MOV_CR0 || opcode === OP_VMFUNC;
    const shared = sharedObservation(status, completes, flags);
    if (shared !== undefined) return shared;
    return observationOf(status, completes, flags);
  }

  snapshot(): unknown {
    return this.machine.snapshot();
  }

  restore(snapshot: unknown): void {
    if (typeof snapshot !== 'object' || snapshot === null || !('owner' in snapshot)) {
      throw new TypeError('restore: not a snapshot of an impl engine');
    }
    this.machine.restore(snapshot as MachineSnapshot);
  }
}

/** The engine factory of the optimized emulator. */
export const createImplEngine: EngineFactory = (config) => new ImplEngine(config);

export default createImplEngine;
