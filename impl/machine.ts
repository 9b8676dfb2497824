/**
 * The optimized emulator's core: a machine of logical processors sharing physical memory, with
 * one method per VMX instruction and processor-state operation, taking 64-bit operands as two
 * int32 halves and returning a status code (impl/status.ts). Nothing on the VMREAD/VMWRITE path
 * allocates or touches BigInt.
 *
 * Semantics: the Operation sections of SDM Vol. 3C, December 2023, §31.3 "VMX Instructions"
 * (one instruction page each, cited per method), with the conventions of §31.2 "Conventions"
 * for the outcomes, and §24.8 "Restrictions on VMX Operation" for CR0/CR4.
 *
 * Tricks, and what each buys:
 * - Processor state lives in one Int32Array row per logical processor (`S_*` offsets), so the
 *   whole machine's CPU state is one typed array: copied in one call by snapshot().
 * - `S_GATE` caches the outcome of the common #UD/#GP preamble (not in VMX operation, CR0.PE = 0,
 *   RFLAGS.VM = 1, compatibility mode, then CPL > 0). It is recomputed only when one of those
 *   inputs changes, so VMREAD and VMWRITE pay one load and one compare for the whole preamble.
 * - `S_WIDE` caches "in 64-bit mode", which decides the operand size of register operands.
 * - VMCS data lives in the VMCS region itself, in impl/'s layout (impl/field-table.ts), and
 *   VMREAD/VMWRITE work on it in place: `S_CUR_BASE` is the offset of the current VMCS's region
 *   in the memory slab (impl/memory.ts), so a VMWRITE is a table load plus one or two stores,
 *   and VMPTRLD, VMCLEAR and VMXOFF copy nothing. (An earlier design kept active VMCSs in a
 *   processor-side cache, as real processors may (§25.11.1 "Software Use of Virtual-Machine
 *   Control Structures"); the copies in and out of it were a quarter of the emulator's
 *   execution time on the suite's sequences.) Consequence, which the SDM allows because it makes such accesses undefined:
 *   ordinary memory writes to an active VMCS's region are seen by VMREAD, and a VMCS current on
 *   two processors is one shared structure.
 * - Every array a new machine starts with is a view of one ArrayBuffer (see the constructor).
 */
import { CR4_VMXE, EPT_VPID_CAP, FEATURE_CONTROL, MSR } from '../spec/capability-msrs.ts';
import { VM_ERROR } from '../spec/errors.ts';
import { initialProcessorState } from '../spec/initial-state.ts';
import { ARITHMETIC_FLAGS } from '../spec/observations.ts';
import type { Profile } from '../spec/profile.ts';
import {
  ACCESS_16,
  ACCESS_32,
  ACCESS_64,
  LAUNCH_STATE_LAUNCHED,
  READ_ONLY,
  REGION_LAUNCH_WORD,
  REGION_REVISION_WORD,
  readFieldInto,
} from './field-table.ts';
import { halvesOf } from './hex-halves.ts';
import { CHUNK_WORDS, chunkNumber, INITIAL_CHUNKS, PhysicalMemory } from './memory.ts';
import { factsFor, type ProfileFacts } from './profile-facts.ts';
import { GuestOperations, resetDebugRegisters } from './non-root/index.ts';
import { EXIT_REASON } from '../spec/exit-reasons.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL, VMFUNC_CONTROL } from '../spec/control-bits.ts';
import {
  checkControlsAndHost,
  checkGuestState,
  entryFactsFor,
  guestFactsFor,
  IN_VMX_NON_ROOT,
  loadEntryMsrs,
  loadGuestState,
  PASS,
  type EntryFacts,
  type GuestFacts,
} from './vm-entry/index.ts';
import { advanceGuestRip, ExitInfo, exitFactsFor, initialiseTrackedState, VmExits, type ExitFacts } from './vm-exit/index.ts';
import { S_RIP_HI, S_RIP_LO, S_SHUTDOWN } from './cpu-row.ts';
import { OP_HLT } from './guest-opcodes.ts';
import { activityOf } from './non-root/activity.ts';
import { monitorTrapAfterInstruction } from './non-root/monitor-trap.ts';
import { eventWordsFor, type EventWords } from './vm-entry/event-facts.ts';
import { EntryEvents } from './vm-entry/pending-events.ts';
import {
  fillVmxExitInfo,
  vmxInstructionLength,
  VMX_EXIT_INVEPT,
  VMX_EXIT_INVVPID,
  VMX_EXIT_REASON,
  VMX_EXIT_VMCALL,
  VMX_EXIT_VMCLEAR,
  VMX_EXIT_VMFUNC,
  VMX_EXIT_VMLAUNCH,
  VMX_EXIT_VMPTRLD,
  VMX_EXIT_VMPTRST,
  VMX_EXIT_VMREAD,
  VMX_EXIT_VMRESUME,
  VMX_EXIT_VMWRITE,
  VMX_EXIT_VMXOFF,
  VMX_EXIT_VMXON,
} from './non-root/vmx-exit-info.ts';
import { SHADOW_EXIT, VmcsShadowing } from './non-root/vmx-shadowing.ts';
import { switchEptp } from './non-root/vmx-vmfunc.ts';
import { vmxGuestWordsFor, type VmxGuestWords } from './non-root/vmx-words.ts';
import {
  STATUS_NON_ROOT_UNIMPLEMENTED,
  STATUS_VMENTRY,
  STATUS_VMEXIT,
  STATUS_FAIL_INVALID,
  STATUS_GP,
  STATUS_SUCCEED,
  STATUS_UD,
} from './status.ts';

// ---------------------------------------------------------------------------------------------
// Per-processor state row
// ---------------------------------------------------------------------------------------------

// The row layout is documented in impl/cpu-row.ts. Trick: these are local copies of its
// offsets, not imports. V8 folds a module's own constants into the compiled code but loads an
// imported binding from its module cell at every use; with them imported, a VMWRITE+VMREAD
// pairs loop ran 17-28% slower than the previous commit in two interleaved runs, with local
// copies within noise of it (shared 2-core machine, so only roughly). mov-cr.ts, off
// the hot path, imports cpu-row.ts; test/impl/cpu-row.test.ts checks both agree.
const S_IN_VMX = 0;
const S_CR0_LO = 1;
const S_CR0_HI = 2;
const S_CR4_LO = 3;
const S_CR4_HI = 4;
const S_LMA = 5;
const S_CSL = 6;
const S_CPL = 7;
const S_VM = 8;
const S_MOV_SS = 9;
const S_FLAGS = 10;
const S_FC_LO = 11;
const S_FC_HI = 12;
const S_VMXON_LO = 13;
const S_VMXON_HI = 14;
const S_CUR_LO = 15;
const S_CUR_HI = 16;
const S_CUR_BASE = 17;
const S_GATE = 18;
const S_WIDE = 19;
const S_CUR_SHADOW = 20;
const S_LME = 21;
const S_CR3_LO = 22;
const S_CR3_HI = 23;
const STRIDE = 64;

