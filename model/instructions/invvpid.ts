/**
 * INVVPID—Invalidate Translations Based on VPID. SDM Vol. 3C (December 2023) §31.3, the
 * instruction's Operation section in its order, after the #UD conditions of its exception lists
 * (VPID or INVVPID not supported). Supported types come from IA32_VMX_EPT_VPID_CAP bits 40-43
 * (Vol. 3D Appendix A.10 "VPID and EPT Capabilities").
 *
 * Individual-address invalidation requires the linear address (descriptor bits 127:64) to be
 * canonical. Canonical means bits 63:47 equal on a processor with 48-bit linear addresses and bits
 * 63:56 equal on one with 57-bit linear addresses (5-level paging). The profile does not record
 * the linear-address width, so for an address canonical with 57 bits but not with 48 the model
 * allows both outcomes.
 */
import { EPT_VPID_CAP } from '../../spec/capability-msrs.ts';
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { VM_ERROR } from '../../spec/errors.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import type { InvvpidOp } from '../../spec/operations.ts';
import { fault, vmFail, vmSucceed } from '../conventions.ts';
import { formOf, operand } from '../input.ts';
import { inCompatibilityMode, inRealAddressMode, inVirtual8086Mode, toOperandSize } from '../modes.ts';
import { bitOf } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { vmxInstructionExit } from './instruction-exit.ts';

const PAGE = sdm('31.3', 'INVVPID—Invalidate Translations Based on VPID');
const I = 'INVVPID';
const ERROR = VM_ERROR.INVALID_INVEPT_INVVPID_OPERAND;

/** The decision points of INVVPID, in the order of the Operation section. */
export const INVVPID_RULES = {
  udVpidUnsupported: rule('invvpid.ud-vpid-unsupported', I, PAGE, '#UD when the processor does not support VPIDs (IA32_VMX_PROCBASED_CTLS2[37] = 0)'),
  udInvvpidUnsupported: rule('invvpid.ud-invvpid-unsupported', I, PAGE, '#UD when the processor supports VPIDs but not INVVPID (IA32_VMX_EPT_VPID_CAP[32] = 0)'),
  registerDescriptor: rule(
    'invvpid.register-descriptor',
    I,
    PAGE,
    'the descriptor operand is a register: INVVPID is defined only with a memory operand (m128); not modelled',
  ),
  udOutsideVmx: rule('invvpid.ud-outside-vmx', I, PAGE, '#UD outside VMX operation'),
  udRealMode: rule('invvpid.ud-real-mode', I, PAGE, '#UD when CR0.PE = 0'),
  udVirtual8086: rule('invvpid.ud-virtual-8086', I, PAGE, '#UD when RFLAGS.VM = 1'),
  udCompatibility: rule('invvpid.ud-compatibility-mode', I, PAGE, '#UD in compatibility mode'),
  vmExit: rule('invvpid.vm-exit', I, PAGE, 'in VMX non-root operation, VM exit (basic exit reason 53)'),
  gpCpl: rule('invvpid.gp-cpl', I, PAGE, '#GP(0) when CPL > 0'),
  typeUnsupported: rule('invvpid.type-unsupported', I, PAGE, 'VMfail(28) when IA32_VMX_EPT_VPID_CAP does not report the INVVPID type (type t: bit 40 + t)'),
  descriptorReserved: rule('invvpid.descriptor-reserved-bits', I, PAGE, 'VMfail(28) when descriptor bits 63:16 are not 0'),
  individualVpidZero: rule('invvpid.individual-address-vpid-zero', I, PAGE, 'type 0: VMfail(28) when the VPID is 0'),
  individualNonCanonical: rule('invvpid.individual-address-non-canonical', I, PAGE, 'type 0: VMfail(28) when the linear address is not canonical'),
  individualWidthUnknown: rule(
    'invvpid.individual-address-linear-width',
    I,
    PAGE,
    'type 0: the address is canonical with 57-bit but not with 48-bit linear addresses; the profile does not say which the processor has, so VMfail(28) and VMsucceed are both allowed',
  ),
  individualAddress: rule('invvpid.individual-address', I, PAGE, 'type 0: mappings of the address for the VPID invalidated; VMsucceed'),
  singleContextVpidZero: rule('invvpid.single-context-vpid-zero', I, PAGE, 'type 1: VMfail(28) when the VPID is 0'),
  singleContext: rule('invvpid.single-context', I, PAGE, 'type 1: all mappings of the VPID invalidated; VMsucceed'),
  allContext: rule('invvpid.all-context', I, PAGE, 'type 2: mappings of all VPIDs but 0000H invalidated; VMsucceed'),
  retainingGlobalsVpidZero: rule('invvpid.single-context-retaining-globals-vpid-zero', I, PAGE, 'type 3: VMfail(28) when the VPID is 0'),
  retainingGlobals: rule('invvpid.single-context-retaining-globals', I, PAGE, 'type 3: non-global mappings of the VPID invalidated; VMsucceed'),
} as const;

