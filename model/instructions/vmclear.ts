/**
 * VMCLEAR—Clear Virtual-Machine Control Structure. SDM Vol. 3C (December 2023) §31.3, the
 * instruction's Operation section, in its order; the effect on the VMCS follows §25.1 "Overview"
 * (figure "States of VMCS X") and is in vmcs.ts. There is no revision-identifier check: VMCLEAR
 * of a region never used before is how software initializes it (§25.11.3 "Initializing a VMCS").
 *
 * Two cases the SDM leaves undefined, decided just before the instruction would succeed: the VMCS
 * is active on another logical processor (§25.11.1 "Software Use of Virtual-Machine Control
 * Structures": no VMCS may be active on two processors; software migrates a VMCS by VMCLEAR on
 * the processor where it is active), and the region is the VMXON region of another processor in
 * VMX operation (§25.11.5 "VMXON Region": that region must not be accessed or modified).
 */
import { sdm } from '../../spec/citation.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { VmclearOp } from '../../spec/operations.ts';
import { fault, vmFail, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, undefinedBy } from '../verdict.ts';
import { activeElsewhere, clearVmcs, vmxonRegionElsewhere } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';
import { registerFormOfC7 } from '../non-root/random.ts';

const PAGE = sdm('31.3', 'VMCLEAR—Clear Virtual-Machine Control Structure');
const I = 'VMCLEAR';

/** The decision points of VMCLEAR, in the order of the Operation section. */
export const VMCLEAR_RULES = {
  udRegisterOperand: rule('vmclear.ud-register-operand', I, PAGE, '#UD when the operand is a register and the processor lacks RDRAND (the register form is that instruction: model/non-root/random.ts)'),
  udOutsideVmx: rule('vmclear.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('vmclear.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('vmclear.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmclear.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  vmExit: rule('vmclear.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 19)'),
  gpCpl: rule('vmclear.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  pointerNotAligned: rule('vmclear.pointer-not-aligned', I, PAGE, 'VMfail(2) when the operand is not 4-KByte aligned'),
  pointerTooWide: rule('vmclear.pointer-beyond-address-width', I, PAGE, 'VMfail(2) when the operand sets bits beyond the physical-address width'),
  vmxonPointer: rule('vmclear.vmxon-pointer', I, PAGE, 'VMfail(3) when the operand is the VMXON pointer'),
  activeElsewhere: rule(
    'vmclear.active-on-another-processor',
    I,
    sdm('25.11.1', 'Software Use of Virtual-Machine Control Structures'),
    'undefined: the VMCS is active on another logical processor, which may hold its data; only that processor may VMCLEAR it',
  ),
  otherVmxonRegion: rule(
    'vmclear.vmxon-region-of-another-processor',
    I,
    sdm('25.11.5', 'VMXON Region'),
    'undefined: the region is the VMXON region of another processor in VMX operation, which must not be modified',
  ),
  success: rule('vmclear.success', I, PAGE, 'VMCS data written to the region; the VMCS becomes inactive, not current, launch state clear; VMsucceed'),
} as const;

const R = VMCLEAR_RULES;

/** VMCLEAR m64. */
export function vmclear(state: ModelState, op: VmclearOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'memory', 'vmclear');
  if (form === 'register') return registerFormOfC7(state, { kind: 'vmclear', cpu: c }) ?? defined(fault(state, c, R.udRegisterOperand, 'UD'));
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.VMCLEAR, { format: 'pointer' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  const addr = operand(op.pointer, 'pointer', 'vmclear');
  if ((addr & 0xfffn) !== 0n) return defined(vmFail(state, c, R.pointerNotAligned, VM_ERROR.VMCLEAR_INVALID_ADDRESS));
  if (addr >> BigInt(state.profile.pointerWidth) !== 0n) {
    return defined(vmFail(state, c, R.pointerTooWide, VM_ERROR.VMCLEAR_INVALID_ADDRESS));
  }
  if (addr === cpu.vmxonPointer) return defined(vmFail(state, c, R.vmxonPointer, VM_ERROR.VMCLEAR_VMXON_POINTER));
  if (activeElsewhere(state, c, addr) !== undefined) return undefinedBy(R.activeElsewhere);
  if (vmxonRegionElsewhere(state, c, addr) !== undefined) return undefinedBy(R.otherVmxonRegion);
  return defined(vmSucceed(clearVmcs(state, c, addr), c, R.success));
}
