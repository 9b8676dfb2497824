/**
 * The guest operations of case format 4 (spec/guest-operations.ts) on an {@link ImplMachine}: one
 * method per operation, taking the logical processor first and 64-bit operands as (lo, hi) int32
 * halves, returning a status code (impl/status.ts, plus {@link STATUS_FAULT} and
 * {@link STATUS_GUEST_UNIMPLEMENTED}). The machine holds one instance as `machine.guest`.
 *
 * Reading order: context.ts (faults, the exception bitmap, VM exits, completion), then one file per
 * group: simple.ts, control-registers.ts, debug-registers.ts, msr.ts, io.ts; exceptions here. The
 * instructions of case format 5: random.ts, invpcid.ts, descriptor-tables.ts (with
 * hidden-state.ts), xsaves.ts; their lengths and instruction information in
 * system-exit-info.ts, the processor's features in system-features.ts.
 */
import { S_IN_VMX, S_WIDE, STRIDE } from '../cpu-row.ts';
import { STATUS_GP, STATUS_UD } from '../status.ts';
import { GuestContext, NON_ROOT, TYPE_HARDWARE_EXCEPTION, TYPE_NMI, TYPE_SOFTWARE_EXCEPTION } from './context.ts';
import { clts, lmsw, movFromCr, movToCr, movToCr3, movToCr8 } from './control-registers.ts';
import { movDr } from './debug-registers.ts';
import { io } from './io.ts';
import { rdmsr, wrmsr } from './msr.ts';
import { descriptorTable } from './descriptor-tables.ts';
import { invpcid } from './invpcid.ts';
import { random } from './random.ts';
import { cpuid, getsec, hlt, invd, invlpg, monitor, mwait, pause, rdpmc, rdtsc, rdtscp, wbinvd, xsetbv } from './simple.ts';
import { xsaves } from './xsaves.ts';

export { STATUS_FAULT, STATUS_GUEST_UNIMPLEMENTED, type MachineHooks } from './context.ts';
export { resetDebugRegisters } from './debug-registers.ts';
export { IO_FLAG_IMMEDIATE, IO_FLAG_IN, IO_FLAG_REP, IO_FLAG_STRING } from './io.ts';
export { loadHostDescriptorTables } from './hidden-state.ts';
export { DESCRIPTOR_TABLE_INSTRUCTIONS, DT_SGDT, DT_SIDT, DT_SLDT, DT_STR, randomSizeIndex } from './system-exit-info.ts';

const VECTOR_NMI = 2;
const VECTOR_BP = 3;
const VECTOR_OF = 4;
const VECTOR_PF = 14;
/** INT3 (CCH) and INTO (CEH), the instructions raising #BP and #OF, are one byte long. */
const SOFTWARE_EXCEPTION_LENGTH = 1;

/** The guest operations of one machine. */
export class GuestOperations extends GuestContext {
  cpuid(cpu: number): number {
    return cpuid(this, cpu);
  }
  hlt(cpu: number): number {
    return hlt(this, cpu);
  }
  invd(cpu: number): number {
    return invd(this, cpu);
  }
  /** WBINVD, or WBNOINVD when `noInvalidate`. */
  wbinvd(cpu: number, noInvalidate = false): number {
    return wbinvd(this, cpu, noInvalidate);
  }
  invlpg(cpu: number, addressLo: number, addressHi: number): number {
    return invlpg(this, cpu, addressLo, addressHi);
  }
  rdtsc(cpu: number): number {
    return rdtsc(this, cpu);
  }
  rdtscp(cpu: number): number {
    return rdtscp(this, cpu);
  }
  rdpmc(cpu: number, ecx: number): number {
    return rdpmc(this, cpu, ecx);
  }
  pause(cpu: number): number {
    return pause(this, cpu);
  }
  monitor(cpu: number): number {
    return monitor(this, cpu);
  }
  mwait(cpu: number): number {
    return mwait(this, cpu);
  }
  xsetbv(cpu: number, ecx: number, valueLo: number, valueHi: number): number {
    return xsetbv(this, cpu, ecx, valueLo, valueHi);
  }
  /** MOV r, CRn (cr 0, 3, 4, 8); the value read in `value`. */
  movFromCr(cpu: number, cr: number, gpr: number): number {
    return movFromCr(this, cpu, cr, gpr);
  }
  /** MOV CR0 (cr 0) or CR4 (cr 4), r. */
  movToCr(cpu: number, cr: 0 | 4, valueLo: number, valueHi: number, gpr: number): number {
    return movToCr(this, this.hooks.instruction(cpu), cr, valueLo, valueHi, gpr);
  }
  movCr3(cpu: number, valueLo: number, valueHi: number, gpr: number): number {
    return movToCr3(this, cpu, valueLo, valueHi, gpr);
  }
  movCr8(cpu: number, valueLo: number, valueHi: number, gpr: number): number {
    return movToCr8(this, cpu, valueLo, valueHi, gpr);
  }
  clts(cpu: number): number {
    return clts(this, cpu);
  }
  /** LMSW; `memory` selects the memory form, whose linear address is (addressLo, addressHi). */
  lmsw(cpu: number, value: number, memory: boolean, addressLo: number, addressHi: number): number {
    return lmsw(this, cpu, value, memory, addressLo, addressHi);
  }
  /** MOV DRn, r (`from` false) or MOV r, DRn (`from` true; the value read in `value`). */
  movDr(cpu: number, from: boolean, dr: number, gpr: number, valueLo: number, valueHi: number): number {
    return movDr(this, cpu, from, dr, gpr, valueLo, valueHi);
  }
  rdmsr(cpu: number, ecx: number): number {
    return rdmsr(this, cpu, ecx);
  }
  wrmsr(cpu: number, ecx: number, valueLo: number, valueHi: number): number {
    return wrmsr(this, cpu, ecx, valueLo, valueHi);
  }
  /** IN/OUT/INS/OUTS: `flags` of IO_FLAG_*; the string operand's linear address for INS/OUTS. */
  io(cpu: number, flags: number, port: number, size: number, addressLo: number, addressHi: number): number {
    return io(this, cpu, flags, port, size, addressLo, addressHi);
  }

