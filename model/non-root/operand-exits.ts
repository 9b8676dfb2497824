/**
 * The exit information of the guest operations of case format 5 that report VM-exit instruction
 * information (SDM Vol. 3C, December 2023, §28.2.5 "Information for VM Exits Due to Instruction
 * Execution"; formats in spec/instruction-information.ts), and what they share: the memory
 * operand `[RBX]` in DS with the mode's address size (spec/instruction-encodings.ts), and the exit
 * qualification of §28.2.1 "Basic VM-Exit Information": for INVPCID, LGDT, LIDT, LLDT, LTR, SGDT,
 * SIDT, SLDT, STR, XRSTORS and XSAVES the displacement of the memory operand (none, so 0; 0 for a
 * register operand too), its bits above a 32-bit address size undefined; cleared for the others
 * (RDRAND, RDSEED, GETSEC).
 */
import type { ExitInformation } from '../../spec/exit-information.ts';
import { exitSavesQualification } from '../../spec/exit-qualification.ts';
import { MEMORY_OPERAND_BASE, MEMORY_OPERAND_SEGMENT } from '../../spec/instruction-encodings.ts';
import { ADDRESS_SIZE } from '../../spec/instruction-information.ts';
import type { InstructionInformation, MemoryOperand } from '../../spec/instruction-information.ts';
import type { Operation } from '../../spec/operations.ts';
import { in64BitMode } from '../modes.ts';
import type { Rule } from '../rule.ts';
import type { CpuState, ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { instructionExit } from './guest.ts';

/** Bits 63:32 of a displacement qualification: undefined with a 32-bit address size. */
const ABOVE_32_BITS = 0xffff_ffff_0000_0000n;

/** The contract's memory operand `[RBX]` (`[EBX]` outside 64-bit mode) in DS. */
export function contractMemoryOperand(cpu: CpuState): MemoryOperand {
  return { addressSize: in64BitMode(cpu) ? ADDRESS_SIZE.BITS_64 : ADDRESS_SIZE.BITS_32, segment: MEMORY_OPERAND_SEGMENT, base: MEMORY_OPERAND_BASE };
}

/**
 * The VM exit of instruction `op` with basic exit reason `reason` and instruction information
 * `information`; `memoryOperand` says whether the instruction used `[RBX]` (the qualification's
 * bits above a 32-bit address size are then undefined outside 64-bit mode).
 */
export function exitWithInformation(
  state: ModelState,
  c: number,
  op: Operation,
  why: Rule,
  reason: number,
  information: InstructionInformation,
  memoryOperand: boolean,
): Verdict {
  const in64 = in64BitMode(cpuOf(state, c));
  const more: Partial<ExitInformation> = {
    instructionInformation: information.value,
    instructionInformationUndefinedMask: information.undefinedMask,
    ...(exitSavesQualification(reason) && memoryOperand && !in64 ? { qualificationUndefinedMask: ABOVE_32_BITS } : {}),
  };
  return instructionExit(state, c, op, why, reason, 0n, more);
}
