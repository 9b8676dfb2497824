/**
 * VMPTRST—Store Pointer to Virtual-Machine Control Structure. SDM Vol. 3C (December 2023) §31.3,
 * the instruction's Operation section, in its order. The stored 64-bit value is the observation's
 * `value`; the store itself (to a memory operand given by the case) is not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { toHex } from '../../spec/hex.ts';
import type { VmptrstOp } from '../../spec/operations.ts';
import { fault, vmSucceed } from '../conventions.ts';
import { formOf } from '../input.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined } from '../verdict.ts';
import { vmxInstructionExit } from './instruction-exit.ts';
import { registerFormOfC7 } from '../non-root/random.ts';

const PAGE = sdm('31.3', 'VMPTRST—Store Pointer to Virtual-Machine Control Structure');
const I = 'VMPTRST';

/** The decision points of VMPTRST, in the order of the Operation section. */
export const VMPTRST_RULES = {
  udRegisterOperand: rule('vmptrst.ud-register-operand', I, PAGE, '#UD when the operand is a register and the processor lacks RDSEED (the register form is that instruction: model/non-root/random.ts)'),
  udOutsideVmx: rule('vmptrst.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('vmptrst.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('vmptrst.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmptrst.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  vmExit: rule('vmptrst.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 22)'),
  gpCpl: rule('vmptrst.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  success: rule('vmptrst.success', I, PAGE, 'store the current-VMCS pointer (FFFFFFFF_FFFFFFFFH when there is none); VMsucceed'),
} as const;

const R = VMPTRST_RULES;

/** VMPTRST m64. */
export function vmptrst(state: ModelState, op: VmptrstOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'memory', 'vmptrst');
  if (form === 'register') return registerFormOfC7(state, { kind: 'vmptrst', cpu: c }) ?? defined(fault(state, c, R.udRegisterOperand, 'UD'));
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.VMPTRST, { format: 'pointer' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));
  return defined(vmSucceed(state, c, R.success, { expected: toHex(cpu.currentVmcs) }));
}
