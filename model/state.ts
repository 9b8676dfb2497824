/**
 * The model's state: every logical processor, the shared physical memory, and the VMCS data kept
 * in memory. States are immutable values: every step builds a new one, so a verdict's branches
 * can each carry their own successor and `step` never changes its input.
 *
 * What each logical processor holds follows the SDM's account of VMX operation (Vol. 3C §24.7
 * "Enabling and Entering VMX Operation", §25.1 "Overview"): whether it is outside VMX operation,
 * in VMX root or in VMX non-root operation; its VMXON pointer; its current-VMCS pointer; the VMCSs
 * active on it, whose data the model keeps "in the processor" (the SDM lets a processor cache an
 * active VMCS, see vmcs.ts); and the registers and MSRs the VMX instructions consult.
 *
 * Assumed inactive, and never made active by any operation: A20M mode, SMX operation (GETSEC),
 * system-management mode, and the dual-monitor treatment of SMIs and SMM (IA32_SMM_MONITOR_CTL is
 * 0). TR is assumed to reference a 32-bit TSS (no operation loads TR), which matters only to MOV to
 * CR0 activating IA-32e mode. They are fields all the same, so that the rules that test them read as the SDM does, and so
 * that unit tests can build states where they hold.
 */
import { initialProcessorState } from '../spec/initial-state.ts';
import type { InactiveActivity } from '../spec/observations.ts';
import type { Profile } from '../spec/profile.ts';
import type { Rule } from './rule.ts';

/** The current-VMCS pointer value that means "no current VMCS" (§31.3, VMXON and VMCLEAR). */
export const NO_CURRENT_VMCS = 0xffff_ffff_ffff_ffffn;

/** Whether a logical processor is outside VMX operation, in VMX root or in VMX non-root operation. */
export type VmxOperation = 'outside' | 'root' | 'non-root';

/** Launch state of a VMCS (§25.1): clear, launched, or unknown to the model (see vmcs.ts). */
export type LaunchState = 'clear' | 'launched' | 'unknown';

/**
 * What the model knows of one VMCS field, as two 32-bit halves: `low` is bits 31:0 (all a 16-bit
 * or 32-bit field has), `high` bits 63:32. `undefined` means the SDM leaves those bits unknown.
 */
export interface FieldContent {
  readonly low: bigint | undefined;
  readonly high: bigint | undefined;
  /**
   * Bits of the field (bit n of the 64-bit field is bit n here) that the SDM leaves undefined
   * although the rest of their half is known: a VM exit that clears bit 31 of the VM-exit
   * interruption-information field and leaves bits 30:0 undefined, or the undefined parts of a
   * saved unusable segment's access rights (model/vm-exit/). Absent or 0: none.
   */
  readonly unknownBits?: bigint;
}

/**
 * The data of one VMCS as the model tracks it. The in-memory format is implementation-specific
 * (§25.2 "Format of the VMCS Region"), so the model keeps only what the architecture makes
 * visible: field values (by full encoding; a field absent from the map is entirely unknown) and
 * the launch state.
 */
export interface VmcsContent {
  readonly fields: ReadonlyMap<number, FieldContent>;
  readonly launch: LaunchState;
  /** True when the VMCS was active on a processor that executed VMXOFF (VM-instruction error 6). */
  readonly leftActiveByVmxoff: boolean;
}

/** A VMCS active on a logical processor. */
export interface ActiveVmcs {
  readonly content: VmcsContent;
  /** The shadow-VMCS indicator (bit 31 of the region's first word) as VMPTRLD read it. */
  readonly shadow: boolean;
}

/** The segment registers of the guest-state area (§25.4.1 "Guest Register State"). */
export type SegmentName = 'ES' | 'CS' | 'SS' | 'DS' | 'FS' | 'GS' | 'LDTR' | 'TR';

/** A segment register as VM entry loaded it: the four parts of its guest-state fields. */
export interface SegmentRegister {
  readonly selector: bigint | undefined;
  readonly base: bigint | undefined;
  readonly limit: bigint | undefined;
  readonly accessRights: bigint | undefined;
}

/**
 * The guest's registers that no other `CpuState` member holds, as VM entry loaded them from the
 * guest-state area (model/vm-entry/load-guest.ts) and as guest instructions leave them, so that a
 * VM exit saves them (SDM Vol. 3C, December 2023, §28.3 "Saving Guest State"). CR0, CR3, CR4,
 * DR7, RIP, the arithmetic flags, RFLAGS.VM, MOV-SS blocking, IA32_EFER.LME/LMA and the MSRs are
 * the `CpuState` members of those names. `undefined` marks a value the model does not know (a
 * field VM entry did not read because no check needed it).
 */
