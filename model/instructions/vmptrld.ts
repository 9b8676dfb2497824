/**
 * VMPTRLD—Load Pointer to Virtual-Machine Control Structure. SDM Vol. 3C (December 2023) §31.3,
 * the instruction's Operation section, in its order; the effect on the VMCS follows §25.1
 * "Overview" and is in vmcs.ts.
 *
 * VMfail uses the current-VMCS pointer as it was before the instruction: a failing VMPTRLD
 * writes its error number into the previously current VMCS, or fails with VMfailInvalid when
 * there was none (§31.2 "Conventions").
 *
 * Undefined, decided before the region is read (the read is itself an access the SDM forbids):
 * the VMCS is active on another processor (§25.11.1: a VMCS made active on two processors may be
 * corrupted), or the region is the VMXON region of another processor (§25.11.5).
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { VmptrldOp } from '../../spec/operations.ts';
import { fault, vmFail, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { readWord } from '../memory.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, undefinedBy } from '../verdict.ts';
import { activeElsewhere, loadVmcs, vmxonRegionElsewhere } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';
import { registerFormOfC7 } from '../non-root/random.ts';

const PAGE = sdm('31.3', 'VMPTRLD—Load Pointer to Virtual-Machine Control Structure');
const I = 'VMPTRLD';

/** The decision points of VMPTRLD, in the order of the Operation section. */
export const VMPTRLD_RULES = {
  udRegisterOperand: rule('vmptrld.ud-register-operand', I, PAGE, '#UD when the operand is a register and the processor lacks RDRAND (the register form is that instruction: model/non-root/random.ts)'),
  udOutsideVmx: rule('vmptrld.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('vmptrld.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('vmptrld.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmptrld.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  vmExit: rule('vmptrld.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 21)'),
  gpCpl: rule('vmptrld.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  pointerNotAligned: rule('vmptrld.pointer-not-aligned', I, PAGE, 'VMfail(9) when the operand is not 4-KByte aligned'),
  pointerTooWide: rule('vmptrld.pointer-beyond-address-width', I, PAGE, 'VMfail(9) when the operand sets bits beyond the physical-address width'),
  vmxonPointer: rule('vmptrld.vmxon-pointer', I, PAGE, 'VMfail(10) when the operand is the VMXON pointer'),
  activeElsewhere: rule(
    'vmptrld.active-on-another-processor',
    I,
    sdm('25.11.1', 'Software Use of Virtual-Machine Control Structures'),
    'undefined: the VMCS is active on another logical processor; a VMCS active on two processors may be corrupted',
  ),
  otherVmxonRegion: rule(
    'vmptrld.vmxon-region-of-another-processor',
    I,
    sdm('25.11.5', 'VMXON Region'),
    'undefined: the region is the VMXON region of another processor in VMX operation, which must not be accessed',
  ),
  revisionMismatch: rule('vmptrld.revision-mismatch', I, PAGE, 'VMfail(11) when bits 30:0 of the region\'s first word are not the VMCS revision identifier'),
  shadowUnsupported: rule(
    'vmptrld.shadow-vmcs-unsupported',
    I,
    PAGE,
    'VMfail(11) when bit 31 of the region\'s first word (shadow-VMCS indicator) is 1 and the processor does not support "VMCS shadowing"',
  ),
  success: rule('vmptrld.success', I, PAGE, 'the VMCS becomes active and current; others stay active; VMsucceed'),
} as const;

const R = VMPTRLD_RULES;

/** VMPTRLD m64. */
export function vmptrld(state: ModelState, op: VmptrldOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'memory', 'vmptrld');
  if (form === 'register') return registerFormOfC7(state, { kind: 'vmptrld', cpu: c }) ?? defined(fault(state, c, R.udRegisterOperand, 'UD'));
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.VMPTRLD, { format: 'pointer' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  const addr = operand(op.pointer, 'pointer', 'vmptrld');
  if ((addr & 0xfffn) !== 0n) return defined(vmFail(state, c, R.pointerNotAligned, VM_ERROR.VMPTRLD_INVALID_ADDRESS));
  if (addr >> BigInt(state.profile.pointerWidth) !== 0n) {
    return defined(vmFail(state, c, R.pointerTooWide, VM_ERROR.VMPTRLD_INVALID_ADDRESS));
  }
  if (addr === cpu.vmxonPointer) return defined(vmFail(state, c, R.vmxonPointer, VM_ERROR.VMPTRLD_VMXON_POINTER));
  if (activeElsewhere(state, c, addr) !== undefined) return undefinedBy(R.activeElsewhere);
  if (vmxonRegionElsewhere(state, c, addr) !== undefined) return undefinedBy(R.otherVmxonRegion);

  const rev = readWord(state, addr);
  if ((rev & 0x7fff_ffff) !== state.profile.revisionId) {
    return defined(vmFail(state, c, R.revisionMismatch, VM_ERROR.VMPTRLD_INCORRECT_REVISION));
  }
  const shadow = rev >>> 31 === 1;
  if (shadow && !state.profile.supportsControl('secondary', SECONDARY_CONTROL.VMCS_SHADOWING)) {
    return defined(vmFail(state, c, R.shadowUnsupported, VM_ERROR.VMPTRLD_INCORRECT_REVISION));
  }
  return defined(vmSucceed(loadVmcs(state, c, addr, shadow), c, R.success));
}
