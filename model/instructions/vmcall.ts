/**
 * VMCALL—Call to VM Monitor. SDM Vol. 3C (December 2023) §31.3, the instruction's Operation
 * section, in its order. Unlike the other VMX instructions, VMCALL tests for VMX non-root
 * operation (a VM exit, the ordinary hypercall) before the mode checks, and does not test CR0.PE.
 *
 * In VMX root operation VMCALL invokes the SMM monitor of the dual-monitor treatment of SMIs and
 * SMM. With IA32_SMM_MONITOR_CTL = 0 (state.ts) its valid bit is clear, so VMCALL in VMX root
 * operation fails with VMfail(1). The activation path (entering SMM, reading MSEG) and the SMM
 * VM exit are not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { VmcallOp } from '../../spec/operations.ts';
import { fault, vmFail, vmFailInvalid, vmFailValid } from '../conventions.ts';
import { inCompatibilityMode, inVirtual8086Mode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { currentVmcs } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';

const PAGE = sdm('31.3', 'VMCALL—Call to VM Monitor');
const I = 'VMCALL';
const ERROR = VM_ERROR.VMCALL_IN_VMX_ROOT;

/** The decision points of VMCALL, in the order of the Operation section. */
export const VMCALL_RULES = {
  udOutsideVmx: rule('vmcall.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  vmExit: rule('vmcall.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 18), in any mode'),
  udVirtual8086: rule('vmcall.ud-virtual-8086', I, PAGE, 'in VMX root operation, #UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmcall.ud-compatibility-mode', I, PAGE, 'in VMX root operation, #UD in compatibility mode'),
  gpCpl: rule('vmcall.gp-cpl', I, PAGE, 'in VMX root operation, #GP(0) when CPL > 0'),
  inSmm: rule('vmcall.in-smm', I, PAGE, 'VMfail(1) in SMM'),
  dualMonitorUnsupported: rule('vmcall.dual-monitor-unsupported', I, PAGE, 'VMfail(1) when the processor does not support the dual-monitor treatment (IA32_VMX_BASIC[49] = 0)'),
  smmMonitorInvalid: rule('vmcall.smm-monitor-ctl-invalid', I, PAGE, 'VMfail(1) when the valid bit (0) of IA32_SMM_MONITOR_CTL is clear'),
  smmVmExit: rule('vmcall.smm-vm-exit', I, PAGE, 'with the dual-monitor treatment active, an SMM VM exit to the SMM monitor; not modelled'),
  noCurrentVmcs: rule('vmcall.no-current-vmcs', I, PAGE, 'VMfailInvalid when the current-VMCS pointer is not valid'),
  launchNotClear: rule('vmcall.launch-state-not-clear', I, PAGE, 'VMfailValid(19) when the launch state of the current VMCS is not clear'),
  launchUnknown: rule(
    'vmcall.launch-state-unknown',
    I,
    PAGE,
    'the launch state of the current VMCS is unknown to the model: VMfailValid(19) or the activation path, which is not modelled',
  ),
  activation: rule(
    'vmcall.activate-dual-monitor',
    I,
    PAGE,
    'checks of the VM-exit controls and of MSEG, then activation of the dual-monitor treatment (errors 20, 22, 24); not modelled',
  ),
} as const;

const R = VMCALL_RULES;

/** VMCALL. */
export function vmcall(state: ModelState, op: VmcallOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.VMCALL, { format: 'none' }));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));
  if (cpu.inSmm) return defined(vmFail(state, c, R.inSmm, ERROR));
  if (!state.profile.dualMonitor) return defined(vmFail(state, c, R.dualMonitorUnsupported, ERROR));
  if ((cpu.smmMonitorCtl & 1n) === 0n) return defined(vmFail(state, c, R.smmMonitorInvalid, ERROR));
  if (cpu.dualMonitorActive) return notModelled(R.smmVmExit);
  const current = currentVmcs(state, c);
  if (current === undefined) return defined(vmFailInvalid(state, c, R.noCurrentVmcs));
  if (current.content.launch === 'launched') return defined(vmFailValid(state, c, R.launchNotClear, VM_ERROR.VMCALL_NON_CLEAR_VMCS));
  if (current.content.launch === 'unknown') return notModelled(R.launchUnknown);
  return notModelled(R.activation);
}
