/**
 * The instructions whose VM exits hypervisors handle most, as operations of the engine contract
 * (case format 4; format 5 added those of spec/system-instruction-operations.ts and WBNOINVD). Each is an instruction of its logical processor: in VMX root operation or
 * outside VMX it executes as an ordinary instruction; in VMX non-root operation it either causes a
 * VM exit, as the VM-execution controls, bitmaps and masks of the current VMCS decide (SDM Vol. 3C,
 * December 2023, §26.1 "Instructions That Cause VM Exits", §26.2 "Other Causes of VM Exits",
 * §26.3 "Changes to Instruction Behavior in VMX Non-Root Operation"), or executes as in the guest.
 *
 * Register operands are named by number (`gpr`, 0 = RAX ... 15 = R15), because the exit
 * qualification and the VM-exit instruction information report them. Memory operands are given by
 * value and linear address, as for the VMX instructions (spec/operations.ts): paging and
 * segmentation faults are not modelled. The encoding of each operation, and so its instruction
 * length, is fixed in spec/instruction-encodings.ts.
 *
 * Where an instruction's ordinary (non-exiting) effect is outside the architecture the contract
 * observes (CPUID's leaves, a counter's value, an MSR's value other than those the contract
 * tracks, a port's data), it is observed as `ok` without a value.
 */
import type { Hex } from './hex.ts';
import type { OperandForm } from './operations.ts';
import type { SystemInstructionOperation } from './system-instruction-operations.ts';
import { FORMAT_5_OPERATION_KINDS } from './system-instruction-operations.ts';

interface OnProcessor {
  /** Logical processor performing the step, 0-based. */
  cpu: number;
}

/** CPUID with EAX = `eax`, ECX = `ecx` (leaf and sub-leaf). */
export interface CpuidOp extends OnProcessor {
  kind: 'cpuid';
  eax: Hex;
  ecx: Hex;
}
/** HLT. Outside a VM exit the processor is woken before its next operation, as by an event. */
export interface HltOp extends OnProcessor {
  kind: 'hlt';
}
/** INVD: invalidate caches without writing back. */
export interface InvdOp extends OnProcessor {
  kind: 'invd';
}
/**
 * WBINVD (0F 09): write back and invalidate caches; with `variant` `'wbnoinvd'` (format 5),
 * WBNOINVD (F3 0F 09, Vol. 2D "WBNOINVD—Write Back and Do Not Invalidate Cache"): write back
 * without invalidating. Both cause the same VM exit ("WBINVD exiting", reason 54).
 */
export interface WbinvdOp extends OnProcessor {
  kind: 'wbinvd';
  /** Default `'wbinvd'`. */
  variant?: 'wbinvd' | 'wbnoinvd';
}
/** INVLPG m: invalidate the TLB entries for the page of linear address `address`. */
export interface InvlpgOp extends OnProcessor {
  kind: 'invlpg';
  /** The linear address of the memory operand. */
  address: Hex;
}
/** RDTSC. */
export interface RdtscOp extends OnProcessor {
  kind: 'rdtsc';
}
/** RDTSCP. */
export interface RdtscpOp extends OnProcessor {
  kind: 'rdtscp';
}
/** RDPMC with ECX = `ecx` (the counter). */
export interface RdpmcOp extends OnProcessor {
  kind: 'rdpmc';
  ecx: Hex;
}
/** PAUSE. */
export interface PauseOp extends OnProcessor {
  kind: 'pause';
}
/** The control registers MOV to and from CR reach. */
export type ControlRegisterNumber = 0 | 3 | 4 | 8;
/**
 * MOV r64/r32, CRn: read control register `cr` into register `gpr`. Observed as `ok` with the
 * value read (in VMX non-root operation CR0 and CR4 read their read shadows in the bits their
 * guest/host masks own, §26.3 "Changes to Instruction Behavior in VMX Non-Root Operation").
 */