/** Codes of the settable processor state, in the order of spec/operations.ts `SettableState`. */
export const SET_EFER_LMA = 0;
export const SET_CS_L = 1;
export const SET_CPL = 2;
export const SET_RFLAGS_VM = 3;
export const SET_MOV_SS_BLOCKING = 4;
export const SET_EFER_LME = 5;
export const SET_CR3 = 6;

const CF = ARITHMETIC_FLAGS.CF;
const ZF = ARITHMETIC_FLAGS.ZF;
const ALL_ONES = -1;

const CR0_PE = 1 << 0;
const CR4_LA57 = 1 << 12;
const CR4_VMXE_BIT = Number(CR4_VMXE);
const FEATURE_CONTROL_LOCK = 1 << FEATURE_CONTROL.LOCK;
const FEATURE_CONTROL_VMXON_OUTSIDE_SMX = 1 << FEATURE_CONTROL.VMX_OUTSIDE_SMX;

// IA32_VMX_EPT_VPID_CAP bits as masks of its low half (bits 31:0) or high half (bits 63:32).
const CAP_WALK_LENGTH_5 = 1 << EPT_VPID_CAP.PAGE_WALK_LENGTH_5;
const CAP_MEMORY_TYPE_UC = 1 << EPT_VPID_CAP.MEMORY_TYPE_UC;
const CAP_MEMORY_TYPE_WB = 1 << EPT_VPID_CAP.MEMORY_TYPE_WB;
const CAP_EPT_ACCESSED_DIRTY = 1 << EPT_VPID_CAP.ACCESSED_DIRTY_FLAGS;
const CAP_SUPERVISOR_SHADOW_STACK = 1 << EPT_VPID_CAP.SUPERVISOR_SHADOW_STACK;
const CAP_INVEPT_SINGLE_CONTEXT = 1 << EPT_VPID_CAP.INVEPT_SINGLE_CONTEXT;
const CAP_INVEPT_ALL_CONTEXT = 1 << EPT_VPID_CAP.INVEPT_ALL_CONTEXT;
/** INVVPID type t is supported when bit 40 + t is set (types 0..3). */
const CAP_HI_INVVPID_TYPE_0 = 1 << (EPT_VPID_CAP.INVVPID_INDIVIDUAL_ADDRESS - 32);

/** INVEPT and INVVPID types (the pages' Description sections). */
const INVEPT_SINGLE_CONTEXT = 1;
const INVEPT_ALL_CONTEXT = 2;
const INVVPID_INDIVIDUAL_ADDRESS = 0;
const INVVPID_ALL_CONTEXT = 2;
const INVVPID_LAST_TYPE = 3;

const INITIAL_CR0 = halvesOf(initialProcessorState.cr0);
const INITIAL_CR4 = halvesOf(initialProcessorState.cr4);
const INITIAL_CR3 = halvesOf(initialProcessorState.cr3);

/** A captured machine state; opaque outside this file. */
export interface MachineSnapshot {
  readonly owner: ImplMachine;
  readonly state: Int32Array;
  readonly memory: PhysicalMemory;
}

/**
 * The fast native API. Methods take the logical processor first, 64-bit operands as (lo, hi)
 * int32 or uint32 halves, and return a status code; VMREAD and VMPTRST leave their value in
 * {@link ImplMachine.resultLo} / {@link ImplMachine.resultHi}. A processor index out of range
 * throws (a caller bug).
 */
export class ImplMachine {
  /**
   * The value the last successful VMREAD read or VMPTRST stored, as int32 halves. Trick: a typed
   * array keeps the stores monomorphic int32 writes; a number property would switch to a boxed
   * double representation as soon as a value reaches 2^31.
   */
  private readonly result: Int32Array;
  /**
   * The last VM exit or VM-entry failure: [0] the exit reason (bit 31 set for a VM-entry
   * failure), [1] and [2] the exit qualification's halves. Read through exitReason and
   * exitQualificationLo/Hi after STATUS_VMEXIT or STATUS_ENTRY_FAILURE.
   */
  private readonly exit = new Int32Array(3);
  /** MOV-SS blocking of the processor executing the current instruction, as it was before it (see instruction()). */
  private blockedByMovSs = 0;
  /**
   * The exit information besides the exit reason that the next VM exit writes (SDM Vol. 3C,
   * §28.2): an exiting instruction sets its members and `defined` bits, then calls
   * {@link ImplMachine.vmExit}, which consumes it.
   */
  readonly exitInfo = new ExitInfo();
  /** VM exits, VM-entry failures and the tracked guest state (impl/vm-exit/). */
  private readonly exits: VmExits;
  /** The end of a VM entry: injection, activity state, VM exits before the first guest instruction (impl/vm-entry/pending-events.ts). */
  readonly events: EntryEvents;
  private readonly eventWords: EventWords;
  /**
   * Row offset of the processor whose guest instruction completed (advanced guest RIP) in the
   * current step, -1 when none: impl/program.ts `execute` resets it and then asks
   * {@link ImplMachine.afterInstruction} about the MTF VM exit.
   */
  retired = -1;
  /** The guest operations (CPUID, HLT, MOV CR, RDMSR, I/O, exceptions, ...): impl/non-root/. */
  readonly guest: GuestOperations;

  /** Bits 31:0 of the value the last successful VMREAD read or VMPTRST stored (unsigned). */
  get resultLo(): number {
    return (this.result[0] as number) >>> 0;
  }
  /** Bits 63:32 of that value (unsigned). */
  get resultHi(): number {
    return (this.result[1] as number) >>> 0;
  }

  /** The exit reason of the last VM exit or VM-entry failure (unsigned; bit 31 marks a failure). */
  get exitReason(): number {
    return (this.exit[0] as number) >>> 0;
  }
  /** Bits 31:0 of that exit qualification (unsigned). */
  get exitQualificationLo(): number {
    return (this.exit[1] as number) >>> 0;
  }
  /** Bits 63:32 of that exit qualification (unsigned). */
  get exitQualificationHi(): number {
    return (this.exit[2] as number) >>> 0;
  }

  readonly profile: Profile;
  readonly logicalProcessors: number;

  /** Field look-up of the profile (see impl/field-table.ts). */
  private readonly fieldEntry: Int16Array;
  /** Memory chunks the words of impl/'s region layout span (impl/memory.ts). */
  private readonly regionChunks: number;
  /** Word offset of the VM-instruction error field in a VMCS image. */
  private readonly errorWord: number;

