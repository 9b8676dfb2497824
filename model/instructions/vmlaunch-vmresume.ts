/**
 * VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine. SDM Vol. 3C (December 2023) §31.3, the
 * instructions' shared Operation section, with the order of §27.1 "Basic VM-Entry Checks" (which
 * adds the check that the current VMCS is not a shadow VMCS, failing like a missing one: CF = 1).
 *
 * Once these basic checks pass, the VM entry proper begins (checks of controls and host state,
 * guest state, MSR loading, §27.2-§27.4): model/vm-entry/enter.ts.
 *
 * Launch state unknown to the model (a region VMPTRLDed without VMCLEAR, written with ordinary
 * stores, or left active by VMXOFF): the SDM then allows both the launch-state failure and the
 * entry proceeding, so the allowed set is the failure together with every outcome of the entry
 * (when the entry itself cannot be judged, neither can the step). For
 * VMRESUME of a VMCS left active by VMXOFF the allowed failures also include VMfailValid(6)
 * (§31.4 "VM Instruction Error Numbers": VMRESUME after VMXOFF and VMXON between VMLAUNCH and
 * VMRESUME).
 */
import { sdm } from '../../spec/citation.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { VmlaunchOp, VmresumeOp } from '../../spec/operations.ts';
import { fault, vmFailInvalid, vmFailValid } from '../conventions.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Branch, Verdict } from '../verdict.ts';
import { defined } from '../verdict.ts';
import { enterVm } from '../vm-entry/enter.ts';
import { currentVmcs } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';

const PAGE = sdm('31.3', 'VMLAUNCH/VMRESUME—Launch/Resume Virtual Machine');
const BASIC = sdm('27.1', 'Basic VM-Entry Checks');
const BOTH = 'VMLAUNCH/VMRESUME';

/** The decision points of VMLAUNCH and VMRESUME, in the order of the Operation section. */
export const VM_ENTRY_RULES = {
  udOutsideVmx: rule('vmentry.ud-outside-vmx', BOTH, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('vmentry.ud-real-mode', BOTH, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('vmentry.ud-virtual-8086', BOTH, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmentry.ud-compatibility-mode', BOTH, PAGE, '#UD in compatibility mode'),
  vmExit: rule('vmentry.vm-exit', BOTH, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 20 for VMLAUNCH, 24 for VMRESUME)'),
  gpCpl: rule('vmentry.gp-cpl', BOTH, PAGE, '#GP(0) when CPL > 0'),
  noCurrentVmcs: rule('vmentry.no-current-vmcs', BOTH, PAGE, 'VMfailInvalid when the current-VMCS pointer is not valid'),
  shadowVmcs: rule('vmentry.shadow-vmcs', BOTH, BASIC, 'VMfailInvalid (CF = 1) when the current VMCS is a shadow VMCS'),
  movSsBlocking: rule('vmentry.mov-ss-blocking', BOTH, PAGE, 'VMfailValid(26) when events are blocked by MOV SS'),
  launchNotClear: rule('vmlaunch.launch-state-not-clear', 'VMLAUNCH', PAGE, 'VMLAUNCH: VMfailValid(4) when the launch state of the current VMCS is not clear'),
  launchUnknown: rule(
    'vmlaunch.launch-state-unknown',
    'VMLAUNCH',
    PAGE,
    'VMLAUNCH with a launch state the model does not know: VMfailValid(4), or the entry proceeds',
  ),
  resumeNotLaunched: rule('vmresume.launch-state-not-launched', 'VMRESUME', PAGE, 'VMRESUME: VMfailValid(5) when the launch state of the current VMCS is not launched'),
  resumeAfterVmxoff: rule(
    'vmresume.after-vmxoff',
    'VMRESUME',
    sdm('31.4', 'VM Instruction Error Numbers'),
    'VMRESUME of a VMCS left active by VMXOFF: VMfailValid(5), VMfailValid(6), or the entry proceeds',
  ),
  resumeUnknown: rule(
    'vmresume.launch-state-unknown',
    'VMRESUME',
    PAGE,
    'VMRESUME with a launch state the model does not know: VMfailValid(5), or the entry proceeds',
  ),
} as const;

const R = VM_ENTRY_RULES;

/** VMLAUNCH. */
export function vmlaunch(state: ModelState, op: VmlaunchOp): Verdict {
  return vmEntry(state, op, 'VMLAUNCH');
}

/** VMRESUME. */
export function vmresume(state: ModelState, op: VmresumeOp): Verdict {
  return vmEntry(state, op, 'VMRESUME');
}

function vmEntry(state: ModelState, op: VmlaunchOp | VmresumeOp, instruction: 'VMLAUNCH' | 'VMRESUME'): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON[instruction], { format: 'none' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));
  const current = currentVmcs(state, c);
  if (current === undefined) return defined(vmFailInvalid(state, c, R.noCurrentVmcs));
  if (current.shadow) return defined(vmFailInvalid(state, c, R.shadowVmcs));
  if (cpu.movSsBlocking === 1) return defined(vmFailValid(state, c, R.movSsBlocking, VM_ERROR.ENTRY_MOV_SS_BLOCKING));
  const launch = current.content.launch;
  if (instruction === 'VMLAUNCH') {
    if (launch === 'launched') return defined(vmFailValid(state, c, R.launchNotClear, VM_ERROR.VMLAUNCH_NON_CLEAR));
    if (launch === 'unknown') return orEntry([vmFailValid(state, c, R.launchUnknown, VM_ERROR.VMLAUNCH_NON_CLEAR)], enterVm(state, c, instruction));
  } else {
    if (launch === 'clear') return defined(vmFailValid(state, c, R.resumeNotLaunched, VM_ERROR.VMRESUME_NON_LAUNCHED));
    if (launch === 'unknown' && current.content.leftActiveByVmxoff) {
      const failures = [VM_ERROR.VMRESUME_NON_LAUNCHED, VM_ERROR.VMRESUME_AFTER_VMXOFF].map((error) => vmFailValid(state, c, R.resumeAfterVmxoff, error));
      return orEntry(failures, enterVm(state, c, instruction));
    }
    if (launch === 'unknown') return orEntry([vmFailValid(state, c, R.resumeUnknown, VM_ERROR.VMRESUME_NON_LAUNCHED)], enterVm(state, c, instruction));
  }
  return enterVm(state, c, instruction);
}

/** The launch-state failures beside the outcomes of the entry proceeding; unjudgeable when the entry is. */
function orEntry(failures: readonly Branch[], entry: Verdict): Verdict {
  return entry.kind === 'defined' ? defined(...failures, ...entry.branches) : entry;
}
