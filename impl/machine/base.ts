/**
 * The optimized emulator's machine, first layer: its state (one Int32Array row per logical
 * processor, physical memory, the profile's facts decoded once) and its construction. The
 * instructions are added layer by layer in impl/machine/ (core.ts, vmcs-pointers.ts,
 * vmcs-fields.ts, vm-entry.ts, invalidation.ts, vmcall-vmfunc.ts) and impl/machine.ts
 * (ImplMachine); each method takes 64-bit operands as two int32 halves and returns a status code
 * (impl/status.ts). Nothing on the VMREAD/VMWRITE path allocates or touches BigInt.
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
import { initialProcessorState } from '../../spec/initial-state.ts';
import type { Profile } from '../../spec/profile.ts';
import { halvesOf } from '../hex-halves.ts';
import { CHUNK_WORDS, INITIAL_CHUNKS, PhysicalMemory } from '../memory.ts';
import { factsFor, type ProfileFacts } from '../profile-facts.ts';
import { GuestOperations, resetDebugRegisters } from '../non-root/index.ts';
import { entryFactsFor, guestFactsFor, type EntryFacts, type GuestFacts } from '../vm-entry/index.ts';
import { ExitInfo, exitFactsFor, initialiseTrackedState, VmExits, type ExitFacts } from '../vm-exit/index.ts';
import { VmcsShadowing } from '../non-root/vmx-shadowing.ts';
import { nonRootWordsFor, type NonRootWords } from '../non-root/words.ts';
import { EntryEvents } from '../vm-entry/pending-events.ts';
import { EventDelivery } from '../non-root/event-delivery/index.ts';
import { vmxGuestWordsFor, type VmxGuestWords } from '../non-root/vmx-words.ts';

// The row layout is documented in impl/cpu-row.ts. Trick: these are local copies of its
// offsets, not imports: an imported binding is loaded from its module cell at every use (with
// them imported, a VMWRITE+VMREAD pairs loop ran 17-28% slower in two interleaved runs). A local
// module-level `const` is still a load from the module context with a type check at every use
// (seen in V8's optimized code); the files on the VM-entry and VM-exit paths go one step further
// and keep their constants in a `const enum`, which esbuild writes as literals (impl/literals.ts).
// test/impl/local-copies.test.ts and test/impl/cpu-row.test.ts check the copies.
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
const S_LME = 21;
const S_CR3_LO = 22;
const S_CR3_HI = 23;
const STRIDE = 64;

const ALL_ONES = -1;

const INITIAL_CR0 = halvesOf(initialProcessorState.cr0);
const INITIAL_CR4 = halvesOf(initialProcessorState.cr4);
const INITIAL_CR3 = halvesOf(initialProcessorState.cr3);

/**
 * The machine's state and construction; the instructions are in the layers above it (see the
 * file comment). Members are protected so that the layers share them; the public API is
 * {@link ImplMachine} (impl/machine.ts).
 */