  // Profile facts, decoded once into int32 form.
  private readonly revisionId: number;
  /** High-half bits a VMXON/VMCS pointer must not set (beyond the pointer width). */
  private readonly pointerHiBad: number;
  /** High-half bits an EPTP must not set (beyond the physical-address width). */
  private readonly physicalHiBad: number;
  private readonly shadowingSupported: boolean;
  private readonly anyFieldWritable: boolean;
  private readonly inveptSupported: boolean;
  private readonly invvpidSupported: boolean;
  private readonly capLo: number;
  private readonly capHi: number;
  private readonly cr0Fixed0: readonly [number, number];
  private readonly cr0Fixed1: readonly [number, number];
  private readonly cr4Fixed0: readonly [number, number];
  private readonly cr4Fixed1: readonly [number, number];
  /** Field words of the guest's VMX instructions (impl/non-root/vmx-words.ts). */
  private readonly vmxWords: VmxGuestWords;
  /** VMREAD/VMWRITE in VMX non-root operation (impl/non-root/vmx-shadowing.ts). */
  private readonly shadowing: VmcsShadowing;
  /** The decoded profile facts, as impl/mov-cr.ts reads them. */
  private readonly facts: ProfileFacts;
  /** Profile facts of VM entry's checks on controls and host state (impl/vm-entry/). */
  private readonly entryFacts: EntryFacts;
  /** Profile facts of VM entry's guest-state phase, MSR loading and state loading (impl/vm-entry/). */
  private readonly guestFacts: GuestFacts;
  /** Profile facts of VM exits (impl/vm-exit/). */
  private readonly exitFacts: ExitFacts;

  // Mutable machine state (everything snapshot() captures).
  private readonly state: Int32Array;
  private readonly memory: PhysicalMemory;

