/**
 * VMFUNC—Invoke VM function. SDM Vol. 3C (December 2023) §31.3: the Operation section only says
 * "perform the VM function selected by EAX"; the #UD conditions are in its exception lists (the
 * same in every mode) and the rest in §26.5.6 "VM Functions": a function whose bit in the
 * VM-function controls is 0 causes a VM exit (basic exit reason 59).
 *
 * What an enabled function does (EPTP switching, function 0) is not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { VmfuncOp } from '../../spec/operations.ts';
import { fault } from '../conventions.ts';
import { operand } from '../input.ts';
import { bitOf, controlField, NON_ROOT_RULES, secondaryControlsInEffect } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { vmExit } from '../vm-exit.ts';

const PAGE = sdm('31.3', 'VMFUNC—Invoke VM function');
const FUNCTIONS = sdm('26.5.6', 'VM Functions');
const I = 'VMFUNC';

/** The decision points of VMFUNC. */
export const VMFUNC_RULES = {
  udOutsideNonRoot: rule('vmfunc.ud-outside-non-root', I, PAGE, '#UD outside VMX non-root operation'),
  udDisabled: rule('vmfunc.ud-vm-functions-disabled', I, PAGE, '#UD when the "enable VM functions" control is 0 (or secondary controls are not activated)'),
  udEaxRange: rule('vmfunc.ud-eax-above-63', I, PAGE, '#UD when EAX is 64 or more'),
  exitFunctionDisabled: rule('vmfunc.vm-exit-function-disabled', I, FUNCTIONS, 'VM exit (basic exit reason 59) when bit EAX of the VM-function controls is 0'),
  functionNotModelled: rule('vmfunc.function-not-modelled', I, FUNCTIONS, 'the enabled VM function runs (EPTP switching for EAX = 0); not modelled'),
} as const;

const R = VMFUNC_RULES;

/** VMFUNC. */
export function vmfunc(state: ModelState, op: VmfuncOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const eax = operand(op.eax, 'eax', 'vmfunc') & 0xffff_ffffn;
  operand(op.ecx, 'ecx', 'vmfunc');
  if (cpu.vmx !== 'non-root') return defined(fault(state, c, R.udOutsideNonRoot, 'UD'));
  const secondary = secondaryControlsInEffect(state, c);
  if (secondary === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
  if (!bitOf(secondary, SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS)) return defined(fault(state, c, R.udDisabled, 'UD'));
  if (eax >= 64n) return defined(fault(state, c, R.udEaxRange, 'UD'));
  const functions = controlField(state, c, FIELD.VM_FUNCTION_CONTROLS);
  if (functions === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
  if (!bitOf(functions, Number(eax))) return defined(vmExit(state, c, R.exitFunctionDisabled, EXIT_REASON.VMFUNC));
  return notModelled(R.functionNotModelled);
}
