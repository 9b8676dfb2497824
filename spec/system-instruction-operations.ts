/**
 * The guest operations added by case format 5: RDRAND and RDSEED, INVPCID, the descriptor-table
 * instructions (SGDT, SIDT, LGDT, LIDT, SLDT, STR, LLDT, LTR), GETSEC, XSAVES and XRSTORS. Like the
 * operations of spec/guest-operations.ts, each is an instruction of its logical processor, usable
 * in VMX root operation, outside VMX and in a guest; in VMX non-root operation the controls of the
 * current VMCS decide between a fault, a VM exit and execution in the guest (SDM Vol. 3C, December
 * 2023, §26.1.2 "Instructions That Cause VM Exits Unconditionally", §26.1.3 "Instructions That
 * Cause VM Exits Conditionally", §26.3 "Changes to Instruction Behavior in VMX Non-Root
 * Operation"). Their VM exits report instruction information (§28.2.5 "Information for VM Exits
 * Due to Instruction Execution"; spec/instruction-information.ts).
 *
 * Memory operands are `[RBX]` in DS, given by value, as for the VMX instructions
 * (spec/instruction-encodings.ts). Register operands are numbers (0 = RAX ... 15 = R15).
 */
import type { Hex } from './hex.ts';
import type { OperandForm } from './operations.ts';

interface OnProcessor {
  /** Logical processor performing the step, 0-based. */
  cpu: number;
}

/** Operand sizes of RDRAND and RDSEED, in bits. */
export type RandomOperandSize = 16 | 32 | 64;

/**
 * RDRAND r16/r32/r64 (Vol. 2B "RDRAND—Read Random Number"; 0F C7 /6, ModRM.mod = 11b). Without
 * a VM exit it sets CF = 1 and writes a random value to register `gpr`, or, when no random value
 * was available, sets CF = 0 and writes 0; OF, SF, ZF, AF and PF are cleared. Observed as `ok`
 * (the arithmetic flags say which; with CF = 0 the `value` 0, with CF = 1 any `value` or none).
 * `size` 64 needs REX.W and so 64-bit mode: outside 64-bit mode the operation is encoded without
 * it and the operand size is 32 bits.
 */
export interface RdrandOp extends OnProcessor {
  kind: 'rdrand';
  /** Destination register, 0..15 (outside 64-bit mode only bits 2:0 count). */
  gpr: number;
  size: RandomOperandSize;
}

/** RDSEED r16/r32/r64 (Vol. 2B "RDSEED—Read Random SEED"; 0F C7 /7, ModRM.mod = 11b), observed as {@link RdrandOp}. */
export interface RdseedOp extends OnProcessor {
  kind: 'rdseed';
  gpr: number;
  size: RandomOperandSize;
}

/**
 * INVPCID r64/r32, m128 (Vol. 2B "INVPCID—Invalidate Process-Context Identifier"; 66 0F 38 82 /r):
 * the type is in register `typeGpr` (default RCX; 32 bits outside 64-bit mode, 64 bits in it), the
 * 128-bit descriptor at `[RBX]`: PCID in bits 11:0, bits 63:12 reserved (must be 0), the linear
 * address in bits 127:64. Observed as `ok` when it completes.
 */
export interface InvpcidOp extends OnProcessor {
  kind: 'invpcid';
  /** The type register's value. */
  type: Hex;
  /** The 128-bit descriptor as [bits 63:0 (PCID in 11:0), bits 127:64 (linear address)]. */
  descriptor: [Hex, Hex];
  /** The register holding the type, 0..15 (default 1, RCX). */
  typeGpr?: number;
}

/** The eight instructions of the descriptor-table operation. */
export type DescriptorTableInstruction = 'sgdt' | 'sidt' | 'lgdt' | 'lidt' | 'sldt' | 'str' | 'lldt' | 'ltr';

/** The instructions of {@link DescriptorTableInstruction} that reach GDTR or IDTR (VM exit reason 46); the others reach LDTR or TR (47). */
export const GDTR_IDTR_INSTRUCTIONS = ['sgdt', 'sidt', 'lgdt', 'lidt'] as const satisfies readonly DescriptorTableInstruction[];

