/**
 * The reference model of Intel VMX (SDM Vol. 3C, December 2023): the oracle every engine is
 * checked against. `step` says, for one operation in one state, which outcomes the SDM allows
 * and what state follows each; it never changes its input. Reading order: model/README.md.
 */
import type { Operation } from '../spec/operations.ts';
import { checkCpu } from './input.ts';
import { invept, INVEPT_RULES } from './instructions/invept.ts';
import { invvpid, INVVPID_RULES } from './instructions/invvpid.ts';
import { vmcall, VMCALL_RULES } from './instructions/vmcall.ts';
import { vmclear, VMCLEAR_RULES } from './instructions/vmclear.ts';
import { vmfunc, VMFUNC_RULES } from './instructions/vmfunc.ts';
import { VM_ENTRY_RULES, vmlaunch, vmresume } from './instructions/vmlaunch-vmresume.ts';
import { vmptrld, VMPTRLD_RULES } from './instructions/vmptrld.ts';
import { vmptrst, VMPTRST_RULES } from './instructions/vmptrst.ts';
import { vmread, VMREAD_RULES } from './instructions/vmread.ts';
import { vmwrite, VMWRITE_RULES } from './instructions/vmwrite.ts';
import { vmxoff, VMXOFF_RULES } from './instructions/vmxoff.ts';
import { vmxon, VMXON_RULES } from './instructions/vmxon.ts';
import { ACTIVITY_RULES, atBoundaryAfter, inactiveStep, timerMayPreempt } from './activity.ts';
import { endMovSsBlocking } from './mov-ss.ts';
import { BOUNDARY_RULES } from './non-root/boundary-exits.ts';
import { ENTRY_EVENT_RULES } from './vm-entry/entry-events.ts';
import { NON_ROOT_RULES } from './non-root.ts';
import { MOV_CR0_RULES } from './mov-cr0.ts';
import { MOV_CR4_RULES } from './mov-cr4.ts';
import { featureControlWrite, GUEST_OPERATION_RULES, guestOperation, movToCr0, movToCr4 } from './guest-operations.ts';
import { unlessExceptionBitmapUnknown } from './non-root/exceptions.ts';
import { PROCESSOR_STATE_RULES, setState, writeMemory } from './processor-state-ops.ts';
import type { Rule } from './rule.ts';
import type { ModelState } from './state.ts';
import { cpuOf } from './state.ts';
import type { Verdict } from './verdict.ts';
import { notModelled } from './verdict.ts';
import { VM_ENTRY_PROPER_RULES } from './vm-entry/enter.ts';
import { implementedDecisionPoints } from './vm-entry/rules.ts';
import { VM_EXIT_RULES } from './vm-exit.ts';
import { HOST_LOAD_RULES } from './vm-exit/load-host.ts';
import { VMX_ABORT_RULES } from './vm-exit/abort.ts';
import { MSR_AREA_RULES } from './vm-exit/msr-areas.ts';
import { VM_ENTRY_FAILURE_RULES } from './vm-entry/failure.ts';
import { GUEST_LOAD_RULES } from './vm-entry/load-guest.ts';
import { EVENT_DELIVERY_RULES } from './event-delivery/rules.ts';

export type { Rule } from './rule.ts';
export type { ActiveVmcs, CpuState, FieldContent, LaunchState, ModelState, VmcsContent, VmxOperation } from './state.ts';
export { createModelState, ModelInputError, NO_CURRENT_VMCS } from './state.ts';
export type { AnyValue, Branch, Expected, ExpectedValue, ExpectedVmSucceed, PartlyKnownValue, Verdict } from './verdict.ts';
export { ANY_VALUE, describeExpected, matches } from './verdict.ts';

/**
 * The outcomes the SDM allows for `op` in `state`. Throws a `ModelInputError` only for a
 * malformed operation (a processor that does not exist, a malformed hexadecimal value, an
 * unaligned or oversized memory store).
 */
export function step(state: ModelState, op: Operation): Verdict {
  checkCpu(state, op.cpu, op.kind);
  const untracked = cpuOf(state, op.cpu).untracked;
  if (untracked !== undefined) return notModelled(untracked);
  const inactive = inactiveStep(state, op);
  if (inactive !== undefined) return timerMayPreempt(state, op, inactive);
  return timerMayPreempt(state, op, atBoundaryAfter(state, op, endMovSsBlocking(state, op, unlessExceptionBitmapUnknown(dispatch(state, op)))));
}

function dispatch(state: ModelState, op: Operation): Verdict {
  switch (op.kind) {
    case 'vmxon':
      return vmxon(state, op);
    case 'vmxoff':
      return vmxoff(state, op);
    case 'vmclear':
      return vmclear(state, op);
    case 'vmptrld':
      return vmptrld(state, op);
    case 'vmptrst':
      return vmptrst(state, op);
    case 'vmread':
      return vmread(state, op);
    case 'vmwrite':
      return vmwrite(state, op);
    case 'vmlaunch':
      return vmlaunch(state, op);
    case 'vmresume':
      return vmresume(state, op);
    case 'invept':
      return invept(state, op);
    case 'invvpid':
      return invvpid(state, op);
    case 'vmcall':
      return vmcall(state, op);
    case 'vmfunc':
      return vmfunc(state, op);
    case 'mov-cr0':
      return movToCr0(state, op);
    case 'mov-cr4':
      return movToCr4(state, op);
    case 'write-feature-control':
      return featureControlWrite(state, op);
    case 'set':
      return setState(state, op);
    case 'write-memory':
      return writeMemory(state, op);
    default:
      return guestOperation(state, op);
  }
}

/** Every decision point of the model, grouped by area in reading order; ids are unique. */
export const RULES: readonly Rule[] = [
  ...Object.values(VMXON_RULES),
  ...Object.values(VMXOFF_RULES),
  ...Object.values(VMCLEAR_RULES),
  ...Object.values(VMPTRLD_RULES),
  ...Object.values(VMPTRST_RULES),
  ...Object.values(VMREAD_RULES),
  ...Object.values(VMWRITE_RULES),
  ...Object.values(VM_ENTRY_RULES),
  ...Object.values(VM_ENTRY_PROPER_RULES),
  ...implementedDecisionPoints(),
  ...Object.values(VM_ENTRY_FAILURE_RULES),
  ...Object.values(GUEST_LOAD_RULES),
  ...Object.values(ENTRY_EVENT_RULES),
  ...Object.values(EVENT_DELIVERY_RULES),
  ...Object.values(ACTIVITY_RULES),
  ...Object.values(INVEPT_RULES),
  ...Object.values(INVVPID_RULES),
  ...Object.values(VMCALL_RULES),
  ...Object.values(VMFUNC_RULES),
  ...Object.values(NON_ROOT_RULES),
  ...Object.values(BOUNDARY_RULES),
  ...Object.values(VM_EXIT_RULES),
  ...Object.values(MOV_CR0_RULES),
  ...Object.values(MOV_CR4_RULES),
  ...Object.values(HOST_LOAD_RULES),
  ...Object.values(MSR_AREA_RULES),
  ...Object.values(VMX_ABORT_RULES),
  ...Object.values(PROCESSOR_STATE_RULES),
  ...GUEST_OPERATION_RULES,
];

/** The rule with identifier `id`, if the model has one. */
export function ruleById(id: string): Rule | undefined {
  return RULES.find((each) => each.id === id);
}
