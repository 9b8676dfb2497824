/**
 * The operation vocabulary of the engine contract: everything a conformance case can ask an
 * engine to do, one step at a time. Operations are plain JSON (64-bit values as {@link Hex}).
 *
 * Two families:
 * - the 13 VMX instructions, with the operands the SDM's Operation sections read;
 * - processor-state operations that set up what decides an instruction's outcome (control
 *   registers, mode, CPL, MOV-SS blocking, IA32_FEATURE_CONTROL, physical memory).
 *
 * Every operation names the logical processor (`cpu`, 0-based) that performs it. All logical
 * processors share one physical memory.
 *
 * Operand size is not an operand: the SDM fixes it by mode. Register operands of VMREAD,
 * VMWRITE, INVEPT and INVVPID are 64 bits in 64-bit mode and 32 bits outside it (upper register
 * bits ignored); the memory operands of VMXON, VMCLEAR, VMPTRLD and VMPTRST are always 64 bits
 * (SDM Vol. 3C, December 2023, §31.3 "VMX Instructions", each instruction's Description).
 *
 * Memory operands are given by value (the 64 bits the instruction would read), because linear
 * addressing, paging and segmentation faults are outside VMX and not modelled.
 */
import type { GuestOperation } from './guest-operations.ts';
import type { Hex } from './hex.ts';

/** Whether an instruction operand is a register or memory (ModRM.mod = 11b or not). */
export type OperandForm = 'memory' | 'register';

interface OnProcessor {
  /** Logical processor performing the step, 0-based. */
  cpu: number;
}

/** VMXON m64: enter VMX operation with the VMXON region at `pointer`. */
export interface VmxonOp extends OnProcessor {
  kind: 'vmxon';
  /** The 64-bit physical address held in the memory operand. */
  pointer: Hex;
  /** Defaults to `'memory'`; `'register'` encodes the invalid ModRM.mod = 11b form. */
  form?: OperandForm;
}
/** VMXOFF: leave VMX operation. */
export interface VmxoffOp extends OnProcessor {
  kind: 'vmxoff';
}
/** VMCLEAR m64: make the VMCS at `pointer` inactive, not current, launch state clear. */
export interface VmclearOp extends OnProcessor {
  kind: 'vmclear';
  pointer: Hex;
  form?: OperandForm;
}
/** VMPTRLD m64: make the VMCS at `pointer` active and current. */
export interface VmptrldOp extends OnProcessor {
  kind: 'vmptrld';
  pointer: Hex;
  form?: OperandForm;
}
/** VMPTRST m64: store the current-VMCS pointer; observed as the stored value. */
export interface VmptrstOp extends OnProcessor {
  kind: 'vmptrst';
  form?: OperandForm;
}
/** VMREAD r/m, r: read the field named by `encoding`; observed as the value read. */
export interface VmreadOp extends OnProcessor {
  kind: 'vmread';
  /** The full register holding the field encoding (upper half ignored outside 64-bit mode). */
  encoding: Hex;
  /** Form of the destination operand; defaults to `'register'`. */
  form?: OperandForm;
}
/** VMWRITE r, r/m: write `value` to the field named by `encoding`. */
export interface VmwriteOp extends OnProcessor {
  kind: 'vmwrite';
  encoding: Hex;
  /** The full source register or memory value (only the low 32 bits count outside 64-bit mode). */
  value: Hex;
  /** Form of the source operand; defaults to `'register'`. */
  form?: OperandForm;
}
/** VMLAUNCH: launch the VM managed by the current VMCS. */
export interface VmlaunchOp extends OnProcessor {
  kind: 'vmlaunch';
}
/** VMRESUME: resume the VM managed by the current VMCS. */
export interface VmresumeOp extends OnProcessor {
  kind: 'vmresume';
}
/** INVEPT r, m128. */
export interface InveptOp extends OnProcessor {
  kind: 'invept';
  /** The INVEPT type register (upper half ignored outside 64-bit mode). */
  type: Hex;
  /** The 128-bit descriptor as [bits 63:0, bits 127:64]. */
  descriptor: [Hex, Hex];
  /** Form of the descriptor operand; defaults to `'memory'`. */
  form?: OperandForm;
}
/** INVVPID r, m128. */
export interface InvvpidOp extends OnProcessor {
  kind: 'invvpid';
  type: Hex;
  /** The 128-bit descriptor as [bits 63:0 (VPID in 15:0), bits 127:64 (linear address)]. */
  descriptor: [Hex, Hex];
  form?: OperandForm;
}
/** VMCALL: call to the VM monitor. */
export interface VmcallOp extends OnProcessor {
  kind: 'vmcall';
}
/** VMFUNC: invoke VM function number EAX (ECX is its argument for EPTP switching). */
export interface VmfuncOp extends OnProcessor {
  kind: 'vmfunc';
  eax: Hex;
  ecx: Hex;
}

/**
 * MOV to CR0, with every check and effect of the instruction page (SDM Vol. 2B, December 2023,
 * "MOV—Move to/from Control Registers") and of the control-register and paging chapters
 * (Vol. 3A §2.5 "Control Registers", §4.1 "Paging Modes and Control Bits", §4.4.1 "PDPTE
 * Registers"), plus the VMX fixed bits in VMX operation (Vol. 3C §24.8 "Restrictions on VMX
 * Operation"). #GP(0) in virtual-8086 mode, at CPL > 0, for bits 63:32 set (64-bit mode), PG
 * without PE, NW without CD, PG cleared in 64-bit mode or with CR4.PCIDE = 1, WP cleared with
 * CR4.CET = 1, PG set with IA32_EFER.LME = 1 and CR4.PAE = 0 or with CS.L = 1, a present PDPTE
 * with a reserved bit when PAE paging follows, and the VMX fixed bits. Reserved bits 31:0 are
 * ignored and ET stays 1. Setting PG with LME = 1 activates IA-32e mode (LMA = 1); clearing it in
 * compatibility mode leaves it (LMA = 0). Outside 64-bit mode only the low 32 bits of the value
 * count. The arithmetic flags are left as they were.
 */
