/**
 * The optimized emulator's machine: logical processors sharing physical memory, with one method
 * per VMX instruction and processor-state operation, taking 64-bit operands as two int32 halves
 * and returning a status code (impl/status.ts).
 *
 * Semantics: the Operation sections of SDM Vol. 3C, December 2023, §31.3 "VMX Instructions"
 * (one instruction page each, cited per method), with the conventions of §31.2 "Conventions"
 * for the outcomes, and §24.8 "Restrictions on VMX Operation" for CR0/CR4.
 *
 * The machine is built in layers, one file each (a class extending the one before; only
 * ImplMachine is ever instantiated, so every call site stays monomorphic):
 * impl/machine/base.ts (state and construction; the speed tricks), core.ts (observable state,
 * instruction preamble, VMX outcome conventions, VM exits), vmcs-pointers.ts (VMXON, VMXOFF,
 * VMCLEAR, VMPTRLD, VMPTRST), vmcs-fields.ts (VMREAD, VMWRITE), vm-entry.ts (VMLAUNCH, VMRESUME),
 * invalidation.ts (INVEPT, INVVPID), vmcall-vmfunc.ts (VMCALL, VMFUNC), and this file: the
 * processor-state operations and snapshots.
 */
import { FEATURE_CONTROL, MSR } from '../spec/capability-msrs.ts';
import type { PhysicalMemory } from './memory.ts';
import { IN_VMX_NON_ROOT } from './vm-entry/index.ts';
import { STATUS_GP, STATUS_SUCCEED } from './status.ts';
import { VmcallVmfuncInstructions } from './machine/vmcall-vmfunc.ts';

// Row offsets: local copies of impl/cpu-row.ts (a speed trick, see impl/machine/base.ts);
// test/impl/local-copies.test.ts checks that they agree.
const S_IN_VMX = 0;
const S_LMA = 5;
const S_CSL = 6;
const S_CPL = 7;
const S_VM = 8;
const S_MOV_SS = 9;
const S_FC_LO = 11;
const S_FC_HI = 12;
const S_LME = 21;
const S_CR3_LO = 22;
const S_CR3_HI = 23;

/** Codes of the settable processor state, in the order of spec/operations.ts `SettableState`. */
export const SET_EFER_LMA = 0;
export const SET_CS_L = 1;
export const SET_CPL = 2;
export const SET_RFLAGS_VM = 3;
export const SET_MOV_SS_BLOCKING = 4;
export const SET_EFER_LME = 5;
export const SET_CR3 = 6;

const FEATURE_CONTROL_LOCK = 1 << FEATURE_CONTROL.LOCK;

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
export class ImplMachine extends VmcallVmfuncInstructions {
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
  protected privilegedInstructionFaults(b: number): boolean {
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
}