  /** RDRAND (`seed` false) or RDSEED into `gpr`, operand size index 0..2 (16, 32, 64 bits); the value in `value`. */
  random(cpu: number, seed: boolean, gpr: number, sizeIndex: number): number {
    return random(this, cpu, seed, gpr, sizeIndex);
  }
  /** INVPCID: type (lo, hi) in register `typeGpr`, descriptor bits 63:0 (d0) and 127:64 (d1). */
  invpcid(cpu: number, typeGpr: number, typeLo: number, typeHi: number, d0Lo: number, d0Hi: number, d1Lo: number, d1Hi: number): number {
    return invpcid(this, cpu, typeGpr, typeLo, typeHi, d0Lo, d0Hi, d1Lo, d1Hi);
  }
  /**
   * A descriptor-table instruction (DT_SGDT ... DT_LTR); `register` gpr + 1 or 0 (memory);
   * `operand` the limit (LGDT/LIDT) or selector (LLDT/LTR); the base LGDT/LIDT load. SGDT, SIDT,
   * SLDT and STR leave the value stored in `value`.
   */
  descriptorTable(cpu: number, instruction: number, register: number, operand: number, baseLo: number, baseHi: number): number {
    return descriptorTable(this, cpu, instruction, register, operand, baseLo, baseHi);
  }
  getsec(cpu: number): number {
    return getsec(this, cpu);
  }
  /** XSAVES (`restore` false) or XRSTORS with the instruction mask EDX:EAX = (maskHi, maskLo). */
  xsaves(cpu: number, restore: boolean, maskLo: number, maskHi: number): number {
    return xsaves(this, cpu, restore, maskLo, maskHi);
  }

  /**
   * An instruction faulting with exception `vector` (and error code, when `hasErrorCode`; for a
   * page fault, the faulting linear address). #BP and #OF come from INT3 and INTO, software
   * exceptions (interruption type 6, instruction length 1); vector 2 is an NMI (type 2, decided by
   * "NMI exiting"); every other vector a hardware exception (type 3). See GuestContext.raise.
   */
  exception(cpu: number, vector: number, hasErrorCode: boolean, errorCode: number, addressLo: number, addressHi: number): number {
    const b = this.hooks.instruction(cpu);
    const software = vector === VECTOR_BP || vector === VECTOR_OF;
    const type = vector === VECTOR_NMI ? TYPE_NMI : software ? TYPE_SOFTWARE_EXCEPTION : TYPE_HARDWARE_EXCEPTION;
    const pageFault = vector === VECTOR_PF;
    const qualLo = pageFault ? addressLo : 0;
    const qualHi = pageFault && this.s[b + S_WIDE] === 1 ? addressHi : 0;
    return this.raise(b, vector, type, hasErrorCode, errorCode, qualLo, qualHi, software ? SOFTWARE_EXCEPTION_LENGTH : 0, false);
  }

  /**
   * A #UD or #GP(0) status of a VMX instruction executed by processor `cpu`: in VMX non-root
   * operation it goes through the exception bitmap (possibly a VM exit, reason 0); other statuses
   * are returned as they are.
   */
  deliver(cpu: number, status: number): number {
    if (status !== STATUS_UD && status !== STATUS_GP) return status;
    const b = cpu * STRIDE;
    if (this.s[b + S_IN_VMX] !== NON_ROOT) return status;
    return status === STATUS_UD ? this.ud(b) : this.gp(b);
  }
}
