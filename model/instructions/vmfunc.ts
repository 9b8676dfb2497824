/**
 * VMFUNC—Invoke VM function. SDM Vol. 3C (December 2023) §31.3: the Operation section only says
 * "perform the VM function selected by EAX"; the #UD conditions are in its exception lists (the
 * same in every mode, at any CPL) and the rest in §26.5.6 "VM Functions": a function whose bit in
 * the VM-function controls is 0 causes a VM exit (basic exit reason 59).
 *
 * EPTP switching (function 0, §26.5.6.3 "EPTP Switching"), in the order of its pseudocode:
 * - ECX ≥ 512: VM exit (the EPTP list has 512 8-byte entries);
 * - the tentative EPTP is the 8 bytes at EPTP-list address + 8 × ECX, read from the shared
 *   physical memory; if it would fail the VM-entry EPTP checks (eptp.ts): VM exit;
 * - otherwise it is written to the EPTP field of the current VMCS and, on a processor that supports
 *   the 1-setting of "EPT-violation #VE", ECX[15:0] to the EPTP-index field.
 * The Flags Affected section leaves the flags to the function, and EPTP switching changes none:
 * VMFUNC completes with the flags as they were and the guest's RIP past it (`ok`).
 *
 * The exits carry the instruction length (§28.2.5 "Information for VM Exits Due to Instruction
 * Execution" lists a disabled function, ECX ≥ 512 and an invalid tentative EPTP) and a cleared
 * exit qualification (instruction-exit.ts). Only function 0 is defined; an enabled function other
 * than 0 (which no VM entry allows while IA32_VMX_VMFUNC reports only bit 0) is not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL, VMFUNC_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { VmfuncOp } from '../../spec/operations.ts';
import { completed, fault } from '../conventions.ts';
import { operand } from '../input.ts';
import { readWord } from '../memory.ts';
import { bitOf, controlField, controllingVmcs, NON_ROOT_RULES, pastInstruction, secondaryControlsInEffect } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { setField } from '../vmcs-fields.ts';
import { withActiveContent } from '../vmcs.ts';
import { eptpFailure } from './eptp.ts';
import { vmxInstructionExit } from './instruction-exit.ts';

const PAGE = sdm('31.3', 'VMFUNC—Invoke VM function');
const FUNCTIONS = sdm('26.5.6', 'VM Functions');
const EPTP_SWITCHING = sdm('26.5.6.3', 'EPTP Switching');
const I = 'VMFUNC';

/** Entries in the EPTP list (one 4-KByte page of 8-byte EPTPs). */
const EPTP_LIST_ENTRIES = 512n;
/** Bytes per EPTP-list entry. */
const EPTP_LIST_ENTRY_BYTES = 8n;

/** The decision points of VMFUNC. */
export const VMFUNC_RULES = {
  udOutsideNonRoot: rule('vmfunc.ud-outside-non-root', I, PAGE, '#UD outside VMX non-root operation'),
  udDisabled: rule('vmfunc.ud-vm-functions-disabled', I, PAGE, '#UD when the "enable VM functions" control is 0 (or secondary controls are not activated)'),
  udEaxRange: rule('vmfunc.ud-eax-above-63', I, PAGE, '#UD when EAX is 64 or more'),
  exitFunctionDisabled: rule('vmfunc.vm-exit-function-disabled', I, FUNCTIONS, 'VM exit (basic exit reason 59) when bit EAX of the VM-function controls is 0'),
  functionNotModelled: rule('vmfunc.function-not-modelled', I, FUNCTIONS, 'an enabled VM function other than EPTP switching (EAX = 0) runs; not modelled'),
  exitIndexTooLarge: rule('vmfunc.eptp-switching-index-too-large', I, EPTP_SWITCHING, 'EPTP switching: VM exit (reason 59) when ECX is 512 or more'),
  exitInvalidEptp: rule(
    'vmfunc.eptp-switching-invalid-eptp',
    I,
    EPTP_SWITCHING,
    'EPTP switching: VM exit (reason 59) when the EPTP-list entry ECX would fail the VM-entry checks on the EPTP',
  ),
  eptpSwitched: rule(
    'vmfunc.eptp-switching',
    I,
    EPTP_SWITCHING,
    'EPTP switching: the EPTP-list entry ECX becomes the EPTP of the current VMCS (and ECX[15:0] its EPTP index when "EPT-violation #VE" is supported); flags unchanged',
  ),
} as const;

const R = VMFUNC_RULES;

/** VMFUNC. */
export function vmfunc(state: ModelState, op: VmfuncOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const eax = operand(op.eax, 'eax', 'vmfunc') & 0xffff_ffffn;
  const ecx = operand(op.ecx, 'ecx', 'vmfunc') & 0xffff_ffffn;
  if (cpu.vmx !== 'non-root') return defined(fault(state, c, R.udOutsideNonRoot, 'UD'));
  const secondary = secondaryControlsInEffect(state, c);
  if (secondary === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
  if (!bitOf(secondary, SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS)) return defined(fault(state, c, R.udDisabled, 'UD'));
  if (eax >= 64n) return defined(fault(state, c, R.udEaxRange, 'UD'));
  const functions = controlField(state, c, FIELD.VM_FUNCTION_CONTROLS);
  if (functions === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
  const exit = (rule: Rule) => defined(vmxInstructionExit(state, c, rule, op, EXIT_REASON.VMFUNC, { format: 'none' }));
  if (!bitOf(functions, Number(eax))) return exit(R.exitFunctionDisabled);
  if (eax !== BigInt(VMFUNC_CONTROL.EPTP_SWITCHING)) return notModelled(R.functionNotModelled);
  return eptpSwitching(state, op, ecx, exit);
}

/** EPTP switching (VM function 0) with index `ecx`. */
function eptpSwitching(state: ModelState, op: VmfuncOp, ecx: bigint, exit: (rule: Rule) => Verdict): Verdict {
  const c = op.cpu;
  if (ecx >= EPTP_LIST_ENTRIES) return exit(R.exitIndexTooLarge);
  const list = controlField(state, c, FIELD.EPTP_LIST_ADDRESS);
  if (list === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
  const entry = list + EPTP_LIST_ENTRY_BYTES * ecx;
  const tentative = (BigInt(readWord(state, entry + 4n)) << 32n) | BigInt(readWord(state, entry));
  if (eptpFailure(state.profile, tentative) !== undefined) return exit(R.exitInvalidEptp);

  const address = cpuOf(state, c).currentVmcs;
  let content = setField(controllingVmcs(state, c).content, FIELD.EPT_POINTER, tentative);
  if (state.profile.supportsControl('secondary', SECONDARY_CONTROL.EPT_VIOLATION_VE)) {
    content = setField(content, FIELD.EPTP_INDEX, ecx & 0xffffn);
  }
  const switched = withActiveContent(pastInstruction(state, c, op), c, address, content);
  return defined(completed(switched, c, R.eptpSwitched));
}
