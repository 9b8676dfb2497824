/**
 * INVEPT—Invalidate Translations Derived from EPT. SDM Vol. 3C (December 2023) §31.3, the
 * instruction's Operation section in its order, after the #UD conditions of its exception lists
 * (EPT or INVEPT not supported: the instruction does not exist on that processor).
 *
 * Single-context INVEPT fails when VM entry with "enable EPT" = 1 would fail because of the EPTP (eptp.ts);
 * those checks are listed in §27.2.1.1 "VM-Execution Control Fields" and modelled here one rule
 * each, against IA32_VMX_EPT_VPID_CAP (Vol. 3D Appendix A.10 "VPID and EPT Capabilities").
 * Bits 127:64 of the descriptor are documented as reserved but the Operation section does not test
 * them, so neither does the model. Invalidation itself has no visible effect here.
 */
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { InveptOp } from '../../spec/operations.ts';
import { fault, vmFail, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode, toOperandSize } from '../modes.ts';
import { bitOf } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { Rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { eptpFailure } from './eptp.ts';
import type { EptpFailure } from './eptp.ts';
import { vmxInstructionExit } from './instruction-exit.ts';

const PAGE = sdm('31.3', 'INVEPT—Invalidate Translations Derived from EPT');
const EPTP_CHECKS = sdm('27.2.1.1', 'VM-Execution Control Fields');
const I = 'INVEPT';

/** The decision points of INVEPT, in the order of the Operation section. */
export const INVEPT_RULES = {
  udEptUnsupported: rule('invept.ud-ept-unsupported', I, PAGE, '#UD when the processor does not support EPT (IA32_VMX_PROCBASED_CTLS2[33] = 0)'),
  udInveptUnsupported: rule('invept.ud-invept-unsupported', I, PAGE, '#UD when the processor supports EPT but not INVEPT (IA32_VMX_EPT_VPID_CAP[20] = 0)'),
  registerDescriptor: rule(
    'invept.register-descriptor',
    I,
    PAGE,
    'the descriptor operand is a register: INVEPT is defined only with a memory operand (m128); not modelled',
  ),
  udOutsideVmx: rule('invept.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('invept.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('invept.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('invept.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  vmExit: rule('invept.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 50)'),
  gpCpl: rule('invept.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  typeUnsupported: rule('invept.type-unsupported', I, PAGE, 'VMfail(28) when IA32_VMX_EPT_VPID_CAP does not report the INVEPT type (1: bit 25, 2: bit 26)'),
  eptpMemoryType: rule('invept.eptp-memory-type', I, EPTP_CHECKS, 'single-context: VMfail(28) when EPTP bits 2:0 are not a supported memory type (0 needs capability bit 8, 6 needs bit 14)'),
  eptpWalkLength: rule('invept.eptp-page-walk-length', I, EPTP_CHECKS, 'single-context: VMfail(28) when EPTP bits 5:3 are not a supported page-walk length minus 1 (3 needs capability bit 6, 4 needs bit 7)'),
  eptpAccessedDirty: rule('invept.eptp-accessed-dirty', I, EPTP_CHECKS, 'single-context: VMfail(28) when EPTP bit 6 is 1 and accessed and dirty flags are not supported (capability bit 21)'),
  eptpShadowStack: rule('invept.eptp-supervisor-shadow-stack', I, EPTP_CHECKS, 'single-context: VMfail(28) when EPTP bit 7 is 1 and supervisor shadow-stack control is not supported (capability bit 23)'),
  eptpReserved: rule('invept.eptp-reserved-bits', I, EPTP_CHECKS, 'single-context: VMfail(28) when EPTP bits 11:8 are not 0'),
  eptpAddressWidth: rule('invept.eptp-beyond-address-width', I, EPTP_CHECKS, 'single-context: VMfail(28) when the EPTP sets bits beyond the physical-address width'),
  singleContext: rule('invept.single-context', I, PAGE, 'type 1: mappings of the EPTP invalidated; VMsucceed'),
  allContext: rule('invept.all-context', I, PAGE, 'type 2: mappings of all EPTPs invalidated; VMsucceed'),
} as const;

const R = INVEPT_RULES;

/** The INVEPT rule of each EPTP check (eptp.ts). */
const EPTP_RULE: Record<EptpFailure, Rule> = {
  'memory-type': R.eptpMemoryType,
  'walk-length': R.eptpWalkLength,
  'accessed-dirty': R.eptpAccessedDirty,
  'supervisor-shadow-stack': R.eptpShadowStack,
  'reserved-bits': R.eptpReserved,
  'address-width': R.eptpAddressWidth,
};

/** INVEPT r, m128. */
export function invept(state: ModelState, op: InveptOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'memory', 'invept');
  const register = operand(op.type, 'type', 'invept');
  const eptp = operand(op.descriptor[0], 'descriptor[0]', 'invept');
  operand(op.descriptor[1], 'descriptor[1]', 'invept');
  if (!state.profile.supportsControl('secondary', SECONDARY_CONTROL.ENABLE_EPT)) return defined(fault(state, c, R.udEptUnsupported, 'UD'));
  if (!bitOf(state.profile.eptVpidCap, EPT_VPID_CAP.INVEPT)) return defined(fault(state, c, R.udInveptUnsupported, 'UD'));
  if (form === 'register') return notModelled(R.registerDescriptor);
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.INVEPT, { format: 'invalidation' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  const type = toOperandSize(cpu, register);
  const singleContext = type === 1n && bitOf(state.profile.eptVpidCap, EPT_VPID_CAP.INVEPT_SINGLE_CONTEXT);
  const allContext = type === 2n && bitOf(state.profile.eptVpidCap, EPT_VPID_CAP.INVEPT_ALL_CONTEXT);
  if (!singleContext && !allContext) return defined(vmFail(state, c, R.typeUnsupported, VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND));
  if (singleContext) {
    const failing = eptpFailure(state.profile, eptp);
    if (failing !== undefined) return defined(vmFail(state, c, EPTP_RULE[failing], VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND));
    return defined(vmSucceed(state, c, R.singleContext));
  }
  return defined(vmSucceed(state, c, R.allContext));
}