export interface MovFromCrOp extends OnProcessor {
  kind: 'mov-from-cr';
  cr: ControlRegisterNumber;
  /** Destination register, 0..15 (outside 64-bit mode only bits 2:0 count). */
  gpr: number;
}
/** MOV CR3, r: load CR3 with `value` from register `gpr` (default 0). */
export interface MovCr3Op extends OnProcessor {
  kind: 'mov-cr3';
  value: Hex;
  gpr?: number;
}
/** MOV CR8, r (64-bit mode only): load the task-priority register with `value`. */
export interface MovCr8Op extends OnProcessor {
  kind: 'mov-cr8';
  value: Hex;
  gpr?: number;
}
/** CLTS: clear CR0.TS. */
export interface CltsOp extends OnProcessor {
  kind: 'clts';
}
/** LMSW r/m16: load the machine status word (CR0 bits 3:0) with the low 16 bits of `value`. */
export interface LmswOp extends OnProcessor {
  kind: 'lmsw';
  value: Hex;
  /** Defaults to `'register'` (AX); `'memory'` reads the word at linear address `address`. */
  form?: OperandForm;
  /** The linear address of the memory operand (memory form only). */
  address?: Hex;
}
/** MOV to or from debug register `dr` (0..7) through register `gpr`. */
export interface MovDrOp extends OnProcessor {
  kind: 'mov-dr';
  direction: 'to' | 'from';
  dr: number;
  gpr: number;
  /** The value written (direction `'to'` only). */
  value?: Hex;
}
/** RDMSR with ECX = `ecx`. */
export interface RdmsrOp extends OnProcessor {
  kind: 'rdmsr';
  ecx: Hex;
}
/** WRMSR with ECX = `ecx` and EDX:EAX = `value`. */
export interface WrmsrOp extends OnProcessor {
  kind: 'wrmsr';
  ecx: Hex;
  value: Hex;
}
/**
 * IN, OUT, INS and OUTS. `port` is 0..0xFFFF; `immediate` encodes the port as an 8-bit
 * immediate (IN AL, imm8) instead of DX (only for non-string forms and ports up to 0xFF).
 */
export interface IoOp extends OnProcessor {
  kind: 'io';
  direction: 'in' | 'out';
  port: number;
  /** Access size in bytes. */
  size: 1 | 2 | 4;
  /** INS/OUTS. */
  string?: boolean;
  /** With a REP prefix (string forms only). */
  rep?: boolean;
  immediate?: boolean;
  /** Linear address of the string operand (string forms only; ES:rDI for INS, DS:rSI for OUTS). */
  address?: Hex;
}
/** XSETBV: write EDX:EAX = `value` to the extended control register ECX = `ecx`. */
export interface XsetbvOp extends OnProcessor {
  kind: 'xsetbv';
  ecx: Hex;
  value: Hex;
}
/** MONITOR. */
export interface MonitorOp extends OnProcessor {
  kind: 'monitor';
}
/** MWAIT. Outside a VM exit the processor is woken before its next operation, as by an event. */
export interface MwaitOp extends OnProcessor {
  kind: 'mwait';
}
/**
 * An instruction of the processor that faults with hardware exception `vector` (0..31), with
 * `errorCode` for the vectors that push one (8, 10-14, 17, 21), and, for a page fault, the
 * faulting linear address `address` (what CR2 would receive). In VMX non-root operation the
 * exception bitmap (and for #PF the page-fault error-code mask and match) decides whether it
 * causes a VM exit (§26.2 "Other Causes of VM Exits"); otherwise it is delivered to the guest and
 * observed as a `fault` with that vector.
 */
export interface ExceptionOp extends OnProcessor {
  kind: 'exception';
  vector: number;
  errorCode?: Hex;
  address?: Hex;
}

/** Every guest operation: those of case format 4 and, from format 5, spec/system-instruction-operations.ts. */
export type GuestOperation =
  | CpuidOp
  | HltOp
  | InvdOp
  | WbinvdOp
  | InvlpgOp
  | RdtscOp
  | RdtscpOp
  | RdpmcOp
  | PauseOp
  | MovFromCrOp
  | MovCr3Op
  | MovCr8Op
  | CltsOp
  | LmswOp
  | MovDrOp
  | RdmsrOp
  | WrmsrOp
  | IoOp
  | XsetbvOp
  | MonitorOp
  | MwaitOp
  | ExceptionOp
  | SystemInstructionOperation;

/** The `kind` of every guest operation of case format 4, in the order above. */
export const FORMAT_4_GUEST_OPERATION_KINDS = [
  'cpuid',
  'hlt',
  'invd',
  'wbinvd',
  'invlpg',
  'rdtsc',
  'rdtscp',
  'rdpmc',
  'pause',
  'mov-from-cr',
  'mov-cr3',
  'mov-cr8',
  'clts',
  'lmsw',
  'mov-dr',
  'rdmsr',
  'wrmsr',
  'io',
  'xsetbv',
  'monitor',
  'mwait',
  'exception',
] as const satisfies readonly GuestOperation['kind'][];

/** The `kind` of every guest operation: format 4's, then format 5's. */
export const GUEST_OPERATION_KINDS = [...FORMAT_4_GUEST_OPERATION_KINDS, ...FORMAT_5_OPERATION_KINDS] as const satisfies readonly GuestOperation['kind'][];

/**
 * True when `op` needs case format 5: one of {@link FORMAT_5_OPERATION_KINDS}, or WBINVD with a
 * `variant`.
 */
export function needsFormat5(op: { kind: string; variant?: unknown }): boolean {
  return (FORMAT_5_OPERATION_KINDS as readonly string[]).includes(op.kind) || (op.kind === 'wbinvd' && op.variant !== undefined);
}
