/**
 * VMXOFF—Leave VMX Operation. SDM Vol. 3C (December 2023) §31.3, the instruction's Operation
 * section, in its order.
 *
 * Leaving VMX operation does not write back the VMCSs still active on the processor: §25.11.1
 * "Software Use of Virtual-Machine Control Structures" says they may be corrupted and asks
 * software to VMCLEAR them first. The model makes their data and launch state unknown (vmcs.ts).
 * Unblocking INIT and SMIs, re-enabling A20M and clearing address-range monitoring are not
 * observable through the operation vocabulary.
 */
import { sdm } from '../../spec/citation.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { VmxoffOp } from '../../spec/operations.ts';
import { fault, vmFail, vmSucceed } from '../conventions.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, withCpu } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined } from '../verdict.ts';
import { abandonActiveVmcss } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';

const PAGE = sdm('31.3', 'VMXOFF—Leave VMX Operation');
const I = 'VMXOFF';

/** The decision points of VMXOFF, in the order of the Operation section. */
export const VMXOFF_RULES = {
  udOutsideVmx: rule('vmxoff.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('vmxoff.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('vmxoff.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmxoff.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  vmExit: rule('vmxoff.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 26)'),
  gpCpl: rule('vmxoff.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  dualMonitor: rule('vmxoff.dual-monitor-active', I, PAGE, 'VMfail(23) while the dual-monitor treatment of SMIs and SMM is active'),
  success: rule(
    'vmxoff.success',
    I,
    PAGE,
    'leave VMX operation; VMCSs still active on the processor are left with unknown data and launch state (§25.11.1); VMsucceed',
  ),
} as const;

const R = VMXOFF_RULES;

/** VMXOFF. */
export function vmxoff(state: ModelState, op: VmxoffOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.VMXOFF, { format: 'none' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));
  if (cpu.dualMonitorActive) return defined(vmFail(state, c, R.dualMonitor, VM_ERROR.VMXOFF_UNDER_DUAL_MONITOR));
  const left = withCpu(abandonActiveVmcss(state, c), c, { vmx: 'outside', vmxonPointer: undefined });
  return defined(vmSucceed(left, c, R.success));
}
