/**
 * The encoding the contract assumes for every instruction operation, so that the instruction
 * length (VM-exit instruction length, the guest RIP after an instruction that completes in the
 * guest) and the register and addressing fields of the VM-exit instruction information are
 * defined for a case (SDM Vol. 3C, December 2023, §28.2.5 "Information for VM Exits Due to
 * Instruction Execution"; lengths from the opcode tables of Vol. 2, Appendix A "Opcode Map").
 *
 * Conventions:
 * - No prefixes beyond those the instruction needs (66H, F3H, REX), no segment override.
 * - Memory operands are `[RBX]` (`[EBX]` outside 64-bit mode): ModRM mod = 00b, r/m = 011b, no
 *   SIB byte, no displacement, segment DS. Its address size is 64 bits in 64-bit mode and 32 bits
 *   otherwise (16-bit code segments are not modelled).
 * - INVPCID keeps its type in RCX unless the operation names another register (`typeGpr`).
 * - VMREAD/VMWRITE keep the field encoding in RCX and the value in RDX (register form); INVEPT
 *   and INVVPID keep the type in RCX. The numbers differ from the memory base on purpose, so that
 *   an engine that swaps register fields is seen.
 * - A REX prefix is added in 64-bit mode when a register operand is 8..15 or the control register
 *   is CR8; outside 64-bit mode only bits 2:0 of a register number count.
 */
import type { Operation } from './operations.ts';

/** General-purpose register numbers as the instruction information and exit qualifications use them. */
export const GPR = { RAX: 0, RCX: 1, RDX: 2, RBX: 3, RSP: 4, RBP: 5, RSI: 6, RDI: 7 } as const;

/** Segment register numbers as the instruction information uses them (ES 0 ... GS 5). */
export const SEGMENT_REGISTER = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5 } as const;

/** The register holding the base of every memory operand. */
export const MEMORY_OPERAND_BASE = GPR.RBX;
/** The segment of every memory operand but INS's (ES:rDI). */
export const MEMORY_OPERAND_SEGMENT = SEGMENT_REGISTER.DS;
/** The register holding the VMCS-field encoding of VMREAD and VMWRITE. */
export const FIELD_ENCODING_REGISTER = GPR.RCX;
/** The register VMREAD writes (register form) and VMWRITE reads (register form). */
export const FIELD_VALUE_REGISTER = GPR.RDX;
/** The register holding the INVEPT/INVVPID type. */
export const INVALIDATION_TYPE_REGISTER = GPR.RCX;

/** Length in bytes of the operations whose encoding does not depend on operands or mode. */
const FIXED_LENGTH: Partial<Record<Operation['kind'], number>> = {
  vmxon: 4, // F3 0F C7 /6
  vmclear: 4, // 66 0F C7 /6
  vmptrld: 3, // 0F C7 /6
  vmptrst: 3, // 0F C7 /7
  vmread: 3, // 0F 78 /r
  vmwrite: 3, // 0F 79 /r
  vmlaunch: 3, // 0F 01 C2
  vmresume: 3, // 0F 01 C3
  vmxoff: 3, // 0F 01 C4
  vmcall: 3, // 0F 01 C1
  vmfunc: 3, // 0F 01 D4
  invept: 5, // 66 0F 38 80 /r
  invvpid: 5, // 66 0F 38 81 /r
  'write-feature-control': 2, // WRMSR: 0F 30
  cpuid: 2, // 0F A2
  hlt: 1, // F4
  invd: 2, // 0F 08
  invlpg: 3, // 0F 01 /7
  rdtsc: 2, // 0F 31
  rdtscp: 3, // 0F 01 F9
  rdpmc: 2, // 0F 33
  pause: 2, // F3 90
  'mov-cr8': 4, // REX.R 0F 22 /r
  clts: 2, // 0F 06
  lmsw: 3, // 0F 01 /6
  rdmsr: 2, // 0F 32
  wrmsr: 2, // 0F 30
  xsetbv: 3, // 0F 01 D1
  monitor: 3, // 0F 01 C8
  mwait: 3, // 0F 01 C9
  getsec: 2, // 0F 37
  xsaves: 3, // 0F C7 /5
  xrstors: 3, // 0F C7 /3
};

/** 1 when a REX prefix is needed for register `gpr` in 64-bit mode. */
function rexFor(gpr: number | undefined, in64BitMode: boolean): number {
  return in64BitMode && (gpr ?? 0) >= 8 ? 1 : 0;
}

/**
 * The length in bytes of `op` as encoded by the conventions above, executed in 64-bit mode or not;
 * `undefined` for harness operations (`set`, `write-memory`) and for `exception`, whose faulting
 * instruction is not specified (the SDM leaves the VM-exit instruction length undefined for
 * hardware exceptions).
 */
export function instructionLength(op: Operation, in64BitMode: boolean): number | undefined {
  switch (op.kind) {
    case 'set':
    case 'write-memory':
    case 'exception':
      return undefined;
    case 'mov-cr0':
    case 'mov-cr4':
    case 'mov-cr3':
      return 3 + rexFor(op.gpr, in64BitMode); // 0F 22 /r
    case 'mov-from-cr':
      return 3 + (in64BitMode && (op.gpr >= 8 || op.cr === 8) ? 1 : 0); // 0F 20 /r
    case 'mov-dr':
      return 3 + rexFor(op.gpr, in64BitMode); // 0F 21 /r, 0F 23 /r
    case 'wbinvd':
      return op.variant === 'wbnoinvd' ? 3 : 2; // F3 0F 09, 0F 09
    case 'rdrand':
    case 'rdseed': {
      // 0F C7 /6 or /7 with mod = 11b; 66H for 16 bits; REX (W for 64 bits, B for R8-R15) in 64-bit mode.
      const operandSizePrefix = op.size === 16 ? 1 : 0;
      const rex = in64BitMode && (op.size === 64 || op.gpr >= 8) ? 1 : 0;
      return 3 + operandSizePrefix + rex;
    }
    case 'invpcid':
      return 5 + rexFor(op.typeGpr, in64BitMode); // 66 0F 38 82 /r
    case 'descriptor-table':
      // 0F 01 /0-/3 (SGDT, SIDT, LGDT, LIDT) and 0F 00 /0-/3 (SLDT, STR, LLDT, LTR); no REX.W.
      return 3 + (op.form === 'register' ? rexFor(op.gpr, in64BitMode) : 0);
    case 'io': {
      const operandSizePrefix = op.size === 2 ? 1 : 0;
      if (op.string === true) return 1 + operandSizePrefix + (op.rep === true ? 1 : 0); // 6C-6F
      return (op.immediate === true ? 2 : 1) + operandSizePrefix; // E4-E7 ib, EC-EF
    }
    default: {
      const length = FIXED_LENGTH[op.kind];
      if (length === undefined) throw new Error(`no encoding for operation kind ${op.kind}`);
      return length;
    }
  }
}