export interface MovCr0Op extends OnProcessor {
  kind: 'mov-cr0';
  value: Hex;
  /** The source register, 0..15 (default 0, RAX); reported in a control-register-access exit qualification. */
  gpr?: number;
}
/**
 * MOV to CR4, from the same pages as {@link MovCr0Op}: #GP(0) in virtual-8086 mode, at CPL > 0,
 * for a bit the processor does not support (the profile's `cr4Supported`; bits 63:32 in 64-bit
 * mode), PCIDE set outside IA-32e mode or set with CR3[11:0] not 0, PAE cleared or LA57 changed in
 * IA-32e mode, CET set with CR0.WP = 0, a present PDPTE with a reserved bit when PAE paging
 * follows, and, in VMX operation, the CR4 fixed bits (VMXE cannot be cleared).
 */
export interface MovCr4Op extends OnProcessor {
  kind: 'mov-cr4';
  value: Hex;
  /** The source register, 0..15 (default 0, RAX). */
  gpr?: number;
}
/**
 * WRMSR to IA32_FEATURE_CONTROL (MSR 3AH). #GP(0) when the MSR's lock bit (bit 0) is already
 * set (SDM Vol. 3C, December 2023, §24.7 "Enabling and Entering VMX Operation"). WRMSR's own
 * checks (#GP(0) in virtual-8086 mode and at CPL > 0; Vol. 2D "WRMSR—Write to Model Specific
 * Register") come first and are compared.
 */
export interface WriteFeatureControlOp extends OnProcessor {
  kind: 'write-feature-control';
  value: Hex;
}

/** Processor state a harness sets directly, as a debugger would. */
export type SettableState =
  /** IA32_EFER.LMA: 1 = IA-32e mode active. */
  | 'efer.lma'
  /** CS.L of the current code segment: with LMA = 1, 1 = 64-bit mode, 0 = compatibility mode. */
  | 'cs.l'
  /** Current privilege level, 0..3. */
  | 'cpl'
  /** RFLAGS.VM: 1 = virtual-8086 mode. */
  | 'rflags.vm'
  /**
   * 1 = events are blocked by MOV SS / POP SS (the next instruction follows one). The blocking
   * lasts for one instruction, as the SDM says (Vol. 3C, December 2023, §27.7.1 "Interruptibility
   * State"): the next instruction operation of that processor (any kind but `set` and
   * `write-memory`), whatever its outcome, ends it. Case formats 1 and 2 kept it until the next
   * `set`; properties/case.ts upgrades such cases on reading.
   */
  | 'mov-ss-blocking'
  /** IA32_EFER.LME: 1 = IA-32e mode enabled (MOV to CR0 setting PG then activates it). */
  | 'efer.lme'
  /** CR3 bits 31:0, 0..0xFFFFFFFF (bits 63:32 are 0): bits 11:0 for CR4.PCIDE, 31:5 locate the PAE PDPT. */
  | 'cr3';

/**
 * Sets one piece of processor state that is not a VMX instruction's business to police. Always
 * observed as `ok`. `value` is 0 or 1, 0..3 for `cpl`, 0..0xFFFFFFFF for `cr3`. Nothing else
 * changes with it (setting `efer.lma` does not touch LME, CR0 or CS.L; setting `efer.lme` is not
 * WRMSR and has no #GP while paging is on). The state stays as set until another `set` or an
 * instruction changes it, except `mov-ss-blocking`, which the next instruction of the processor
 * ends. `set` and `write-memory` are harness operations, not instructions: they never end MOV-SS
 * blocking.
 */
export interface SetStateOp extends OnProcessor {
  kind: 'set';
  what: SettableState;
  value: number;
}

/**
 * An ordinary 32-bit store to physical memory at a 4-byte-aligned `address`, used to lay out
 * VMXON and VMCS regions (revision identifier in bits 30:0, shadow-VMCS indicator in bit 31).
 */
export interface WriteMemoryOp extends OnProcessor {
  kind: 'write-memory';
  address: Hex;
  /** The 32-bit value stored (at most `0xffffffff`). */
  value: Hex;
}

/** Any operation of the engine contract. */
export type Operation =
  | VmxonOp
  | VmxoffOp
  | VmclearOp
  | VmptrldOp
  | VmptrstOp
  | VmreadOp
  | VmwriteOp
  | VmlaunchOp
  | VmresumeOp
  | InveptOp
  | InvvpidOp
  | VmcallOp
  | VmfuncOp
  | MovCr0Op
  | MovCr4Op
  | WriteFeatureControlOp
  | SetStateOp
  | WriteMemoryOp
  | GuestOperation;

/** The `kind` of any operation. */
export type OperationKind = Operation['kind'];

/**
 * True when `op` is an instruction of its processor, so that it ends MOV-SS blocking (see
 * {@link SettableState}): every operation but the harness operations `set` and `write-memory`.
 */
export function isInstruction(op: Operation): boolean {
  return op.kind !== 'set' && op.kind !== 'write-memory';
}

/** The 13 VMX instructions, in the order of the SDM's VMX instruction reference. */
export const VMX_INSTRUCTION_KINDS = [
  'invept',
  'invvpid',
  'vmcall',
  'vmclear',
  'vmfunc',
  'vmlaunch',
  'vmresume',
  'vmptrld',
  'vmptrst',
  'vmread',
  'vmwrite',
  'vmxoff',
  'vmxon',
] as const satisfies readonly OperationKind[];
