/**
 * INVPCID, in and out of VMX non-root operation (Vol. 2B, December 2023, "INVPCID—Invalidate
 * Process-Context Identifier"; Vol. 3C §26.3 "Changes to Instruction Behavior in VMX Non-Root
 * Operation" and §26.1.3 "Instructions That Cause VM Exits Conditionally"). In the SDM's order:
 *
 * 1. #UD where the processor does not support INVPCID (the profile's `cpuid.invpcid`); in VMX
 *    non-root operation #UD when "enable INVPCID" = 0 (§26.3). Each #UD comes before a VM exit
 *    (§26.1.1 "Relative Priority of Faults and VM Exits").
 * 2. #GP(0) when CPL > 0 (a privilege fault, also before the exit; real-address mode is CPL 0) and
 *    in virtual-8086 mode (CPL 3; the page lists #GP(0) for virtual-8086 mode, worded "not
 *    recognized in virtual-8086 mode").
 * 3. In VMX non-root operation with "enable INVPCID" = 1 and "INVLPG exiting" = 1: VM exit (reason
 *    58), exit qualification the displacement (0), instruction information as for INVEPT and
 *    INVVPID (§28.2.5: the descriptor `[RBX]`, Reg2 the type register).
 * 4. The instruction's own #GP(0) checks, which a fault-like VM exit precedes (§26.1.1): the type
 *    (32 bits outside 64-bit mode, 64 in it) greater than 3; descriptor bits 63:12 not 0; type 0
 *    with a non-canonical linear address (the full 64 bits, in every mode); type 0 or 1 with
 *    CR4.PCIDE = 0 and a PCID other than 000H.
 * 5. Otherwise the mappings are invalidated: `ok`.
 */
import { sdm } from '../../spec/citation.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { CR4_BIT } from '../../spec/control-registers.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { INVALIDATION_TYPE_REGISTER } from '../../spec/instruction-encodings.ts';
import { invalidationInformation } from '../../spec/instruction-information.ts';
import type { InvpcidOp } from '../../spec/system-instruction-operations.ts';
import { operand } from '../input.ts';
import { in64BitMode } from '../modes.ts';
import { rule } from '../rule.ts';
import type { CpuState, ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { atCplZero, checkGpr, completed, controlBit, controlsUnknown, gp, primaryControls, reportedGpr, secondaryControls, ud } from './guest.ts';
import { contractMemoryOperand, exitWithInformation } from './operand-exits.ts';

const PAGE = sdm('3.3', 'INVPCID—Invalidate Process-Context Identifier', '2A');
const CHANGES = sdm('26.3', 'Changes to Instruction Behavior in VMX Non-Root Operation');
const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const I = 'INVPCID';

/** The decision points of INVPCID. */
export const INVPCID_RULES = {
  unsupported: rule('invpcid.ud-unsupported', I, PAGE, '#UD when CPUID.(EAX=07H,ECX=0H):EBX.INVPCID[bit 10] = 0 (the profile)'),
  notEnabled: rule('invpcid.ud-not-enabled', I, CHANGES, 'in VMX non-root operation with "enable INVPCID" = 0: #UD'),
  cpl: rule('invpcid.gp-cpl', I, PAGE, '#GP(0) when CPL > 0 or in virtual-8086 mode (before any VM exit)'),
  exit: rule('invpcid.vm-exit', I, CONDITIONAL, 'in VMX non-root operation with "enable INVPCID" = 1 and "INVLPG exiting" = 1: VM exit (reason 58)'),
  type: rule('invpcid.gp-type', I, PAGE, '#GP(0) when the type is greater than 3'),
  reserved: rule('invpcid.gp-descriptor-reserved', I, PAGE, '#GP(0) when bits 63:12 of the descriptor are not all 0'),
  canonical: rule('invpcid.gp-non-canonical', I, PAGE, '#GP(0) for type 0 with a non-canonical linear address'),
  pcid: rule('invpcid.gp-pcid-without-pcide', I, PAGE, '#GP(0) for type 0 or 1 with CR4.PCIDE = 0 and a PCID other than 000H'),
  ok: rule('invpcid.ok', I, PAGE, 'the mappings of the type are invalidated'),
} as const;

const R = INVPCID_RULES;

/** True when `address` is canonical for the processor's linear-address width (57 bits with CR4.LA57 = 1, else 48). */
export function isCanonical(cpu: CpuState, address: bigint): boolean {
  const width = ((cpu.cr4 >> BigInt(CR4_BIT.LA57)) & 1n) === 1n ? 57n : 48n;
  const upper = address >> (width - 1n);
  return upper === 0n || upper === (1n << (65n - width)) - 1n;
}

/** INVPCID r, m128. */
export function invpcid(state: ModelState, op: InvpcidOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const typeGpr = checkGpr(op.typeGpr ?? INVALIDATION_TYPE_REGISTER, 'invpcid');
  const typeRegister = operand(op.type, 'type', 'invpcid');
  const low = operand(op.descriptor[0], 'descriptor[0]', 'invpcid');
  const address = operand(op.descriptor[1], 'descriptor[1]', 'invpcid');
  if (!state.profile.cpuid.invpcid) return ud(state, c, R.unsupported);
  let exits = false;
  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControls(state, c);
    if (secondary === undefined) return controlsUnknown();
    if (!controlBit(secondary, SECONDARY_CONTROL.ENABLE_INVPCID)) return ud(state, c, R.notEnabled);
    const primary = primaryControls(state, c);
    if (primary === undefined) return controlsUnknown();
    exits = controlBit(primary, PRIMARY_CONTROL.INVLPG_EXITING);
  }
  if (!atCplZero(cpu)) return gp(state, c, R.cpl);
  if (exits) {
    const information = invalidationInformation({ memory: contractMemoryOperand(cpu), reg2: reportedGpr(cpu, typeGpr) });
    return exitWithInformation(state, c, op, R.exit, EXIT_REASON.INVPCID, information, true);
  }
  const type = in64BitMode(cpu) ? typeRegister : typeRegister & 0xffff_ffffn;
  const pcid = low & 0xfffn;
  if (type > 3n) return gp(state, c, R.type);
  if (low >> 12n !== 0n) return gp(state, c, R.reserved);
  if (type === 0n && !isCanonical(cpu, address)) return gp(state, c, R.canonical);
  if (type <= 1n && ((cpu.cr4 >> BigInt(CR4_BIT.PCIDE)) & 1n) === 0n && pcid !== 0n) return gp(state, c, R.pcid);
  return completed(state, c, op, R.ok);
}