/**
 * One of the descriptor-table instructions (Vol. 2A "LGDT/LIDT—Load Global/Interrupt Descriptor
 * Table Register", "LLDT—Load Local Descriptor Table Register", Vol. 2B "LTR—Load Task Register",
 * "SGDT—Store Global Descriptor Table Register", "SIDT—Store Interrupt Descriptor Table Register",
 * "SLDT—Store Local Descriptor Table Register", "STR—Store Task Register"). Encodings: SGDT 0F 01 /0,
 * SIDT 0F 01 /1, LGDT 0F 01 /2, LIDT 0F 01 /3 (memory only), SLDT 0F 00 /0, STR 0F 00 /1,
 * LLDT 0F 00 /2, LTR 0F 00 /3 (register or memory).
 *
 * - `form`: `'memory'` (default, `[RBX]`) or `'register'` (SLDT, STR, LLDT and LTR only), with
 *   the register `gpr` (default 0, RAX).
 * - LGDT and LIDT read the pseudo-descriptor `limit` (16 bits) and `base` (64 bits in 64-bit
 *   mode, otherwise the low 32 bits count) from memory; both are required for them.
 * - LLDT and LTR read the 16-bit `selector` (required for them) from the register or memory.
 * - SGDT and SIDT are observed as `ok` with the `value` of the stored base (the limit is stored
 *   too but not compared); SLDT and STR as `ok` with the selector stored.
 */
export interface DescriptorTableOp extends OnProcessor {
  kind: 'descriptor-table';
  instruction: DescriptorTableInstruction;
  form?: OperandForm;
  /** The register operand (register form only), 0..15. */
  gpr?: number;
  /** LGDT/LIDT: the limit of the pseudo-descriptor, 0..0xFFFF. */
  limit?: Hex;
  /** LGDT/LIDT: the base of the pseudo-descriptor. */
  base?: Hex;
  /** LLDT/LTR: the segment selector, 0..0xFFFF. */
  selector?: Hex;
}

/**
 * GETSEC (Vol. 2D "GETSEC[CAPABILITIES]" and the other leaves of chapter 7, "Safer Mode
 * Extensions Reference"; 0F 37), leaf EAX = `eax` (default 0, CAPABILITIES). #UD when CR4.SMXE = 0;
 * in VMX non-root operation otherwise a VM exit (reason 11, Vol. 3D Appendix C). The leaves' own effects are not part
 * of the contract (an engine may answer `unimplemented` for them outside a guest).
 */
export interface GetsecOp extends OnProcessor {
  kind: 'getsec';
  eax?: Hex;
}

/**
 * XSAVES m (Vol. 2D "XSAVES—Save Processor Extended States Supervisor"; 0F C7 /5): save the
 * state components of the requested-feature bitmap `mask` (EDX:EAX) that XCR0 | IA32_XSS enable,
 * to the XSAVE area at `[RBX]`. In VMX non-root operation "enable XSAVES/XRSTORS" and the
 * XSS-exiting bitmap decide (#UD, VM exit 63 or execution). Its effect on memory is not part of
 * the contract: `ok` without a value when it completes.
 */
export interface XsavesOp extends OnProcessor {
  kind: 'xsaves';
  /** EDX:EAX, the instruction mask. */
  mask: Hex;
}

/** XRSTORS m (Vol. 2D "XRSTORS—Restore Processor Extended States Supervisor"; 0F C7 /3), as {@link XsavesOp} (VM exit 64). */
export interface XrstorsOp extends OnProcessor {
  kind: 'xrstors';
  mask: Hex;
}

/** The guest operations case format 5 added, as a union. */
export type SystemInstructionOperation = RdrandOp | RdseedOp | InvpcidOp | DescriptorTableOp | GetsecOp | XsavesOp | XrstorsOp;

/** The `kind` of every operation case format 5 added (besides the WBNOINVD variant of `wbinvd`). */
export const FORMAT_5_OPERATION_KINDS = [
  'rdrand',
  'rdseed',
  'invpcid',
  'descriptor-table',
  'getsec',
  'xsaves',
  'xrstors',
] as const satisfies readonly SystemInstructionOperation['kind'][];