export interface GuestRegisters {
  readonly rsp: bigint | undefined;
  /** RFLAGS as loaded; its arithmetic flags and VM bit are `CpuState.flags` and `rflagsVm`. */
  readonly rflags: bigint | undefined;
  readonly segments: Readonly<Record<SegmentName, SegmentRegister>>;
  readonly gdtr: SegmentRegister;
  readonly idtr: SegmentRegister;
  /**
   * The interruptibility-state field as loaded; bit 1 (blocking by MOV SS) is
   * `CpuState.movSsBlocking`. Blocking by STI (bit 0) ends with the guest's first instruction,
   * like blocking by MOV SS (model/mov-ss.ts).
   */
  readonly interruptibility: bigint | undefined;
  /** The pending-debug-exceptions field as loaded. */
  readonly pendingDebugExceptions: bigint | undefined;
  /** The activity state: 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI (§25.4.2). */
  readonly activity: bigint;
  /** PDPTE0-3 as loaded from the guest-state area ("enable EPT" = 1 and PAE paging), else undefined. */
  readonly pdptes: readonly (bigint | undefined)[] | undefined;
  /** CR3 as VM entry loaded it (the PDPTEs above belong to it). */
  readonly loadedCr3: bigint | undefined;
  /** SSP (shadow-stack pointer) as loaded with "load CET state", or unknown. */
  readonly ssp: bigint | undefined;
}

/** One logical processor. */
export interface CpuState {
  readonly vmx: VmxOperation;
  /** The VMXON pointer; meaningful only in VMX operation. */
  readonly vmxonPointer: bigint | undefined;
  /** The current-VMCS pointer; {@link NO_CURRENT_VMCS} when there is none. */
  readonly currentVmcs: bigint;
  /** The VMCSs active on this processor, by region address (the current one among them). */
  readonly active: ReadonlyMap<bigint, ActiveVmcs>;
  readonly cr0: bigint;
  readonly cr4: bigint;
  /** CR3 (a `set` gives bits 31:0): bits 11:0 matter to CR4.PCIDE, bits 31:5 locate the PAE PDPT. */
  readonly cr3: bigint;
  /** IA32_EFER.LME, 0 or 1: IA-32e mode enabled. */
  readonly eferLme: number;
  /** IA32_EFER.LMA, 0 or 1: IA-32e mode active. */
  readonly eferLma: number;
  /** CS.L, 0 or 1. */
  readonly csL: number;
  readonly cpl: number;
  /** RFLAGS.VM, 0 or 1. */
  readonly rflagsVm: number;
  /** 1 when events are blocked by MOV SS or POP SS. */
  readonly movSsBlocking: number;
  /** The six arithmetic flags of RFLAGS (spec/observations.ts). */
  readonly flags: number;
  /** IA32_FEATURE_CONTROL (MSR 3AH). */
  readonly featureControl: bigint;
  /** IA32_SMM_MONITOR_CTL (MSR 9BH); 0 from reset and never written by any operation. */
  readonly smmMonitorCtl: bigint;
  /** TR references a 16-bit TSS (MOV to CR0 cannot activate IA-32e mode then); assumed not. */
  readonly tr16BitTss: boolean;
  /** A20M mode; assumed inactive. */
  readonly a20m: boolean;
  /** SMX operation (between GETSEC[SENTER] and GETSEC[SEXIT]); assumed inactive. */
  readonly inSmx: boolean;
  /** System-management mode; assumed inactive. */
  readonly inSmm: boolean;
  /** Dual-monitor treatment of SMIs and SMM active; never activated (see vmcall.ts). */
  readonly dualMonitorActive: boolean;
  /**
   * RIP of the processor's next instruction, where the model knows it: loaded from the guest-RIP
   * field by a VM entry and advanced by each guest instruction that completes by its length
   * (spec/instruction-encodings.ts), so that a VM exit saves it (§28.3.3 "Saving RIP, RSP, RFLAGS,
   * and SSP"); loaded from the host-RIP field by a VM exit. `undefined` when unknown (outside VMX
   * non-root operation nothing observes it).
   */
  readonly rip: bigint | undefined;
  /** DR7 (0x400 after reset); loaded and saved by VM entries and exits with the debug controls. */
  readonly dr7: bigint;
  /**
   * MSRs the model knows the value of, by index (IA32_FEATURE_CONTROL is `featureControl`, not
   * here; IA32_EFER may be here for its other bits, but its LME and LMA bits are `eferLme` and
   * `eferLma`, whatever the map says): written by WRMSR, by guest-state and host-state loading
   * and by the VM-entry and VM-exit MSR-load areas, read by RDMSR, guest-state saving and the
   * VM-exit MSR-store area. An MSR absent from the map has a value the model does not know.
   */
  readonly msrs: ReadonlyMap<number, bigint>;
  /**
   * In VMX non-root operation, the guest registers saved by a VM exit that no other member holds
   * (set by VM entry); `undefined` outside VMX non-root operation.
   */
  readonly guest: GuestRegisters | undefined;
  /**
   * Set when a step took this processor somewhere the model does not follow (a guest that waits
   * for an event, a VM exit whose host state reads a field never written, a VMX abort that shut
   * the processor down; see model/vm-exit.ts). Every later step on it is not modelled, naming
   * this rule.
   */
  readonly untracked: Rule | undefined;
  /**
   * The activity state (SDM Vol. 3C, December 2023, §25.4.2 "Guest Non-Register State"): `active`
   * while the processor executes instructions; HLT, shutdown or wait-for-SIPI after a VM entry
   * into that state (§27.7.2 "Activity State"), shutdown after a VMX abort (§28.7). The engine
   * contract has no interrupt, NMI, SMI, INIT or SIPI, so only a VM exit the VMCS arms (a
   * window, the VMX-preemption timer) ever ends an inactive state; until then every instruction of
   * the processor is observed as `inactive` (model/activity.ts).
   */
  readonly activity: Activity;
  /** The VMX abort that shut the processor down (model/vm-exit/abort.ts), if one did. */
  readonly abortedBy?: Rule;
}

