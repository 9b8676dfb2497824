/**
 * RDRAND and RDSEED, in and out of VMX non-root operation (Vol. 2B, December 2023, "RDRAND—Read
 * Random Number" and "RDSEED—Read Random SEED"; Vol. 3C §26.1.3 "Instructions That Cause VM Exits
 * Conditionally").
 *
 * 1. #UD where the processor does not support the instruction (the profile's `cpuid.rdrand` /
 *    `cpuid.rdseed`); #UD comes before any VM exit (§26.1.1 "Relative Priority of Faults and VM
 *    Exits"). Neither instruction tests the privilege level or the mode.
 * 2. In VMX non-root operation, "RDRAND exiting" / "RDSEED exiting" = 1: VM exit (reasons 57 and
 *    61), exit qualification cleared, instruction information: destination register and operand
 *    size (§28.2.5 "Information for VM Exits Due to Instruction Execution").
 * 3. Otherwise the instruction completes, and the SDM allows two outcomes: a random value was
 *    available (CF = 1, the destination any value) or not (CF = 0, the destination 0). OF, SF, ZF,
 *    AF and PF are cleared either way. The model returns both branches.
 *
 * The register forms of VMCLEAR and VMPTRLD (0F C7 /6 with ModRM.mod = 11b) and of VMPTRST (/7)
 * are RDRAND and RDSEED: {@link registerFormOfC7}.
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { MEMORY_OPERAND_BASE } from '../../spec/instruction-encodings.ts';
import { randomInformation } from '../../spec/instruction-information.ts';
import type { RdrandOp, RdseedOp } from '../../spec/system-instruction-operations.ts';
import { in64BitMode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, ModelInputError } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined } from '../verdict.ts';
import { checkGpr, completes, controlBit, controlsUnknown, reportedGpr, secondaryControls, ud } from './guest.ts';
import { exitWithInformation } from './operand-exits.ts';

const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const RDRAND_PAGE = sdm('4.3', 'RDRAND—Read Random Number', '2B');
const RDSEED_PAGE = sdm('4.3', 'RDSEED—Read Random SEED', '2B');

/** The decision points of RDRAND and RDSEED. */
export const RANDOM_RULES = {
  rdrandUnsupported: rule('rdrand.ud-unsupported', 'RDRAND', RDRAND_PAGE, '#UD when CPUID.01H:ECX.RDRAND[bit 30] = 0 (the profile)'),
  rdrandExit: rule('rdrand.vm-exit', 'RDRAND', CONDITIONAL, 'in VMX non-root operation with "RDRAND exiting" = 1: VM exit (reason 57) with destination and operand size'),
  rdrandValue: rule('rdrand.random-value', 'RDRAND', RDRAND_PAGE, 'a random value: CF = 1, the destination any value, OF/SF/ZF/AF/PF cleared'),
  rdrandNone: rule('rdrand.no-value', 'RDRAND', RDRAND_PAGE, 'no random value available: CF = 0, the destination 0, OF/SF/ZF/AF/PF cleared'),
  rdseedUnsupported: rule('rdseed.ud-unsupported', 'RDSEED', RDSEED_PAGE, '#UD when CPUID.(EAX=07H,ECX=0H):EBX.RDSEED[bit 18] = 0 (the profile)'),
  rdseedExit: rule('rdseed.vm-exit', 'RDSEED', CONDITIONAL, 'in VMX non-root operation with "RDSEED exiting" = 1: VM exit (reason 61) with destination and operand size'),
  rdseedValue: rule('rdseed.random-value', 'RDSEED', RDSEED_PAGE, 'a seed value: CF = 1, the destination any value, OF/SF/ZF/AF/PF cleared'),
  rdseedNone: rule('rdseed.no-value', 'RDSEED', RDSEED_PAGE, 'no seed value available: CF = 0, the destination 0, OF/SF/ZF/AF/PF cleared'),
} as const;

const R = RANDOM_RULES;

/** CF, bit 0 of RFLAGS. */
const CF = 1;

/** The operand size in bytes: 64 bits needs REX.W, which exists only in 64-bit mode. */
function operandBytes(size: RdrandOp['size'], in64: boolean): 2 | 4 | 8 {
  if (size === 16) return 2;
  return size === 64 && in64 ? 8 : 4;
}

/** RDRAND or RDSEED. */
export function randomInstruction(state: ModelState, op: RdrandOp | RdseedOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const gpr = checkGpr(op.gpr, op.kind);
  if (op.size !== 16 && op.size !== 32 && op.size !== 64) throw new ModelInputError(`${op.kind}: size must be 16, 32 or 64, got ${JSON.stringify(op.size)}`);
  const seed = op.kind === 'rdseed';
  if (!(seed ? state.profile.cpuid.rdseed : state.profile.cpuid.rdrand)) return ud(state, c, seed ? R.rdseedUnsupported : R.rdrandUnsupported);
  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControls(state, c);
    if (secondary === undefined) return controlsUnknown();
    if (controlBit(secondary, seed ? SECONDARY_CONTROL.RDSEED_EXITING : SECONDARY_CONTROL.RDRAND_EXITING)) {
      const information = randomInformation({ register: reportedGpr(cpu, gpr), operandSize: operandBytes(op.size, in64BitMode(cpu)) });
      return exitWithInformation(state, c, op, seed ? R.rdseedExit : R.rdrandExit, seed ? EXIT_REASON.RDSEED : EXIT_REASON.RDRAND, information, false);
    }
  }
  // `flags` holds only the six arithmetic flags: CF alone, or none.
  return defined(
    completes(state, c, op, seed ? R.rdseedValue : R.rdrandValue, { flags: CF }),
    completes(state, c, op, seed ? R.rdseedNone : R.rdrandNone, { flags: 0 }, 0n),
  );
}

/**
 * The register forms of 0F C7 /6 and /7 that the VMX instructions' operations can ask for
 * (`form: 'register'`): VMPTRLD (no prefix) is RDRAND r32, VMCLEAR (66H) RDRAND r16, VMPTRST (/7,
 * no prefix) RDSEED r32; the register is RBX, the r/m field of the contract's `[RBX]`
 * (spec/instruction-encodings.ts). VMXON's (F3H) is RDRAND with an F3H prefix, #UD, and stays with
 * VMXON. `undefined` when the processor does not support the instruction: the VMX instruction's
 * own #UD for a register operand answers then.
 */
export function registerFormOfC7(state: ModelState, op: { kind: 'vmclear' | 'vmptrld' | 'vmptrst'; cpu: number }): Verdict | undefined {
  const random: RdrandOp | RdseedOp =
    op.kind === 'vmptrst'
      ? { kind: 'rdseed', cpu: op.cpu, gpr: MEMORY_OPERAND_BASE, size: 32 }
      : { kind: 'rdrand', cpu: op.cpu, gpr: MEMORY_OPERAND_BASE, size: op.kind === 'vmclear' ? 16 : 32 };
  const supported = random.kind === 'rdseed' ? state.profile.cpuid.rdseed : state.profile.cpuid.rdrand;
  return supported ? randomInstruction(state, random) : undefined;
}
