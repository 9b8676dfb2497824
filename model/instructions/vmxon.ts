/**
 * VMXON—Enter VMX Operation. SDM Vol. 3C (December 2023) §31.3, the instruction's Operation
 * section, in its order. Also §25.11.5 "VMXON Region" for regions in use by another processor.
 *
 * Assumed throughout (state.ts): not in A20M mode, not in SMX operation. Memory-operand faults
 * (#PF, #SS, segment #GP) are not modelled: the operand arrives by value.
 */
import { CR4_VMXE, FEATURE_CONTROL } from '../../spec/capability-msrs.ts';
import { sdm } from '../../spec/citation.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { VmxonOp } from '../../spec/operations.ts';
import { fault, vmFail, vmFailInvalid, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { readWord } from '../memory.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode } from '../modes.ts';
import { cr0AllowedInVmx, cr4AllowedInVmx } from '../restrictions.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf, NO_CURRENT_VMCS, withCpu } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, undefinedBy } from '../verdict.ts';
import { activeElsewhere, corruptRegion, vmxonRegionElsewhere } from '../vmcs.ts';
import { vmxInstructionExit } from './instruction-exit.ts';

const PAGE = sdm('31.3', 'VMXON—Enter VMX Operation');
const I = 'VMXON';

/** The decision points of VMXON, in the order of the Operation section. */
export const VMXON_RULES = {
  udRegisterOperand: rule('vmxon.ud-register-operand', I, PAGE, '#UD when the operand is a register: VMXON takes only a memory operand'),
  udRealMode: rule('vmxon.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVmxeClear: rule('vmxon.ud-cr4-vmxe-clear', I, PAGE, '#UD when CR4.VMXE = 0'),
  udVirtual8086: rule('vmxon.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('vmxon.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode (IA32_EFER.LMA = 1 and CS.L = 0)'),
  gpCpl: rule('vmxon.gp-cpl', I, PAGE, 'outside VMX operation, #GP(0) when CPL > 0'),
  gpA20m: rule('vmxon.gp-a20m', I, PAGE, 'outside VMX operation, #GP(0) in A20M mode'),
  gpCr0: rule('vmxon.gp-cr0-fixed-bits', I, PAGE, 'outside VMX operation, #GP(0) when CR0 has a value not supported in VMX operation (IA32_VMX_CR0_FIXED0/FIXED1)'),
  gpCr4: rule('vmxon.gp-cr4-fixed-bits', I, PAGE, 'outside VMX operation, #GP(0) when CR4 has a value not supported in VMX operation (IA32_VMX_CR4_FIXED0/FIXED1)'),
  gpUnlocked: rule('vmxon.gp-feature-control-unlocked', I, PAGE, 'outside VMX operation, #GP(0) when the lock bit (0) of IA32_FEATURE_CONTROL is clear'),
  gpInSmx: rule('vmxon.gp-feature-control-in-smx', I, PAGE, 'outside VMX operation, #GP(0) in SMX operation when IA32_FEATURE_CONTROL bit 1 is clear'),
  gpOutsideSmx: rule('vmxon.gp-feature-control-outside-smx', I, PAGE, 'outside VMX operation, #GP(0) outside SMX operation when IA32_FEATURE_CONTROL bit 2 is clear'),
  pointerNotAligned: rule('vmxon.pointer-not-aligned', I, PAGE, 'VMfailInvalid when the VMXON pointer is not 4-KByte aligned'),
  pointerTooWide: rule('vmxon.pointer-beyond-address-width', I, PAGE, 'VMfailInvalid when the VMXON pointer sets bits beyond the physical-address width (bits 63:32 if IA32_VMX_BASIC[48] = 1)'),
  regionIsOtherVmxonRegion: rule(
    'vmxon.region-of-another-processor',
    I,
    sdm('25.11.5', 'VMXON Region'),
    'undefined: each logical processor needs its own VMXON region, and the region of a processor in VMX operation must not be accessed',
  ),
  regionIsActiveVmcs: rule(
    'vmxon.region-is-active-vmcs',
    I,
    sdm('25.11.1', 'Software Use of Virtual-Machine Control Structures'),
    'undefined: the region is that of a VMCS active on another processor, whose data may be cached there and must not be touched',
  ),
  revisionMismatch: rule('vmxon.revision-mismatch', I, PAGE, 'VMfailInvalid when bits 30:0 of the region\'s first word are not the VMCS revision identifier'),
  shadowIndicator: rule('vmxon.shadow-indicator-set', I, PAGE, 'VMfailInvalid when bit 31 of the region\'s first word is 1'),
  success: rule('vmxon.success', I, PAGE, 'enter VMX root operation with no current VMCS; VMsucceed'),
  vmExit: rule('vmxon.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 27)'),
  gpCplInVmx: rule('vmxon.gp-cpl-in-vmx-root', I, PAGE, 'in VMX root operation, #GP(0) when CPL > 0'),
  inVmxRoot: rule('vmxon.in-vmx-root', I, PAGE, 'in VMX root operation, VMfail(15 "VMXON executed in VMX root operation")'),
} as const;

const R = VMXON_RULES;

function bit(value: bigint, position: number): boolean {
  return ((value >> BigInt(position)) & 1n) === 1n;
}

/** VMXON m64. */
export function vmxon(state: ModelState, op: VmxonOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'memory', 'vmxon');
  if (form === 'register') return defined(fault(state, c, R.udRegisterOperand, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if ((cpu.cr4 & CR4_VMXE) === 0n) return defined(fault(state, c, R.udVmxeClear, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));

  if (cpu.vmx === 'outside') {
    if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));
    if (cpu.a20m) return defined(fault(state, c, R.gpA20m, 'GP'));
    if (!cr0AllowedInVmx(state.profile, cpu.cr0)) return defined(fault(state, c, R.gpCr0, 'GP'));
    if (!cr4AllowedInVmx(state.profile, cpu.cr4)) return defined(fault(state, c, R.gpCr4, 'GP'));
    if (!bit(cpu.featureControl, FEATURE_CONTROL.LOCK)) return defined(fault(state, c, R.gpUnlocked, 'GP'));
    if (cpu.inSmx && !bit(cpu.featureControl, FEATURE_CONTROL.VMX_INSIDE_SMX)) return defined(fault(state, c, R.gpInSmx, 'GP'));
    if (!cpu.inSmx && !bit(cpu.featureControl, FEATURE_CONTROL.VMX_OUTSIDE_SMX)) return defined(fault(state, c, R.gpOutsideSmx, 'GP'));

    const addr = operand(op.pointer, 'pointer', 'vmxon');
    if ((addr & 0xfffn) !== 0n) return defined(vmFailInvalid(state, c, R.pointerNotAligned));
    if (addr >> BigInt(state.profile.pointerWidth) !== 0n) return defined(vmFailInvalid(state, c, R.pointerTooWide));
    if (vmxonRegionElsewhere(state, c, addr) !== undefined) return undefinedBy(R.regionIsOtherVmxonRegion);
    if (activeElsewhere(state, c, addr) !== undefined) return undefinedBy(R.regionIsActiveVmcs);

    const rev = readWord(state, addr);
    if ((rev & 0x7fff_ffff) !== state.profile.revisionId) return defined(vmFailInvalid(state, c, R.revisionMismatch));
    if (rev >>> 31 === 1) return defined(vmFailInvalid(state, c, R.shadowIndicator));

    // The processor may use the region from now on: whatever VMCS data it held is no longer known.
    const entered = withCpu(corruptRegion(state, addr), c, { vmx: 'root', vmxonPointer: addr, currentVmcs: NO_CURRENT_VMCS });
    return defined(vmSucceed(entered, c, R.success));
  }
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.VMXON, { format: 'pointer' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCplInVmx, 'GP'));
  return defined(vmFail(state, c, R.inVmxRoot, VM_ERROR.VMXON_IN_VMX_ROOT));
}