/** The activity states: active, or one of the inactive ones of spec/observations.ts. */
export type Activity = 'active' | InactiveActivity;

/** The whole machine. */
export interface ModelState {
  readonly profile: Profile;
  readonly cpus: readonly CpuState[];
  /** Physical memory as 32-bit words by 4-byte-aligned address; an absent word is 0. */
  readonly memory: ReadonlyMap<bigint, number>;
  /**
   * VMCS data held in memory, by region address, for VMCSs active on no processor. A region not
   * in the map was never initialized by VMCLEAR: its fields and launch state are unknown.
   */
  readonly regions: ReadonlyMap<bigint, VmcsContent>;
}

/** Thrown for a case that is malformed (a bug in the case, not an architectural outcome). */
export class ModelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelInputError';
  }
}

/**
 * A fresh machine: `logicalProcessors` processors in the spec's initial state, outside VMX
 * operation, IA32_FEATURE_CONTROL as the profile's firmware left it, memory zeroed.
 */
export function createModelState(profile: Profile, logicalProcessors: number): ModelState {
  if (!Number.isInteger(logicalProcessors) || logicalProcessors < 1) {
    throw new ModelInputError(`logicalProcessors must be a positive integer, got ${logicalProcessors}`);
  }
  const cpu: CpuState = {
    vmx: 'outside',
    vmxonPointer: undefined,
    currentVmcs: NO_CURRENT_VMCS,
    active: new Map(),
    cr0: initialProcessorState.cr0,
    cr4: initialProcessorState.cr4,
    cr3: initialProcessorState.cr3,
    eferLme: initialProcessorState.eferLme,
    eferLma: initialProcessorState.eferLma,
    csL: initialProcessorState.csL,
    cpl: initialProcessorState.cpl,
    rflagsVm: initialProcessorState.rflagsVm,
    movSsBlocking: initialProcessorState.movSsBlocking,
    flags: initialProcessorState.flags,
    featureControl: BigInt(profile.data.featureControl),
    smmMonitorCtl: 0n,
    tr16BitTss: false,
    a20m: false,
    inSmx: false,
    inSmm: false,
    dualMonitorActive: false,
    rip: undefined,
    dr7: 0x400n,
    msrs: new Map(),
    guest: undefined,
    untracked: undefined,
    activity: 'active',
  };
  return {
    profile,
    cpus: Array.from({ length: logicalProcessors }, () => cpu),
    memory: new Map(),
    regions: new Map(),
  };
}

/** Processor `cpu` of `state`; the index has been checked by `step`. */
export function cpuOf(state: ModelState, cpu: number): CpuState {
  const found = state.cpus[cpu];
  if (found === undefined) throw new ModelInputError(`no logical processor ${cpu}`);
  return found;
}

/** `state` with processor `cpu` changed by `changes`. */
export function withCpu(state: ModelState, cpu: number, changes: Partial<CpuState>): ModelState {
  const cpus = state.cpus.map((each, index) => (index === cpu ? { ...each, ...changes } : each));
  return { ...state, cpus };
}

/** `state` with the arithmetic flags of processor `cpu` set to `flags`. */
export function withFlags(state: ModelState, cpu: number, flags: number): ModelState {
  return withCpu(state, cpu, { flags });
}