const R = INVVPID_RULES;

/** True when bits 63:(width-1) of `address` are all equal. */
function canonical(address: bigint, width: number): boolean {
  const top = address >> BigInt(width - 1);
  return top === 0n || top === (1n << BigInt(65 - width)) - 1n;
}

/** INVVPID r, m128. */
export function invvpid(state: ModelState, op: InvvpidOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const form = formOf(op.form, 'memory', 'invvpid');
  const register = operand(op.type, 'type', 'invvpid');
  const low = operand(op.descriptor[0], 'descriptor[0]', 'invvpid');
  const linearAddress = operand(op.descriptor[1], 'descriptor[1]', 'invvpid');
  const cap = state.profile.eptVpidCap;
  if (!state.profile.supportsControl('secondary', SECONDARY_CONTROL.ENABLE_VPID)) return defined(fault(state, c, R.udVpidUnsupported, 'UD'));
  if (!bitOf(cap, EPT_VPID_CAP.INVVPID)) return defined(fault(state, c, R.udInvvpidUnsupported, 'UD'));
  if (form === 'register') return notModelled(R.registerDescriptor);
  if (cpu.vmx === 'outside') return defined(fault(state, c, R.udOutsideVmx, 'UD'));
  if (inRealAddressMode(cpu)) return defined(fault(state, c, R.udRealMode, 'UD'));
  if (inVirtual8086Mode(cpu)) return defined(fault(state, c, R.udVirtual8086, 'UD'));
  if (inCompatibilityMode(cpu)) return defined(fault(state, c, R.udCompatibility, 'UD'));
  if (cpu.vmx === 'non-root') return defined(vmxInstructionExit(state, c, R.vmExit, op, EXIT_REASON.INVVPID, { format: 'invalidation' }));
  if (cpu.cpl > 0) return defined(fault(state, c, R.gpCpl, 'GP'));

  const type = toOperandSize(cpu, register);
  const supported = type <= 3n && bitOf(cap, EPT_VPID_CAP.INVVPID_INDIVIDUAL_ADDRESS + Number(type));
  if (!supported) return defined(vmFail(state, c, R.typeUnsupported, ERROR));
  if (low >> 16n !== 0n) return defined(vmFail(state, c, R.descriptorReserved, ERROR));
  const vpid = low & 0xffffn;

  if (type === 0n) {
    if (vpid === 0n) return defined(vmFail(state, c, R.individualVpidZero, ERROR));
    if (!canonical(linearAddress, 57)) return defined(vmFail(state, c, R.individualNonCanonical, ERROR));
    if (!canonical(linearAddress, 48)) {
      return defined(vmFail(state, c, R.individualWidthUnknown, ERROR), vmSucceed(state, c, R.individualWidthUnknown));
    }
    return defined(vmSucceed(state, c, R.individualAddress));
  }
  if (type === 1n) {
    if (vpid === 0n) return defined(vmFail(state, c, R.singleContextVpidZero, ERROR));
    return defined(vmSucceed(state, c, R.singleContext));
  }
  if (type === 2n) return defined(vmSucceed(state, c, R.allContext));
  if (vpid === 0n) return defined(vmFail(state, c, R.retainingGlobalsVpidZero, ERROR));
  return defined(vmSucceed(state, c, R.retainingGlobals));
}
