/**
 * GETSEC, XSAVES and XRSTORS, in and out of VMX non-root operation.
 *
 * GETSEC (Vol. 2D, December 2023, §7.3 "GETSEC[CAPABILITIES]—Report the SMX Capabilities" and the
 * other leaves of chapter 7 "Safer Mode Extensions Reference"): #UD when CR4.SMXE = 0; otherwise in
 * VMX non-root operation a VM exit (reason 11), unconditionally (Vol. 3C §26.1.2 "Instructions That
 * Cause VM Exits Unconditionally"), exit qualification cleared. The leaves themselves (SMX
 * operation) are not modelled.
 *
 * XSAVES and XRSTORS (Vol. 2D "XSAVES—Save Processor Extended States Supervisor", "XRSTORS—Restore
 * Processor Extended States Supervisor"; Vol. 1 §13.11 "Operation of XSAVES", §13.12 "Operation of
 * XRSTORS"), in the SDM's order:
 *
 * 1. #UD where the processor does not support them (the profile's `cpuid.xsaves`) or
 *    CR4.OSXSAVE = 0; in VMX non-root operation #UD when "enable XSAVES/XRSTORS" = 0 (§26.3
 *    "Changes to Instruction Behavior in VMX Non-Root Operation"). #UD comes before a VM exit.
 * 2. #GP(0) when CPL > 0 (a privilege fault, before the exit; §26.1.1 "Relative Priority of Faults
 *    and VM Exits").
 * 3. In VMX non-root operation: a VM exit (XSAVES 63, XRSTORS 64) when the logical-AND of EDX:EAX,
 *    IA32_XSS and the XSS-exiting bitmap is not 0 (§26.3), with the exit qualification the
 *    displacement (0) and the instruction information of VMCLEAR's format (§28.2.5 "Information
 *    for VM Exits Due to Instruction Execution"). IA32_XSS is what the model knows of it (a WRMSR
 *    that completed, or an MSR-load area); when the mask and the bitmap overlap and IA32_XSS is
 *    unknown, the exit is not decidable: not modelled.
 * 4. Execution (#NM with CR0.TS = 1, alignment, the XSAVE area in memory): not modelled.
 */