  constructor(profile: Profile, logicalProcessors: number) {
    if (!Number.isInteger(logicalProcessors) || logicalProcessors < 1) {
      throw new RangeError(`logicalProcessors must be a positive integer, got ${logicalProcessors}`);
    }
    this.profile = profile;
    this.logicalProcessors = logicalProcessors;
    const facts = factsFor(profile);
    this.facts = facts;
    this.fieldEntry = facts.table.entry;
    this.regionChunks = Math.ceil(facts.table.regionWords / CHUNK_WORDS);
    this.errorWord = facts.table.errorWord;
    this.revisionId = facts.revisionId;
    this.pointerHiBad = facts.pointerHiBad;
    this.physicalHiBad = facts.physicalHiBad;
    this.shadowingSupported = facts.shadowingSupported;
    this.anyFieldWritable = facts.anyFieldWritable;
    this.capLo = facts.capLo;
    this.capHi = facts.capHi;
    this.inveptSupported = facts.inveptSupported;
    this.invvpidSupported = facts.invvpidSupported;
    this.cr0Fixed0 = facts.cr0Fixed0;
    this.cr0Fixed1 = facts.cr0Fixed1;
    this.cr4Fixed0 = facts.cr4Fixed0;
    this.cr4Fixed1 = facts.cr4Fixed1;
    const [featureControlLo, featureControlHi] = facts.featureControl;
    this.entryFacts = entryFactsFor(profile);
    this.guestFacts = guestFactsFor(profile);
    this.exitFacts = exitFactsFor(profile);

    // Trick: every array a new machine needs is a view of one ArrayBuffer. Cases run a short
    // sequence on a fresh machine each; one allocation instead of eight made machine creation,
    // and the garbage collection after it, several times cheaper. Views that grow later are
    // replaced by arrays of their own.
    const memoryWords = INITIAL_CHUNKS * CHUNK_WORDS;
    const int32s = logicalProcessors * STRIDE + 2 + memoryWords;
    const buffer = new ArrayBuffer(INITIAL_CHUNKS * 8 + int32s * 4);
    let at = 0;
    const floatView = (length: number): Float64Array => {
      const view = new Float64Array(buffer, at, length);
      at += length * 8;
      return view;
    };
    const intView = (length: number): Int32Array => {
      const view = new Int32Array(buffer, at, length);
      at += length * 4;
      return view;
    };
    const chunkKeys = floatView(INITIAL_CHUNKS);
    this.state = intView(logicalProcessors * STRIDE);
    this.result = intView(2);
    this.memory = new PhysicalMemory(intView(memoryWords), chunkKeys);
    this.exits = new VmExits(profile, this.state, this.memory, this.exitInfo, this.exit);
    this.events = new EntryEvents(profile, this.state, this.memory, this.exitInfo, this.exits);
    this.eventWords = eventWordsFor(profile);
    this.vmxWords = vmxGuestWordsFor(profile);
    const ew = this.entryFacts.words;
    this.shadowing = new VmcsShadowing(this.state, this.memory, this.result, this.fieldEntry, this.regionChunks, this.errorWord, this.anyFieldWritable, {
      PRIMARY_PROCESSOR_BASED_CONTROLS: ew.PRIMARY_PROCESSOR_BASED_CONTROLS,
      SECONDARY_PROCESSOR_BASED_CONTROLS: ew.SECONDARY_PROCESSOR_BASED_CONTROLS,
      VMREAD_BITMAP_ADDRESS: ew.VMREAD_BITMAP_ADDRESS,
      VMWRITE_BITMAP_ADDRESS: ew.VMWRITE_BITMAP_ADDRESS,
      VMCS_LINK_POINTER: this.guestFacts.words.VMCS_LINK_POINTER,
    });
    for (let cpu = 0; cpu < logicalProcessors; cpu++) {
      const b = cpu * STRIDE;
      const s = this.state;
      s[b + S_CR0_LO] = INITIAL_CR0[0];
      s[b + S_CR0_HI] = INITIAL_CR0[1];
      s[b + S_CR4_LO] = INITIAL_CR4[0];
      s[b + S_CR4_HI] = INITIAL_CR4[1];
      s[b + S_LMA] = initialProcessorState.eferLma;
      s[b + S_LME] = initialProcessorState.eferLme;
      s[b + S_CR3_LO] = INITIAL_CR3[0];
      s[b + S_CR3_HI] = INITIAL_CR3[1];
      s[b + S_CSL] = initialProcessorState.csL;
      s[b + S_CPL] = initialProcessorState.cpl;
      s[b + S_VM] = initialProcessorState.rflagsVm;
      s[b + S_MOV_SS] = initialProcessorState.movSsBlocking;
      s[b + S_FLAGS] = initialProcessorState.flags;
      s[b + S_FC_LO] = featureControlLo;
      s[b + S_FC_HI] = featureControlHi;
      s[b + S_VMXON_LO] = ALL_ONES;
      s[b + S_VMXON_HI] = ALL_ONES;
      s[b + S_CUR_LO] = ALL_ONES;
      s[b + S_CUR_HI] = ALL_ONES;
      s[b + S_CUR_BASE] = -1;
      initialiseTrackedState(s, b);
      resetDebugRegisters(s, b);
      this.refresh(b);
    }
    this.guest = new GuestOperations(profile, this.state, this.memory, this.exitInfo, {
      instruction: (cpu) => this.instruction(cpu),
      vmExit: (b, reason) => this.vmExit(b, reason),
      advanceRip: (b, length) => this.advanceRip(b, length),
      refresh: (b) => this.refresh(b),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Observable processor state
  // -------------------------------------------------------------------------------------------

  /** Arithmetic flags of RFLAGS of processor `cpu` (CF|PF|AF|ZF|SF|OF bits). */
  flags(cpu: number): number {
    return this.state[this.row(cpu) + S_FLAGS] as number;
  }

  /** True while processor `cpu` is in VMX operation. */
  inVmxOperation(cpu: number): boolean {
    return this.state[this.row(cpu) + S_IN_VMX] !== 0;
  }

  /** True while processor `cpu` is in VMX non-root operation (after a VM entry, before a VM exit). */
  inVmxNonRoot(cpu: number): boolean {
    return this.state[this.row(cpu) + S_IN_VMX] === IN_VMX_NON_ROOT;
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
    return (cpu >>> 0) === cpu && cpu < this.logicalProcessors && this.state[cpu * STRIDE + S_SHUTDOWN] !== 0;
  }

  /**
   * The activity state of processor `cpu` (impl/non-root/activity.ts): 0 while it runs, 1 HLT, 2
   * shutdown (also after a VMX abort), 3 wait-for-SIPI; 0 for an index out of range, which the
   * operation itself then reports.
   */
  activity(cpu: number): number {
    return (cpu >>> 0) === cpu && cpu < this.logicalProcessors ? activityOf(this.state, cpu * STRIDE) : 0;
  }

  /**
   * After a step in which the guest instruction of row {@link retired} completed with `status`
   * (`opcode` the step's): the MTF VM exit after it (impl/non-root/monitor-trap.ts), else
   * `status`. impl/program.ts `execute` calls it.
   */
  afterInstruction(status: number, opcode: number): number {
    const b = this.retired;
    this.retired = -1;
    const result = monitorTrapAfterInstruction(this.state, this.memory.words, this.eventWords, this.exitInfo, this.exits, b, status, opcode === OP_HLT);
    if (result !== status) this.refresh(b);
    return result;
  }

  /** The MSR index of the last STATUS_EXIT_MSR_UNIMPLEMENTED (unsigned; no longer returned). */
  get unknownMsr(): number {
    return this.exits.unknownMsr >>> 0;
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
    if (s[b + S_IN_VMX] === IN_VMX_NON_ROOT) {
      const at = (s[b + S_CUR_BASE] as number) + this.exitFacts.words.GUEST_RIP;
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
  // VMX instructions
  // -------------------------------------------------------------------------------------------

  /** VMXON m64 — SDM Vol. 3C, December 2023, §31.3 "VMXON—Enter VMX Operation". */
  vmxon(cpu: number, pointerLo: number, pointerHi: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const cr4Lo = s[b + S_CR4_LO] as number;
    if (
      registerOperand ||
      ((s[b + S_CR0_LO] as number) & CR0_PE) === 0 ||
      (cr4Lo & CR4_VMXE_BIT) === 0 ||
      s[b + S_VM] === 1 ||
      (s[b + S_LMA] === 1 && s[b + S_CSL] === 0)
    ) {
      return STATUS_UD;
    }
    if (s[b + S_IN_VMX] === 0) {
      const featureControl = s[b + S_FC_LO] as number;
      if (
        s[b + S_CPL] !== 0 ||
        !this.controlRegistersAllowed(b) ||
        (featureControl & FEATURE_CONTROL_LOCK) === 0 ||
        (featureControl & FEATURE_CONTROL_VMXON_OUTSIDE_SMX) === 0
      ) {
        return STATUS_GP;
      }
      pointerLo |= 0;
      pointerHi |= 0;
      if ((pointerLo & 0xfff) !== 0 || (pointerHi & this.pointerHiBad) !== 0) return this.failInvalid(b);
      const revision = this.memory.read32(pointerLo, pointerHi);
      // Bits 30:0 must be the revision identifier and bit 31 (shadow-VMCS indicator) clear.
      if (revision !== this.revisionId) return this.failInvalid(b);
      s[b + S_IN_VMX] = 1;
      s[b + S_VMXON_LO] = pointerLo;
      s[b + S_VMXON_HI] = pointerHi;
      this.makeNoVmcsCurrent(b);
      this.refresh(b);
      return this.succeed(b);
    }
    if (s[b + S_IN_VMX] === IN_VMX_NON_ROOT) return this.vmxExit(b, VMX_EXIT_VMXON, 0);
    if (s[b + S_CPL] !== 0) return STATUS_GP;
    return this.fail(b, VM_ERROR.VMXON_IN_VMX_ROOT);
  }

  /** VMXOFF — SDM Vol. 3C, December 2023, §31.3 "VMXOFF—Leave VMX Operation". */
  vmxoff(cpu: number): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMXOFF, 0) : gate;
    // The dual-monitor treatment of SMIs and SMM is never active (IA32_SMM_MONITOR_CTL is 0).
    // VMCSs still active keep their data and launch state in their regions (where impl/ keeps
    // them anyway); the SDM leaves their state undefined.
    s[b + S_IN_VMX] = 0;
    s[b + S_VMXON_LO] = ALL_ONES;
    s[b + S_VMXON_HI] = ALL_ONES;
    this.makeNoVmcsCurrent(b);
    this.refresh(b);
    return this.succeed(b);
  }

  /** VMCLEAR m64 — SDM Vol. 3C, December 2023, §31.3 "VMCLEAR—Clear Virtual-Machine Control Structure". */
  vmclear(cpu: number, pointerLo: number, pointerHi: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand) return STATUS_UD;
    // Halves may arrive as uint32 (say, from resultLo); compare them as the int32 the state holds.
    pointerLo |= 0;
    pointerHi |= 0;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMCLEAR, 0) : gate;
    if ((pointerLo & 0xfff) !== 0 || (pointerHi & this.pointerHiBad) !== 0) {
      return this.fail(b, VM_ERROR.VMCLEAR_INVALID_ADDRESS);
    }
    if (pointerLo === s[b + S_VMXON_LO] && pointerHi === s[b + S_VMXON_HI]) {
      return this.fail(b, VM_ERROR.VMCLEAR_VMXON_POINTER);
    }
    // The VMCS data is already in the region (impl/ keeps it there). Initialize the
    // implementation-specific data: the launch state becomes clear. Field data is kept (as Bochs
    // does).
    this.memory.write32(pointerLo + 4 * REGION_LAUNCH_WORD, pointerHi, 0);
    if (pointerLo === s[b + S_CUR_LO] && pointerHi === s[b + S_CUR_HI]) this.makeNoVmcsCurrent(b);
    return this.succeed(b);
  }

  /** VMPTRLD m64 — SDM Vol. 3C, December 2023, §31.3 "VMPTRLD—Load Pointer to Virtual-Machine Control Structure". */
  vmptrld(cpu: number, pointerLo: number, pointerHi: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand) return STATUS_UD;
    // Halves may arrive as uint32 (say, from resultLo); compare them as the int32 the state holds.
    pointerLo |= 0;
    pointerHi |= 0;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMPTRLD, 0) : gate;
    if ((pointerLo & 0xfff) !== 0 || (pointerHi & this.pointerHiBad) !== 0) {
      return this.fail(b, VM_ERROR.VMPTRLD_INVALID_ADDRESS);
    }
    if (pointerLo === s[b + S_VMXON_LO] && pointerHi === s[b + S_VMXON_HI]) {
      return this.fail(b, VM_ERROR.VMPTRLD_VMXON_POINTER);
    }
    const revision = this.memory.read32(pointerLo + 4 * REGION_REVISION_WORD, pointerHi);
    if ((revision & 0x7fff_ffff) !== this.revisionId || (revision < 0 && !this.shadowingSupported)) {
      return this.fail(b, VM_ERROR.VMPTRLD_INCORRECT_REVISION);
    }
    // Chunks of a region, once side by side, never move again, so no processor's S_CUR_BASE
    // can be left pointing at a moved chunk.
    const base = this.memory.region(chunkNumber(pointerLo, pointerHi), this.regionChunks);
    // Implementation choice: the shadow-VMCS indicator is taken from memory at every VMPTRLD.
    s[b + S_CUR_SHADOW] = revision < 0 ? 1 : 0;
    s[b + S_CUR_LO] = pointerLo;
    s[b + S_CUR_HI] = pointerHi;
    s[b + S_CUR_BASE] = base;
    return this.succeed(b);
  }

  /**
   * VMPTRST m64 — SDM Vol. 3C, December 2023, §31.3 "VMPTRST—Store Pointer to Virtual-Machine
   * Control Structure". The stored value is left in resultLo/resultHi.
   */
  vmptrst(cpu: number, registerOperand = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand) return STATUS_UD;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_VMPTRST, 0) : gate;
    this.result[0] = s[b + S_CUR_LO] as number;
    this.result[1] = s[b + S_CUR_HI] as number;
    return this.succeed(b);
  }

  /**
   * VMREAD — SDM Vol. 3C, December 2023, §31.3 "VMREAD—Read Field from Virtual-Machine Control
   * Structure". The field value is left in resultLo/resultHi: zero-extended from narrower
   * fields, and truncated to 32 bits outside 64-bit mode. `registerOperand` false is the memory
   * form (destination `[RBX]`), which only the exit information of a guest's VMREAD tells apart.
   */
  vmread(cpu: number, encodingLo: number, encodingHi: number, registerOperand = true): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.guestVmread(b, encodingLo, encodingHi, registerOperand) : gate;
    const base = s[b + S_CUR_BASE] as number;
    if (base < 0) return this.failInvalid(b);
    const wide = s[b + S_WIDE] as number;
    // Outside 64-bit mode the encoding register has 32 bits; in it, bits 63:15 must be clear.
    const outOfTable = (wide === 1 ? encodingHi : 0) | (encodingLo & 0xffff_8000);
    const entry = outOfTable === 0 ? (this.fieldEntry[encodingLo] as number) : -1;
    if (entry < 0) return this.failValid(b, base, VM_ERROR.UNSUPPORTED_FIELD);
    readFieldInto(this.memory.words, base, entry, wide, this.result);
    s[b + S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /**
   * VMWRITE — SDM Vol. 3C, December 2023, §31.3 "VMWRITE—Write Field to Virtual-Machine Control
   * Structure". High source bits beyond the field are ignored, high field bits beyond the source
   * (32 bits outside 64-bit mode) are cleared; the high access type writes bits 63:32 only.
   * `registerOperand` false is the memory form (source `[RBX]`).
   */
  vmwrite(cpu: number, encodingLo: number, encodingHi: number, valueLo: number, valueHi: number, registerOperand = true): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.guestVmwrite(b, encodingLo, encodingHi, valueLo, valueHi, registerOperand) : gate;
    const base = s[b + S_CUR_BASE] as number;
    if (base < 0) return this.failInvalid(b);
    const wide = s[b + S_WIDE] as number;
    const outOfTable = (wide === 1 ? encodingHi : 0) | (encodingLo & 0xffff_8000);
    const entry = outOfTable === 0 ? (this.fieldEntry[encodingLo] as number) : -1;
    if (entry < 0) return this.failValid(b, base, VM_ERROR.UNSUPPORTED_FIELD);
    if ((entry & READ_ONLY) !== 0 && !this.anyFieldWritable) {
      return this.failValid(b, base, VM_ERROR.READ_ONLY_FIELD);
    }
    const at = base + (entry >> 3);
    const v = this.memory.words;
    switch (entry & 3) {
      case ACCESS_16:
        v[at] = valueLo & 0xffff;
        break;
      case ACCESS_32:
        v[at] = valueLo;
        break;
      case ACCESS_64:
        v[at] = valueLo;
        v[at + 1] = wide === 1 ? valueHi : 0;
        break;
      default:
        v[at + 1] = valueLo;
        break;
    }
    s[b + S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /**
   * VMLAUNCH (`resume` false) / VMRESUME (`resume` true) — SDM Vol. 3C, December 2023, §31.3
   * "VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine": the basic checks (§27.1 "Basic VM-Entry
   * Checks"), then the checks on the controls and host state, on the guest state, MSR loading,
   * and guest-state loading (impl/vm-entry/): VMfailValid, STATUS_ENTRY_FAILURE or STATUS_VMENTRY.
   */
  vmlaunch(cpu: number, resume = false): number {
    const s = this.state;
    const b = this.instruction(cpu);
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, resume ? VMX_EXIT_VMRESUME : VMX_EXIT_VMLAUNCH, 0) : gate;
    const base = s[b + S_CUR_BASE] as number;
    if (base < 0) return this.failInvalid(b);
    // A shadow VMCS cannot be entered: VMfailInvalid (§27.1 "Basic VM-Entry Checks").
    if (s[b + S_CUR_SHADOW] === 1) return this.failInvalid(b);
    if (this.blockedByMovSs === 1) return this.failValid(b, base, VM_ERROR.ENTRY_MOV_SS_BLOCKING);
    const launched = this.memory.words[base + REGION_LAUNCH_WORD] === LAUNCH_STATE_LAUNCHED;
    if (!resume && launched) return this.failValid(b, base, VM_ERROR.VMLAUNCH_NON_CLEAR);
    if (resume && !launched) return this.failValid(b, base, VM_ERROR.VMRESUME_NON_LAUNCHED);
    // §27.2 "Checks on VMX Controls and Host-State Area" (impl/vm-entry/).
    const error = checkControlsAndHost(this.entryFacts, this.memory, base, s[b + S_LMA] as number);
    if (error !== 0) return this.failValid(b, base, error);
    // §27.3.1 "Checks on the Guest State Area": exit reason 33 with the failing check's qualification.
    const qualification = checkGuestState(this.entryFacts, this.guestFacts, this.memory, base, s[b + S_CUR_LO] as number, s[b + S_CUR_HI] as number);
    if (qualification !== PASS) return this.entryFailure(b, base, EXIT_REASON.ENTRY_FAILURE_INVALID_GUEST_STATE, qualification);
    // §27.3.2 "Loading Guest State", then §27.4 "Loading MSRs" (which may overwrite MSRs the
    // guest-state area loaded): exit reason 34 with the 1-based index of the failing entry.
    loadGuestState(this.entryFacts, this.guestFacts, s, b, this.memory.words, base);
    this.exits.loadGuest(b, base);
    this.refresh(b);
    const failedEntry = loadEntryMsrs(this.entryFacts, this.guestFacts, this.memory, base, this.exitFacts, s, b);
    if (failedEntry !== 0) return this.entryFailure(b, base, EXIT_REASON.ENTRY_FAILURE_MSR_LOADING, failedEntry);
    // VMLAUNCH makes the VMCS launched (§31.3 VMLAUNCH/VMRESUME); §27.6 "Event Injection".
    if (!resume) this.memory.words[base + REGION_LAUNCH_WORD] = LAUNCH_STATE_LAUNCHED;
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
  private entryFailure(b: number, base: number, basicReason: number, qualification: number): number {
    const status = this.exits.entryFailure(b, base, basicReason, qualification);
    this.refresh(b);
    return status;
  }

  /**
   * The VM exit of the processor at row `b` from VMX non-root operation with basic exit reason
   * `reason` (SDM Vol. 3C, December 2023, chapter 28 "VM Exits"; impl/vm-exit/): the exit
   * information of {@link ImplMachine.exitInfo} recorded, guest state saved (RIP is the row's: a
   * trap-like exit advances it first), MSRs stored, host state loaded, MSRs loaded; impl/ then
   * goes on in VMX root operation with the host state. Returns STATUS_VMEXIT, STATUS_VMX_ABORT or
   * STATUS_EXIT_MSR_UNIMPLEMENTED. For the other impl/ files that decide VM exits.
   */
  vmExit(b: number, reason: number): number {
    const status = this.exits.exit(b, reason, this.blockedByMovSs);
    this.refresh(b);
    return status;
  }

  /**
   * A guest instruction of the processor at row `b` completed: its RIP advances by `length` bytes
   * (impl/vm-exit/index.ts advanceGuestRip). For the other impl/ files that execute guest
   * instructions.
   */
  advanceRip(b: number, length: number): void {
    this.retired = b;
    advanceGuestRip(this.state, b, this.memory.words, this.exitFacts.words.GUEST_RIP, length);
  }

  /**
   * A VM exit caused by VMX instruction VMX_EXIT_* `kind` in VMX non-root operation, with its
   * exit information (impl/non-root/vmx-exit-info.ts) in {@link ImplMachine.exitInfo}:
   * qualification 0, instruction length, instruction information where defined. `register` is 1
   * for a register operand.
   */
  private vmxExit(b: number, kind: number, register: number): number {
    const info = this.exitInfo;
    fillVmxExitInfo(info, kind, this.state[b + S_WIDE] as number, register);
    return this.vmExit(b, VMX_EXIT_REASON[kind] as number);
  }

  /** VMREAD in VMX non-root operation: a VM exit or the shadow VMCS (impl/non-root/vmx-shadowing.ts). */
  private guestVmread(b: number, encodingLo: number, encodingHi: number, registerOperand: boolean): number {
    const status = this.shadowing.vmread(b, encodingLo, encodingHi);
    if (status === SHADOW_EXIT) return this.vmxExit(b, VMX_EXIT_VMREAD, registerOperand ? 1 : 0);
    if (status !== STATUS_GP) this.advanceRip(b, vmxInstructionLength(VMX_EXIT_VMREAD, this.state[b + S_WIDE] as number));
    return status;
  }

  /** VMWRITE in VMX non-root operation: a VM exit or the shadow VMCS (impl/non-root/vmx-shadowing.ts). */
  private guestVmwrite(b: number, encodingLo: number, encodingHi: number, valueLo: number, valueHi: number, registerOperand: boolean): number {
    const status = this.shadowing.vmwrite(b, encodingLo, encodingHi, valueLo, valueHi);
    if (status === SHADOW_EXIT) return this.vmxExit(b, VMX_EXIT_VMWRITE, registerOperand ? 1 : 0);
    if (status !== STATUS_GP) this.advanceRip(b, vmxInstructionLength(VMX_EXIT_VMWRITE, this.state[b + S_WIDE] as number));
    return status;
  }

  /** VMRESUME; see {@link ImplMachine.vmlaunch}. */
  vmresume(cpu: number): number {
    return this.vmlaunch(cpu, true);
  }

  /**
   * INVEPT — SDM Vol. 3C, December 2023, §31.3 "INVEPT—Invalidate Translations Derived from
   * EPT". `eptp` is descriptor bits 63:0; bits 127:64 are not examined (the Operation section
   * does not test them). No translations are cached here, so success invalidates nothing.
   */
  invept(
    cpu: number,
    typeLo: number,
    typeHi: number,
    eptpLo: number,
    eptpHi: number,
    registerOperand = false,
  ): number {
    const s = this.state;
    const b = this.instruction(cpu);
    // #UD also when EPT or INVEPT is unsupported (the page's exception list).
    if (registerOperand || !this.inveptSupported) return STATUS_UD;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_INVEPT, 0) : gate;
    if (s[b + S_WIDE] === 1 && typeHi !== 0) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    if (typeLo === INVEPT_SINGLE_CONTEXT && (this.capLo & CAP_INVEPT_SINGLE_CONTEXT) !== 0) {
      if (!this.eptpValid(eptpLo, eptpHi)) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
      return this.succeed(b);
    }
    if (typeLo === INVEPT_ALL_CONTEXT && (this.capLo & CAP_INVEPT_ALL_CONTEXT) !== 0) return this.succeed(b);
    return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
  }

  /**
   * INVVPID — SDM Vol. 3C, December 2023, §31.3 "INVVPID—Invalidate Translations Based on VPID".
   * The descriptor is (bits 63:0, bits 127:64) = (VPID in 15:0 with 63:16 reserved, linear address).
   */
  invvpid(
    cpu: number,
    typeLo: number,
    typeHi: number,
    descriptorLo: number,
    descriptorHi: number,
    addressLo: number,
    addressHi: number,
    registerOperand = false,
  ): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (registerOperand || !this.invvpidSupported) return STATUS_UD;
    const gate = s[b + S_GATE] as number;
    if (gate !== 0) return gate === STATUS_VMEXIT ? this.vmxExit(b, VMX_EXIT_INVVPID, 0) : gate;
    if (s[b + S_WIDE] === 1 && typeHi !== 0) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    // Types 0-3 are supported when IA32_VMX_EPT_VPID_CAP bits 40-43 say so.
    if ((typeLo >>> 0) > INVVPID_LAST_TYPE || (this.capHi & (CAP_HI_INVVPID_TYPE_0 << typeLo)) === 0) {
      return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    }
    if (descriptorHi !== 0 || (descriptorLo & 0xffff_0000) !== 0) {
      return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    }
    const vpid = descriptorLo & 0xffff;
    if (typeLo === INVVPID_ALL_CONTEXT) return this.succeed(b);
    if (vpid === 0) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    if (typeLo === INVVPID_INDIVIDUAL_ADDRESS) {
      // Canonical: bits 63:47 all equal (63:56 with CR4.LA57 = 1, 5-level paging).
      const shift = ((s[b + S_CR4_LO] as number) & CR4_LA57) !== 0 ? 24 : 15;
      const top = (addressHi | 0) >> shift;
      if (top !== 0 && top !== -1) return this.fail(b, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND);
    }
    return this.succeed(b);
  }

  /**
   * VMCALL — SDM Vol. 3C, December 2023, §31.3 "VMCALL—Call to VM Monitor". In VMX root
   * operation it fails with error 1 because IA32_SMM_MONITOR_CTL's valid bit is clear here
   * (no operation sets that MSR), whether or not the profile supports the dual-monitor treatment.
   */
  vmcall(cpu: number): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (s[b + S_IN_VMX] === 0) return STATUS_UD;
    // In VMX non-root operation VMCALL exits before any mode check (the page's Operation section).
    if (s[b + S_IN_VMX] === IN_VMX_NON_ROOT) return this.vmxExit(b, VMX_EXIT_VMCALL, 0);
    if (s[b + S_VM] === 1 || (s[b + S_LMA] === 1 && s[b + S_CSL] === 0)) return STATUS_UD;
    if (s[b + S_CPL] !== 0) return STATUS_GP;
    return this.fail(b, VM_ERROR.VMCALL_IN_VMX_ROOT);
  }

  /**
   * VMFUNC — SDM Vol. 3C, December 2023, §31.3 "VMFUNC—Invoke VM function" and §26.5.6 "VM
   * Functions": #UD outside VMX non-root operation, when "enable VM functions" is 0 (or the
   * secondary controls are not activated) or EAX >= 64; a VM exit (reason 59) when the function is
   * not enabled in the VM-function controls. EPTP switching (function 0) is
   * impl/non-root/vmx-vmfunc.ts: it completes (flags unchanged, guest RIP advanced) or exits (59).
   * No profile enables another function.
   */
  vmfunc(cpu: number, eax: number, ecx: number): number {
    const s = this.state;
    const b = this.instruction(cpu);
    if (s[b + S_IN_VMX] !== IN_VMX_NON_ROOT) return STATUS_UD;
    const base = s[b + S_CUR_BASE] as number;
    const w = this.entryFacts.words;
    const v = this.memory.words;
    const primary = w.PRIMARY_PROCESSOR_BASED_CONTROLS < 0 ? 0 : (v[base + w.PRIMARY_PROCESSOR_BASED_CONTROLS] as number);
    const secondary = w.SECONDARY_PROCESSOR_BASED_CONTROLS < 0 ? 0 : (v[base + w.SECONDARY_PROCESSOR_BASED_CONTROLS] as number);
    const enabled =
      ((primary >>> PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS) & 1) === 1 && ((secondary >>> SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS) & 1) === 1;
    if (!enabled || (eax >>> 0) >= 64) return STATUS_UD;
    const word = w.VM_FUNCTION_CONTROLS;
    const controls = word < 0 ? 0 : (v[base + word + (eax >= 32 ? 1 : 0)] as number);
    if (((controls >>> (eax & 31)) & 1) === 0) return this.vmxExit(b, VMX_EXIT_VMFUNC, 0);
    if (eax !== VMFUNC_CONTROL.EPTP_SWITCHING) return STATUS_NON_ROOT_UNIMPLEMENTED;
    if (!switchEptp(this.entryFacts, this.memory, base, ecx, this.vmxWords.EPTP_INDEX)) return this.vmxExit(b, VMX_EXIT_VMFUNC, 0);
    this.advanceRip(b, vmxInstructionLength(VMX_EXIT_VMFUNC, s[b + S_WIDE] as number));
    return STATUS_SUCCEED;
  }

  // -------------------------------------------------------------------------------------------
  // Processor-state operations
  // -------------------------------------------------------------------------------------------

  /**
   * MOV to CR0 — SDM Vol. 2B, December 2023, §4.3 "MOV—Move to/from Control Registers", with the
   * paging and IA-32e rules of Vol. 3A and the VMX fixed bits of Vol. 3C §24.8 "Restrictions on
   * VMX Operation"; see impl/mov-cr.ts. A write can change the mode (IA32_EFER.LMA, CR0.PE). In
   * VMX non-root operation the CR0 guest/host mask and read shadow apply (impl/non-root/).
   * `gpr` is the source register (0..15), which the exit qualification reports.
   */
  movCr0(cpu: number, valueLo: number, valueHi: number, gpr = 0): number {
    return this.guest.movToCr(cpu, 0, valueLo, valueHi, gpr);
  }

  /** MOV to CR4 — the same page; see impl/mov-cr.ts and impl/non-root/control-registers.ts. */
  movCr4(cpu: number, valueLo: number, valueHi: number, gpr = 0): number {
    return this.guest.movToCr(cpu, 4, valueLo, valueHi, gpr);
  }

  /** WRMSR is privileged and not allowed in virtual-8086 mode (#GP(0)). */
  private privilegedInstructionFaults(b: number): boolean {
    return this.state[b + S_VM] === 1 || this.state[b + S_CPL] !== 0;
  }

  /**
   * WRMSR to IA32_FEATURE_CONTROL: #GP(0) in virtual-8086 mode and at CPL > 0 (SDM Vol. 2B,
   * December 2023, §5.1 "WRMSR—Write to Model Specific Register"), and when the lock bit is
   * already set (Vol. 3C §24.7 "Enabling and Entering VMX Operation"). Each logical processor
   * holds its own copy.
   */
  writeFeatureControl(cpu: number, valueLo: number, valueHi: number): number {
    const s = this.state;
    const b = this.instruction(cpu);
    // In VMX non-root operation it is the guest's WRMSR of 3AH: MSR bitmaps, exits (impl/non-root/msr.ts).
    if (s[b + S_IN_VMX] === IN_VMX_NON_ROOT) return this.guest.wrmsr(cpu, MSR.IA32_FEATURE_CONTROL, valueLo, valueHi);
    if (this.privilegedInstructionFaults(b)) return STATUS_GP;
    if (((s[b + S_FC_LO] as number) & FEATURE_CONTROL_LOCK) !== 0) return STATUS_GP;
    s[b + S_FC_LO] = valueLo;
    s[b + S_FC_HI] = valueHi;
    return STATUS_SUCCEED;
  }

  /**
   * Sets one piece of processor state directly (`what` is one of the SET_* codes); value 0 or 1,
   * 0..3 for CPL, 0..0xFFFFFFFF for CR3 (bits 31:0; bits 63:32 become 0). Anything else is a caller bug and throws.
   */
  setState(cpu: number, what: number, value: number): number {
    const s = this.state;
    const b = this.row(cpu);
    const max = what === SET_CR3 ? 0xffff_ffff : what === SET_CPL ? 3 : 1;
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new RangeError(`set: value must be an integer in 0..${max}, got ${value}`);
    }
    switch (what) {
      case SET_EFER_LMA:
        s[b + S_LMA] = value;
        break;
      case SET_CS_L:
        s[b + S_CSL] = value;
        break;
      case SET_CPL:
        s[b + S_CPL] = value;
        break;
      case SET_RFLAGS_VM:
        s[b + S_VM] = value;
        break;
      case SET_MOV_SS_BLOCKING:
        s[b + S_MOV_SS] = value;
        break;
      case SET_EFER_LME:
        s[b + S_LME] = value;
        break;
      case SET_CR3:
        s[b + S_CR3_LO] = value;
        s[b + S_CR3_HI] = 0;
        break;
      default:
        throw new RangeError(`set: unknown state code ${what}`);
    }
    this.refresh(b);
    return STATUS_SUCCEED;
  }

  /** An ordinary 32-bit store to physical memory; `addressLo` must be 4-byte aligned. */
  writeMemory(cpu: number, addressLo: number, addressHi: number, value: number): number {
    this.row(cpu);
    if ((addressLo & 3) !== 0) {
      throw new RangeError(`write-memory: address must be 4-byte aligned, got low bits ${addressLo & 3}`);
    }
    this.memory.write32(addressLo, addressHi, value);
    return STATUS_SUCCEED;
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots
  // -------------------------------------------------------------------------------------------

  /** Captures processors and memory (typed-array copies). */
  snapshot(): MachineSnapshot {
    return { owner: this, state: this.state.slice(), memory: this.memory.clone() };
  }

  /**
   * Puts the machine back into a state captured by {@link ImplMachine.snapshot} of this machine
   * (copying into the machine's own arrays: nothing is allocated unless memory grew since).
   */
  restore(snapshot: MachineSnapshot): void {
    if (snapshot.owner !== this) throw new Error('restore: the snapshot was taken from another machine');
    this.state.set(snapshot.state);
    this.memory.copyFrom(snapshot.memory);
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
  private instruction(cpu: number): number {
    const b = this.row(cpu);
    this.blockedByMovSs = this.state[b + S_MOV_SS] as number;
    this.state[b + S_MOV_SS] = 0;
    return b;
  }

  private row(cpu: number): number {
    if ((cpu >>> 0) !== cpu || cpu >= this.logicalProcessors) {
      throw new RangeError(`cpu ${cpu} out of range: this machine has ${this.logicalProcessors} logical processors`);
    }
    return cpu * STRIDE;
  }

  /** Recomputes the cached preamble outcome and operand size after a state change. */
  private refresh(b: number): void {
    const s = this.state;
    const compatibility = s[b + S_LMA] === 1 && s[b + S_CSL] === 0;
    const undefinedOpcode =
      s[b + S_IN_VMX] === 0 || ((s[b + S_CR0_LO] as number) & CR0_PE) === 0 || s[b + S_VM] === 1 || compatibility;
    // In VMX non-root operation the VMX instructions exit after the #UD checks, before the CPL check.
    s[b + S_GATE] = undefinedOpcode ? STATUS_UD : s[b + S_IN_VMX] === IN_VMX_NON_ROOT ? STATUS_VMEXIT : s[b + S_CPL] !== 0 ? STATUS_GP : 0;
    s[b + S_WIDE] = s[b + S_LMA] === 1 && s[b + S_CSL] === 1 ? 1 : 0;
  }

  /** CR0 and CR4 hold values allowed in VMX operation (IA32_VMX_CR0/CR4_FIXED0/FIXED1). */
  private controlRegistersAllowed(b: number): boolean {
    const s = this.state;
    return (
      fixedBitsAllowed(s[b + S_CR0_LO] as number, s[b + S_CR0_HI] as number, this.cr0Fixed0, this.cr0Fixed1) &&
      fixedBitsAllowed(s[b + S_CR4_LO] as number, s[b + S_CR4_HI] as number, this.cr4Fixed0, this.cr4Fixed1)
    );
  }

  /**
   * The EPTP passes the VM-entry checks on the EPTP field (§27.2.1.1 "VM-Execution Control
   * Fields"): supported memory type and page-walk length, A/D and supervisor-shadow-stack bits
   * only when supported, reserved bits 11:8 and 63:N clear (N = physical-address width).
   */
  private eptpValid(lo: number, hi: number): boolean {
    const cap = this.capLo;
    const memoryType = lo & 7;
    if (memoryType === 0) {
      if ((cap & CAP_MEMORY_TYPE_UC) === 0) return false;
    } else if (memoryType === 6) {
      if ((cap & CAP_MEMORY_TYPE_WB) === 0) return false;
    } else {
      return false;
    }
    const walkLengthMinusOne = (lo >>> 3) & 7;
    if (walkLengthMinusOne !== 3 && !(walkLengthMinusOne === 4 && (cap & CAP_WALK_LENGTH_5) !== 0)) return false;
    if ((lo & (1 << 6)) !== 0 && (cap & CAP_EPT_ACCESSED_DIRTY) === 0) return false;
    if ((lo & (1 << 7)) !== 0 && (cap & CAP_SUPERVISOR_SHADOW_STACK) === 0) return false;
    if ((lo & 0xf00) !== 0) return false;
    return (hi & this.physicalHiBad) === 0;
  }

  private makeNoVmcsCurrent(b: number): void {
    const s = this.state;
    s[b + S_CUR_LO] = ALL_ONES;
    s[b + S_CUR_HI] = ALL_ONES;
    s[b + S_CUR_BASE] = -1;
  }

  /** VMsucceed: all six arithmetic flags cleared. */
  private succeed(b: number): number {
    this.state[b + S_FLAGS] = 0;
    return STATUS_SUCCEED;
  }

  /** VMfailInvalid: CF = 1, the other arithmetic flags cleared. */
  private failInvalid(b: number): number {
    this.state[b + S_FLAGS] = CF;
    return STATUS_FAIL_INVALID;
  }

  /** VMfailValid(error): ZF = 1, others cleared, error stored in the current VMCS at `base`. */
  private failValid(b: number, base: number, error: number): number {
    this.memory.words[base + this.errorWord] = error;
    this.state[b + S_FLAGS] = ZF;
    return error;
  }

  /** VMfail(error): VMfailValid when there is a current VMCS, else VMfailInvalid. */
  private fail(b: number, error: number): number {
    const base = this.state[b + S_CUR_BASE] as number;
    return base < 0 ? this.failInvalid(b) : this.failValid(b, base, error);
  }
}

/** `lo/hi` has every FIXED0 bit set and no bit outside FIXED1. */
function fixedBitsAllowed(lo: number, hi: number, fixed0: readonly [number, number], fixed1: readonly [number, number]): boolean {
  return (
    (lo & fixed0[0]) === fixed0[0] && (hi & fixed0[1]) === fixed0[1] && (lo & ~fixed1[0]) === 0 && (hi & ~fixed1[1]) === 0
  );
}
