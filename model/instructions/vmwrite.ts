/**
 * VMWRITE—Write Field to Virtual-Machine Control Structure. SDM Vol. 3C (December 2023) §31.3,
 * the instruction's Operation section, in its order; widths as for VMREAD (vmcs-fields.ts).
 *
 * The encoding register and the value are 64 bits in 64-bit mode and 32 bits elsewhere. VM-exit
 * information fields are read-only unless IA32_VMX_MISC[29] is 1 (the Operation section's
 * footnote sends software to that MSR; Vol. 3D Appendix A.6 "Miscellaneous Data"). VMWRITE checks
 * nothing about the value written: VM entry checks field contents.
 *
 * In VMX non-root operation VMWRITE exits unless "VMCS shadowing" is 1, the encoding fits in
 * bits 14:0 and the VMWRITE bitmap bit for it is 0 (vmcs-shadowing.ts); the exit carries the
 * instruction length and instruction information (instruction-exit.ts). Otherwise it writes the
 * VMCS the link pointer references (vmcs.ts `withLinkedVmcsContent`), and its VMfailValid writes
 * the error number into the current (ordinary, controlling) VMCS, as for VMREAD. A VMWRITE that
 * completes in a guest moves the guest's RIP past it. CPL > 0 is tested after the exit
 * conditions, as the Operation section orders it (see vmread.ts).
 */
import { sdm } from '../../spec/citation.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { decodeFieldEncoding } from '../../spec/field-encoding.ts';
import { FIELD } from '../../spec/fields.ts';
import type { VmwriteOp } from '../../spec/operations.ts';
import { fault, vmFailInvalid, vmFailValid, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { in64BitMode, inCompatibilityMode, inRealAddressMode, inVirtual8086Mode, registerOperandBits, toOperandSize } from '../modes.ts';
import { controlField, NON_ROOT_RULES, pastInstruction } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, NO_CURRENT_VMCS } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled, undefinedBy } from '../verdict.ts';
import { writeField } from '../vmcs-fields.ts';
import { activeVmcs, linkedVmcsContent, withActiveContent, withLinkedVmcsContent } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';
import { shadowingDecision } from './vmcs-shadowing.ts';

const PAGE = sdm('31.3', 'VMWRITE—Write Field to Virtual-Machine Control Structure');
const ENCODINGS = sdm('25.11.2', 'VMREAD, VMWRITE, and Encodings of VMCS Fields');
const I = 'VMWRITE';

/** The decision points of VMWRITE, in the order of the Operation section. */
export const VMWRITE_RULES = {
  udOutsideVmx: rule('vmwrite.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('vmwrite.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('vmwrite.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmwrite.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  exitShadowingOff: rule('vmwrite.vm-exit-shadowing-off', I, PAGE, 'in VMX non-root operation, VM exit (reason 25) when "VMCS shadowing" is 0'),
  exitEncodingHigh: rule('vmwrite.vm-exit-encoding-above-bit-14', I, PAGE, 'in VMX non-root operation, VM exit (reason 25) when the encoding sets any of bits 63:15'),
  exitBitmap: rule('vmwrite.vm-exit-bitmap', I, PAGE, 'in VMX non-root operation, VM exit (reason 25) when the VMWRITE-bitmap bit for encoding bits 14:0 is 1'),
  gpCpl: rule('vmwrite.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  noCurrentVmcs: rule('vmwrite.no-current-vmcs', I, PAGE, 'in VMX root operation, VMfailInvalid when the current-VMCS pointer is not valid'),
  linkPointerInvalid: rule('vmwrite.link-pointer-invalid', I, PAGE, 'in VMX non-root operation, VMfailInvalid when the VMCS link pointer is not valid'),
  encodingAbove31: rule('vmwrite.encoding-above-bit-31', I, ENCODINGS, 'in 64-bit mode, VMfailValid(12) when the encoding sets any of bits 63:32'),
  unsupportedField: rule('vmwrite.unsupported-field', I, PAGE, 'VMfailValid(12) when the encoding names no field this processor supports'),
  readOnlyField: rule(
    'vmwrite.read-only-field',
    I,
    PAGE,
    'VMfailValid(13) when the field is a VM-exit information field and IA32_VMX_MISC[29] = 0 (VMWRITE cannot write such fields)',
  ),
  shadowActiveElsewhere: rule(
    'vmwrite.shadow-vmcs-active-elsewhere',
    I,
    sdm('25.11.1', 'Software Use of Virtual-Machine Control Structures'),
    'undefined: in VMX non-root operation, the VMCS the link pointer references is active on another logical processor, which may hold its data',
  ),
  success: rule('vmwrite.success', I, PAGE, 'the field takes the value, cut or zero-extended to the field\'s width; VMsucceed'),
} as const;

const R = VMWRITE_RULES;

/** VMWRITE r, r/m. */
export function vmwrite(state: ModelState, op: VmwriteOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'register', 'vmwrite');
  const register = operand(op.encoding, 'encoding', 'vmwrite');
  const source = operand(op.value, 'value', 'vmwrite');
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  const encoding = toOperandSize(cpu, register);

  if (cpu.vmx === 'non-root') {
    const exit = (rule: Rule) => defined(vmxInstructionExit(state, c, rule, op, EXIT_REASON.VMWRITE, { format: 'vmread-vmwrite', form }));
    const decision = shadowingDecision(state, c, encoding, FIELD.VMWRITE_BITMAP_ADDRESS);
    if (decision === 'controls-unknown') return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (decision === 'exit-shadowing-off') return exit(R.exitShadowingOff);
    if (decision === 'exit-encoding-above-bit-14') return exit(R.exitEncodingHigh);
    if (decision === 'exit-bitmap') return exit(R.exitBitmap);
  }
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  // From here the instruction completes: in a guest, RIP moves past it (non-root.ts).
  const done = pastInstruction(state, c, op);
  let target = cpu.currentVmcs;
  if (cpu.vmx === 'root') {
    if (cpu.currentVmcs === NO_CURRENT_VMCS) return defined(vmFailInvalid(done, c, R.noCurrentVmcs));
  } else {
    const link = controlField(state, c, FIELD.VMCS_LINK_POINTER);
    if (link === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (link === NO_CURRENT_VMCS) return defined(vmFailInvalid(done, c, R.linkPointerInvalid));
    target = link;
  }
  if (in64BitMode(cpu) && encoding >> 32n !== 0n) return defined(vmFailValid(done, c, R.encodingAbove31, VM_ERROR.UNSUPPORTED_FIELD));
  const field = Number(encoding);
  if (!state.profile.fieldExists(field)) return defined(vmFailValid(done, c, R.unsupportedField, VM_ERROR.UNSUPPORTED_FIELD));
  if (decodeFieldEncoding(field).type === 'exit-information' && !state.profile.vmwriteAnyField) {
    return defined(vmFailValid(done, c, R.readOnlyField, VM_ERROR.READ_ONLY_FIELD));
  }

  const bits = registerOperandBits(cpu);
  const value = toOperandSize(cpu, source);
  if (cpu.vmx === 'root') {
    const content = activeVmcs(state, c, target).content;
    return defined(vmSucceed(withActiveContent(done, c, target, writeField(content, field, bits, value)), c, R.success));
  }
  const content = linkedVmcsContent(state, c, target);
  if (content === undefined) return undefinedBy(R.shadowActiveElsewhere);
  return defined(vmSucceed(withLinkedVmcsContent(done, c, target, writeField(content, field, bits, value)), c, R.success));
}
