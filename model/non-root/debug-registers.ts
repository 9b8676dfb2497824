/**
 * MOV to and from debug registers, in and out of VMX non-root operation.
 *
 * In VMX non-root operation "MOV-DR exiting" = 1 makes every MOV DR exit (reason 29), and this
 * exit takes priority over the privilege #GP (virtual-8086 mode included) and over the #UD for
 * DR4/DR5 with CR4.DE = 1 — the exception to the rule of §26.1.1 "Relative Priority of Faults and
 * VM Exits" that §26.1.3 "Instructions That Cause VM Exits Conditionally" states for MOV DR. The
 * exit qualification is Table 28-4 "Exit Qualification for MOV DR" (§28.2.1).
 *
 * Otherwise (Vol. 2B "MOV—Move to/from Debug Registers"): #GP(0) at CPL > 0; #UD for DR4/DR5 with
 * CR4.DE = 1 (with CR4.DE = 0 they are DR6/DR7); when both hold, the SDM does not order them and
 * the model allows either. Then #DB when DR7.GD = 1 (general detect; exit qualification BD if the
 * exception bitmap makes it exit); in 64-bit mode #GP(0) when a value for DR6 or DR7 sets a bit of
 * 63:32. Only DR7 is tracked: a write stores the value with bit 10 set (reserved, reads as 1), a
 * read reports it; DR0-DR3 and DR6 are not tracked (reads report no value).
 */
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { MovDrOp } from '../../spec/guest-operations.ts';
import { fault } from '../conventions.ts';
import { operand } from '../input.ts';
import { in64BitMode, toOperandSize } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, ModelInputError } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined } from '../verdict.ts';
import { atCplZero, checkGpr, completed, controlBit, controlsUnknown, gp, instructionExit, primaryControls, reportedGpr, ud } from './guest.ts';
import { DEBUG_QUALIFICATION, movDrQualification } from '../../spec/exit-qualification.ts';
import { fieldMask } from '../../spec/bit-fields.ts';

const I = 'MOV DR';
const MOV_DR = sdm('4.3', 'MOV—Move to/from Debug Registers', '2B');
const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');

/** CR4.DE (bit 3), DR7.GD (bit 13), DR7 bit 10 (reserved, always 1): Vol. 3A §2.5, §18.2.4 "Debug Control Register (DR7)". */
const CR4_DE = 1n << 3n;
const DR7_GD = 1n << 13n;
const DR7_FIXED_1 = 1n << 10n;

/** The decision points of MOV DR. */
export const DEBUG_REGISTER_RULES = {
  exit: rule('mov-dr.vm-exit', I, CONDITIONAL, 'in VMX non-root operation with "MOV-DR exiting" = 1: VM exit (reason 29), before the privilege #GP and the DR4/DR5 #UD'),
  cpl: rule('mov-dr.gp-cpl', I, MOV_DR, '#GP(0) when CPL > 0 (virtual-8086 mode included)'),
  de: rule('mov-dr.ud-dr4-dr5', I, MOV_DR, '#UD for DR4 or DR5 with CR4.DE = 1'),
  cplOrDe: rule('mov-dr.gp-or-ud', I, MOV_DR, 'CPL > 0 and DR4/DR5 with CR4.DE = 1: the SDM does not order #GP(0) and #UD; either'),
  generalDetect: rule('mov-dr.db-general-detect', I, MOV_DR, '#DB (general detect, DR6.BD) when DR7.GD = 1'),
  highBits: rule('mov-dr.gp-high-bits', I, MOV_DR, '#GP(0) in 64-bit mode when a value for DR6 or DR7 sets any of bits 63:32'),
  write: rule('mov-dr.write', I, MOV_DR, 'the debug register takes the value (DR7 tracked, bit 10 reads as 1)'),
  read: rule('mov-dr.read', I, MOV_DR, 'the debug register is read (DR7 tracked; DR0-DR3, DR6 not: no value)'),
} as const;

const R = DEBUG_REGISTER_RULES;

/** MOV to or from a debug register. */
export function movDr(state: ModelState, op: MovDrOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const gpr = checkGpr(op.gpr, 'mov-dr');
  if (!Number.isInteger(op.dr) || op.dr < 0 || op.dr > 7) throw new ModelInputError(`mov-dr: dr must be an integer from 0 to 7, got ${JSON.stringify(op.dr)}`);
  if (op.direction !== 'to' && op.direction !== 'from') throw new ModelInputError(`mov-dr: direction must be "to" or "from", got ${JSON.stringify(op.direction)}`);
  if (op.direction === 'to' && op.value === undefined) throw new ModelInputError('mov-dr: a MOV to a debug register needs value');
  const value = op.value === undefined ? 0n : toOperandSize(cpu, operand(op.value, 'value', 'mov-dr'));
  if (cpu.vmx === 'non-root') {
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    if (controlBit(primary, PRIMARY_CONTROL.MOV_DR_EXITING)) {
      return instructionExit(state, c, op, R.exit, EXIT_REASON.MOV_DR, movDrQualification(op.direction, op.dr, reportedGpr(cpu, gpr)));
    }
  }
  const aliased = op.dr === 4 || op.dr === 5;
  const deForbids = aliased && (cpu.cr4 & CR4_DE) !== 0n;
  if (!atCplZero(cpu) && deForbids) return defined(fault(state, c, R.cplOrDe, 'GP'), fault(state, c, R.cplOrDe, 'UD'));
  if (!atCplZero(cpu)) return gp(state, c, R.cpl);
  if (deForbids) return ud(state, c, R.de);
  if ((cpu.dr7 & DR7_GD) !== 0n) return defined(fault(state, c, R.generalDetect, 'DB', undefined, fieldMask(DEBUG_QUALIFICATION.BD)));
  const dr = aliased ? op.dr + 2 : op.dr;
  if (op.direction === 'to') {
    if (in64BitMode(cpu) && dr >= 6 && value >> 32n !== 0n) return gp(state, c, R.highBits);
    return completed(state, c, op, R.write, dr === 7 ? { dr7: value | DR7_FIXED_1 } : {});
  }
  return completed(state, c, op, R.read, {}, dr === 7 ? cpu.dr7 : undefined);
}
