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
 * bits 14:0, and the VMREAD bitmap bit for it is 0 (vmcs-shadowing.ts); the exit carries the
 * instruction length and instruction information (instruction-exit.ts). Otherwise it reads the
 * VMCS referenced by the VMCS link pointer (vmcs.ts `linkedVmcsContent`). Its VMfailValid writes
 * the error number into the current VMCS, which in VMX non-root operation is the ordinary VMCS
 * controlling the guest, not the shadow VMCS: §31.2 "Conventions" sets "the VM-instruction error
 * field" of the current VMCS, and VM entry leaves the VMCS it used current (§25.1 "Overview"). A
 * VMREAD that completes in a guest (VMsucceed, VMfailInvalid, VMfailValid) moves the guest's RIP
 * past it; the flags are those of §31.2.
 *
 * The SDM's general rule that faults based on privilege level have priority over VM exits (§26.1.1
 * "Relative Priority of Faults and VM Exits") is not applied to CPL > 0 here: the instruction's
 * Operation section tests for VMX non-root operation before the CPL, and the model follows the
 * instruction's own text (hypervisors such as KVM emulate the #GP(0) after the exit accordingly).
 */
import { sdm } from '../../spec/citation.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import type { VmreadOp } from '../../spec/operations.ts';
import { fault, vmFailInvalid, vmFailValid, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { in64BitMode, inCompatibilityMode, inRealAddressMode, inVirtual8086Mode, registerOperandBits, toOperandSize } from '../modes.ts';
import { controlField, NON_ROOT_RULES, pastInstruction } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState, VmcsContent } from '../state.ts';
import { cpuOf, NO_CURRENT_VMCS } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled, undefinedBy } from '../verdict.ts';
import { pinField, readField } from '../vmcs-fields.ts';
import { activeVmcs, linkedVmcsContent, withActiveContent, withLinkedVmcsContent } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';
import { shadowingDecision } from './vmcs-shadowing.ts';

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
  shadowActiveElsewhere: rule(
    'vmread.shadow-vmcs-active-elsewhere',
    I,
    sdm('25.11.1', 'Software Use of Virtual-Machine Control Structures'),
    'undefined: in VMX non-root operation, the VMCS the link pointer references is active on another logical processor, which may hold its data',
  ),
  success: rule('vmread.success', I, PAGE, 'the field\'s value, zero-extended or cut to the operand size; VMsucceed'),
} as const;

const R = VMREAD_RULES;

/** VMREAD r/m, r. */
export function vmread(state: ModelState, op: VmreadOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'register', 'vmread');
  const register = operand(op.encoding, 'encoding', 'vmread');
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  const encoding = toOperandSize(cpu, register);

  if (cpu.vmx === 'non-root') {
    const exit = (rule: Rule) => defined(vmxInstructionExit(state, c, rule, op, EXIT_REASON.VMREAD, { format: 'vmread-vmwrite', form }));
    const decision = shadowingDecision(state, c, encoding, FIELD.VMREAD_BITMAP_ADDRESS);
    if (decision === 'controls-unknown') return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (decision === 'exit-shadowing-off') return exit(R.exitShadowingOff);
    if (decision === 'exit-encoding-above-bit-14') return exit(R.exitEncodingHigh);
    if (decision === 'exit-bitmap') return exit(R.exitBitmap);
  }
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  // From here the instruction completes: in a guest, RIP moves past it (non-root.ts).
  const done = pastInstruction(state, c, op);
  let source = cpu.currentVmcs;
  if (cpu.vmx === 'root') {
    if (cpu.currentVmcs === NO_CURRENT_VMCS) return defined(vmFailInvalid(done, c, R.noCurrentVmcs));
  } else {
    const link = controlField(state, c, FIELD.VMCS_LINK_POINTER);
    if (link === undefined) return notModelled(NON_ROOT_RULES.controlsUnknown);
    if (link === NO_CURRENT_VMCS) return defined(vmFailInvalid(done, c, R.linkPointerInvalid));
    source = link;
  }
  if (in64BitMode(cpu) && encoding >> 32n !== 0n) return defined(vmFailValid(done, c, R.encodingAbove31, VM_ERROR.UNSUPPORTED_FIELD));
  const field = Number(encoding);
  if (!state.profile.fieldExists(field)) return defined(vmFailValid(done, c, R.unsupportedField, VM_ERROR.UNSUPPORTED_FIELD));

  const bits = registerOperandBits(cpu);
  const content = sourceContent(state, c, source);
  if (content === undefined) return undefinedBy(R.shadowActiveElsewhere);
  const record = (after: ModelState, observed: bigint): ModelState =>
    cpu.vmx === 'root'
      ? withActiveContent(after, c, source, pinField(content, field, bits, observed))
      : withLinkedVmcsContent(after, c, source, pinField(content, field, bits, observed));
  return defined(vmSucceed(done, c, R.success, { expected: readField(content, field, bits), record }));
}

/** The data VMREAD reads: the current VMCS in VMX root operation, the link-pointer VMCS in non-root. */
function sourceContent(state: ModelState, c: number, source: bigint): VmcsContent | undefined {
  return cpuOf(state, c).vmx === 'root' ? activeVmcs(state, c, source).content : linkedVmcsContent(state, c, source);
}
