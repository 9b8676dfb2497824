/**
 * VMREAD—Read Field from Virtual-Machine Control Structure. SDM Vol. 3C (December 2023) §31.3,
 * the instruction's Operation section, in its order; operand widths from its Description and
 * field widths from §25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields" (vmcs-fields.ts).
 *
 * The encoding register is 64 bits in 64-bit mode and 32 bits elsewhere; in 64-bit mode an
 * encoding with any of bits 63:32 set names no field (§25.11.2: VMREAD and VMWRITE fail when given
 * an encoding with a bit set above bit 31). A field whose value the model does not know (never
 * written since the region was initialized) reads as any value, and the value the engine returns
 * is then pinned so that later reads must agree with it.
 *
 * In VMX non-root operation VMREAD exits unless "VMCS shadowing" is 1, the encoding fits in
 * bits 14:0, and the VMREAD bitmap bit for it is 0; then it reads the VMCS referenced by the VMCS
 * link pointer (a shadow VMCS made active by VM entry, §25.1).
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { VmreadOp } from '../../spec/operations.ts';
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
import { pinField, readField } from '../vmcs-fields.ts';
import { activeVmcs, withActiveContent } from '../vmcs.ts';

const PAGE = sdm('31.3', 'VMREAD—Read Field from Virtual-Machine Control Structure');
const ENCODINGS = sdm('25.11.2', 'VMREAD, VMWRITE, and Encodings of VMCS Fields');
const I = 'VMREAD';

/** The decision points of VMREAD, in the order of the Operation section. */
export const VMREAD_RULES = {
  udOutsideVmx: rule('vmread.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('vmread.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('vmread.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmread.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  exitShadowingOff: rule('vmread.vm-exit-shadowing-off', I, PAGE, 'in VMX non-root operation, VM exit (reason 23) when "VMCS shadowing" is 0'),
  exitEncodingHigh: rule('vmread.vm-exit-encoding-above-bit-14', I, PAGE, 'in VMX non-root operation, VM exit (reason 23) when the encoding sets any of bits 63:15'),
  exitBitmap: rule('vmread.vm-exit-bitmap', I, PAGE, 'in VMX non-root operation, VM exit (reason 23) when the VMREAD-bitmap bit for encoding bits 14:0 is 1'),
  gpCpl: rule('vmread.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  noCurrentVmcs: rule('vmread.no-current-vmcs', I, PAGE, 'in VMX root operation, VMfailInvalid when the current-VMCS pointer is not valid'),
  linkPointerInvalid: rule('vmread.link-pointer-invalid', I, PAGE, 'in VMX non-root operation, VMfailInvalid when the VMCS link pointer is not valid'),
  encodingAbove31: rule('vmread.encoding-above-bit-31', I, ENCODINGS, 'in 64-bit mode, VMfailValid(12) when the encoding sets any of bits 63:32'),
  unsupportedField: rule('vmread.unsupported-field', I, PAGE, 'VMfailValid(12) when the encoding names no field this processor supports'),
  success: rule('vmread.success', I, PAGE, 'the field\'s value, zero-extended or cut to the operand size; VMsucceed'),
} as const;

const R = VMREAD_RULES;

/** VMREAD r/m, r. */
export function vmread(state: ModelState, op: VmreadOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  formOf(op.form, 'register', 'vmread');
  const register = operand(op.encoding, 'encoding', 'vmread');
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  const encoding = toOperandSize(cpu, register);

  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControlsInEffect(state, c);
    if (secondary === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (!bitOf(secondary, SECONDARY_CONTROL.VMCS_SHADOWING)) return defined(vmExit(state, c, R.exitShadowingOff, EXIT_REASON.VMREAD));
    if (encoding >> 15n !== 0n) return defined(vmExit(state, c, R.exitEncodingHigh, EXIT_REASON.VMREAD));
    const bitmap = controlField(state, c, FIELD.VMREAD_BITMAP_ADDRESS);
    if (bitmap === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (((readByte(state, bitmap | (encoding >> 3n)) >> Number(encoding & 7n)) & 1) === 1) {
      return defined(vmExit(state, c, R.exitBitmap, EXIT_REASON.VMREAD));
    }
  }
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  let source = cpu.currentVmcs;
  if (cpu.vmx === 'root') {
    if (cpu.currentVmcs === NO_CURRENT_VMCS) return defined(vmFailInvalid(state, c, R.noCurrentVmcs));
  } else {
    const link = controlField(state, c, FIELD.VMCS_LINK_POINTER);
    if (link === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (link === NO_CURRENT_VMCS) return defined(vmFailInvalid(state, c, R.linkPointerInvalid));
    source = link;
  }
  if (in64BitMode(cpu) && encoding >> 32n !== 0n) return defined(vmFailValid(state, c, R.encodingAbove31, VM_ERROR.UNSUPPORTED_FIELD));
  const field = Number(encoding);
  if (!state.profile.fieldExists(field)) return defined(vmFailValid(state, c, R.unsupportedField, VM_ERROR.UNSUPPORTED_FIELD));

  const bits = registerOperandBits(cpu);
  const content = activeVmcs(state, c, source).content;
  return defined(
    vmSucceed(state, c, R.success, {
      expected: readField(content, field, bits),
      record: (after, observed) => withActiveContent(after, c, source, pinField(content, field, bits, observed)),
    }),
  );
}
