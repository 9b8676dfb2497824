/**
 * VMWRITE—Write Field to Virtual-Machine Control Structure. SDM Vol. 3C (December 2023) §31.3,
 * the instruction's Operation section, in its order; widths as for VMREAD (vmcs-fields.ts).
 *
 * The encoding register and the value are 64 bits in 64-bit mode and 32 bits elsewhere. VM-exit
 * information fields are read-only unless IA32_VMX_MISC[29] is 1 (the Operation section's
 * footnote sends software to that MSR; Vol. 3D Appendix A.6 "Miscellaneous Data"). VMWRITE checks
 * nothing about the value written: VM entry checks field contents.
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { decodeFieldEncoding } from '../../spec/field-encoding.ts';
import { FIELD } from '../../spec/fields.ts';
import type { VmwriteOp } from '../../spec/operations.ts';
import { fault, vmFailInvalid, vmFailValid, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { readByte } from '../memory.ts';
import { in64BitMode, inCompatibilityMode, inRealAddressMode, inVirtual8086Mode, registerOperandBits, toOperandSize } from '../modes.ts';
import { bitOf, controlField, NON_ROOT_RULES, secondaryControlsInEffect } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, NO_CURRENT_VMCS } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { vmExit } from '../vm-exit.ts';
import { writeField } from '../vmcs-fields.ts';
import { activeVmcs, withActiveContent } from '../vmcs.ts';

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
  success: rule('vmwrite.success', I, PAGE, 'the field takes the value, cut or zero-extended to the field\'s width; VMsucceed'),
} as const;

const R = VMWRITE_RULES;

/** VMWRITE r, r/m. */
export function vmwrite(state: ModelState, op: VmwriteOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  formOf(op.form, 'register', 'vmwrite');
  const register = operand(op.encoding, 'encoding', 'vmwrite');
  const source = operand(op.value, 'value', 'vmwrite');
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  const encoding = toOperandSize(cpu, register);

  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControlsInEffect(state, c);
    if (secondary === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (!bitOf(secondary, SECONDARY_CONTROL.VMCS_SHADOWING)) return defined(vmExit(state, c, R.exitShadowingOff, EXIT_REASON.VMWRITE));
    if (encoding >> 15n !== 0n) return defined(vmExit(state, c, R.exitEncodingHigh, EXIT_REASON.VMWRITE));
    const bitmap = controlField(state, c, FIELD.VMWRITE_BITMAP_ADDRESS);
    if (bitmap === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (((readByte(state, bitmap | (encoding >> 3n)) >> Number(encoding & 7n)) & 1) === 1) {
      return defined(vmExit(state, c, R.exitBitmap, EXIT_REASON.VMWRITE));
    }
  }
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  let target = cpu.currentVmcs;
  if (cpu.vmx === 'root') {
    if (cpu.currentVmcs === NO_CURRENT_VMCS) return defined(vmFailInvalid(state, c, R.noCurrentVmcs));
  } else {
    const link = controlField(state, c, FIELD.VMCS_LINK_POINTER);
    if (link === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (link === NO_CURRENT_VMCS) return defined(vmFailInvalid(state, c, R.linkPointerInvalid));
    target = link;
  }
  if (in64BitMode(cpu) && encoding >> 32n !== 0n) return defined(vmFailValid(state, c, R.encodingAbove31, VM_ERROR.UNSUPPORTED_FIELD));
  const field = Number(encoding);
  if (!state.profile.fieldExists(field)) return defined(vmFailValid(state, c, R.unsupportedField, VM_ERROR.UNSUPPORTED_FIELD));
  if (decodeFieldEncoding(field).type === 'exit-information' && !state.profile.vmwriteAnyField) {
    return defined(vmFailValid(state, c, R.readOnlyField, VM_ERROR.READ_ONLY_FIELD));
  }

  const bits = registerOperandBits(cpu);
  const content = activeVmcs(state, c, target).content;
  const written = withActiveContent(state, c, target, writeField(content, field, bits, toOperandSize(cpu, source)));
  return defined(vmSucceed(written, c, R.success));
}