export abstract class MachineBase {
  /**
   * The value the last successful VMREAD read or VMPTRST stored, as int32 halves. Trick: a typed
   * array keeps the stores monomorphic int32 writes; a number property would switch to a boxed
   * double representation as soon as a value reaches 2^31.
   */
  protected readonly result: Int32Array;
  /**
   * The last VM exit or VM-entry failure: [0] the exit reason (bit 31 set for a VM-entry
   * failure), [1] and [2] the exit qualification's halves. Read through exitReason and
   * exitQualificationLo/Hi after STATUS_VMEXIT or STATUS_ENTRY_FAILURE.
   */
  protected readonly exit = new Int32Array(3);
  /** MOV-SS blocking of the processor executing the current instruction, as it was before it (see instruction()). */
  protected blockedByMovSs = 0;
  /**
   * The exit information besides the exit reason that the next VM exit writes (SDM Vol. 3C,
   * §28.2): an exiting instruction sets its members and `defined` bits, then calls
   * {@link ImplMachine.vmExit}, which consumes it.
   */
  readonly exitInfo = new ExitInfo();
  /** VM exits, VM-entry failures and the tracked guest state (impl/vm-exit/). */
  protected readonly exits: VmExits;
  /** The end of a VM entry: injection, activity state, VM exits before the first guest instruction (impl/vm-entry/pending-events.ts). */
  readonly events: EntryEvents;
  /** Delivery of events through the guest IDT (impl/non-root/event-delivery/). */
  readonly delivery: EventDelivery;
  /** Fields the VM exits after a guest instruction read (impl/non-root/instruction-boundary.ts). */
  protected readonly eventWords: NonRootWords;
  /**
   * Row offset of the processor whose guest instruction completed (advanced guest RIP) in the
   * current step, -1 when none: impl/program.ts `execute` resets it and then asks
   * ImplMachine.afterInstruction about the VM exits at the boundary after it.
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
  protected readonly fieldEntry: Int16Array;
  /** Memory chunks the words of impl/'s region layout span (impl/memory.ts). */
  protected readonly regionChunks: number;
  /** Word offset of the VM-instruction error field in a VMCS image. */
  protected readonly errorWord: number;

  // Profile facts, decoded once into int32 form.
  protected readonly revisionId: number;
  /** High-half bits a VMXON/VMCS pointer must not set (beyond the pointer width). */
  protected readonly pointerHiBad: number;
  /** High-half bits an EPTP must not set (beyond the physical-address width). */
  protected readonly physicalHiBad: number;
  protected readonly shadowingSupported: boolean;
  protected readonly anyFieldWritable: boolean;
  protected readonly inveptSupported: boolean;
  protected readonly invvpidSupported: boolean;
  protected readonly capLo: number;
  protected readonly capHi: number;
  protected readonly cr0Fixed0: readonly [number, number];
  protected readonly cr0Fixed1: readonly [number, number];
  protected readonly cr4Fixed0: readonly [number, number];
  protected readonly cr4Fixed1: readonly [number, number];
  /** Field words of the guest's VMX instructions (impl/non-root/vmx-words.ts). */
  protected readonly vmxWords: VmxGuestWords;
  /** VMREAD/VMWRITE in VMX non-root operation (impl/non-root/vmx-shadowing.ts). */
  protected readonly shadowing: VmcsShadowing;
  /** The decoded profile facts, as impl/mov-cr.ts reads them. */
  protected readonly facts: ProfileFacts;
  /** Profile facts of VM entry's checks on controls and host state (impl/vm-entry/). */
  protected readonly entryFacts: EntryFacts;
  /** Profile facts of VM entry's guest-state phase, MSR loading and state loading (impl/vm-entry/). */
  protected readonly guestFacts: GuestFacts;
  /** Profile facts of VM exits (impl/vm-exit/). */
  protected readonly exitFacts: ExitFacts;

  // Mutable machine state (everything snapshot() captures).
  protected readonly state: Int32Array;
  protected readonly memory: PhysicalMemory;

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
    this.delivery = new EventDelivery(profile, this.state, this.memory);
    this.events = new EntryEvents(profile, this.state, this.memory, this.exitInfo, this.exits, this.delivery);
    this.eventWords = nonRootWordsFor(profile);
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
      afterDelivery: (b) => this.afterDelivery(b),
    }, this.delivery);
  }

  /** Row offset of `cpu` for an instruction, consuming its MOV-SS blocking (impl/machine/core.ts). */
  protected abstract instruction(cpu: number): number;
  /** Recomputes the cached preamble outcome and operand size (impl/machine/core.ts). */
  protected abstract refresh(b: number): void;
  /** The VM exit of the processor at row `b` (impl/machine/core.ts). */
  abstract vmExit(b: number, reason: number): number;
  /** A completed guest instruction advances guest RIP (impl/machine/core.ts). */
  abstract advanceRip(b: number, length: number): void;
  /** The VM exit at the boundary after an exception's delivery in the guest, or 0 (impl/machine/core.ts). */
  abstract afterDelivery(b: number): number;
}