import { sdm } from '../../spec/citation.ts';
import { SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { CR4_BIT } from '../../spec/control-registers.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import { vmxMemoryInformation } from '../../spec/instruction-information.ts';
import type { GetsecOp, XrstorsOp, XsavesOp } from '../../spec/system-instruction-operations.ts';
import { operand } from '../input.ts';
import { controlField } from '../non-root.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import type { Verdict } from '../verdict.ts';
import { notModelled } from '../verdict.ts';
import { MSR } from '../vm-exit/msr-indices.ts';
import { atCplZero, controlBit, controlsUnknown, gp, instructionExit, secondaryControls, ud } from './guest.ts';
import { contractMemoryOperand, exitWithInformation } from './operand-exits.ts';

const UNCONDITIONAL = sdm('26.1.2', 'Instructions That Cause VM Exits Unconditionally');
const CHANGES = sdm('26.3', 'Changes to Instruction Behavior in VMX Non-Root Operation');
const GETSEC_PAGE = sdm('7.3', 'GETSEC[CAPABILITIES]—Report the SMX Capabilities', '2D');
const XSAVES_PAGE = sdm('6.1', 'XSAVES—Save Processor Extended States Supervisor', '2D');
const XRSTORS_PAGE = sdm('6.1', 'XRSTORS—Restore Processor Extended States Supervisor', '2D');

/** The decision points of GETSEC, XSAVES and XRSTORS. */
export const GETSEC_XSAVES_RULES = {
  getsecUd: rule('getsec.ud-smxe', 'GETSEC', GETSEC_PAGE, '#UD when CR4.SMXE = 0 (before the VM exit)'),
  getsecExit: rule('getsec.vm-exit', 'GETSEC', UNCONDITIONAL, 'in VMX non-root operation GETSEC causes a VM exit (reason 11)'),
  getsecLeaf: rule('getsec.leaf-not-modelled', 'GETSEC', GETSEC_PAGE, 'the GETSEC leaves (SMX operation) are not modelled'),
  xsavesUnsupported: rule('xsaves.ud-unsupported', 'XSAVES/XRSTORS', XSAVES_PAGE, '#UD when CPUID.(EAX=0DH,ECX=1):EAX.XSS[bit 3] = 0 (the profile)'),
  xsavesOsxsave: rule('xsaves.ud-osxsave', 'XSAVES/XRSTORS', XSAVES_PAGE, '#UD when CR4.OSXSAVE = 0'),
  xsavesNotEnabled: rule('xsaves.ud-not-enabled', 'XSAVES/XRSTORS', CHANGES, 'in VMX non-root operation with "enable XSAVES/XRSTORS" = 0: #UD'),
  xsavesCpl: rule('xsaves.gp-cpl', 'XSAVES/XRSTORS', XSAVES_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  xsavesExit: rule('xsaves.vm-exit', 'XSAVES', CHANGES, 'in VMX non-root operation: VM exit (reason 63) when EDX:EAX & IA32_XSS & XSS-exiting bitmap is not 0'),
  xrstorsExit: rule('xrstors.vm-exit', 'XRSTORS', CHANGES, 'in VMX non-root operation: VM exit (reason 64) when EDX:EAX & IA32_XSS & XSS-exiting bitmap is not 0'),
  xssUnknown: rule('xsaves.ia32-xss-unknown', 'XSAVES/XRSTORS', CHANGES, 'the instruction mask meets the XSS-exiting bitmap and IA32_XSS is unknown to the model: the exit is not decidable; not modelled'),
  xsavesExecute: rule('xsaves.execution-not-modelled', 'XSAVES', XSAVES_PAGE, 'saving state to the XSAVE area (#NM, alignment, the area) is not modelled'),
  xrstorsExecute: rule('xrstors.execution-not-modelled', 'XRSTORS', XRSTORS_PAGE, 'restoring state from the XSAVE area (#NM, alignment, the header) is not modelled'),
} as const;

const R = GETSEC_XSAVES_RULES;

function cr4Bit(cr4: bigint, position: number): boolean {
  return ((cr4 >> BigInt(position)) & 1n) === 1n;
}

/** GETSEC. */
export function getsec(state: ModelState, op: GetsecOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  if (op.eax !== undefined) operand(op.eax, 'eax', 'getsec');
  if (!cr4Bit(cpu.cr4, CR4_BIT.SMXE)) return ud(state, c, R.getsecUd);
  if (cpu.vmx === 'non-root') return instructionExit(state, c, op, R.getsecExit, EXIT_REASON.GETSEC, 0n);
  return notModelled(R.getsecLeaf);
}

/** XSAVES or XRSTORS. */
export function xsavesXrstors(state: ModelState, op: XsavesOp | XrstorsOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const mask = operand(op.mask, 'mask', op.kind);
  const saves = op.kind === 'xsaves';
  if (!state.profile.cpuid.xsaves) return ud(state, c, R.xsavesUnsupported);
  if (!cr4Bit(cpu.cr4, CR4_BIT.OSXSAVE)) return ud(state, c, R.xsavesOsxsave);
  let bitmap = 0n;
  if (cpu.vmx === 'non-root') {
    const secondary = secondaryControls(state, c);
    if (secondary === undefined) return controlsUnknown();
    if (!controlBit(secondary, SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS)) return ud(state, c, R.xsavesNotEnabled);
    const known = controlField(state, c, FIELD.XSS_EXITING_BITMAP);
    if (known === undefined) return controlsUnknown();
    bitmap = known;
  }
  if (!atCplZero(cpu)) return gp(state, c, R.xsavesCpl);
  if ((mask & bitmap) !== 0n) {
    const xss = cpu.msrs.get(MSR.XSS);
    if (xss === undefined) return notModelled(R.xssUnknown);
    if ((mask & bitmap & xss) !== 0n) {
      const information = vmxMemoryInformation({ memory: contractMemoryOperand(cpu) });
      return exitWithInformation(state, c, op, saves ? R.xsavesExit : R.xrstorsExit, saves ? EXIT_REASON.XSAVES : EXIT_REASON.XRSTORS, information, true);
    }
  }
  return notModelled(saves ? R.xsavesExecute : R.xrstorsExecute);
}
