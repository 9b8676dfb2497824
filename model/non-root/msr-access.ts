/**
 * RDMSR and WRMSR, in and out of VMX non-root operation.
 *
 * #GP(0) at CPL > 0 comes first (Vol. 2B "RDMSR—Read From Model Specific Register", "WRMSR—Write
 * to Model Specific Register"; Vol. 3C §26.1.1 "Relative Priority of Faults and VM Exits": "RDMSR
 * with CPL = 3 generates a general-protection exception and not a VM exit"). In VMX non-root
 * operation the exit comes next, before any fault about the MSR itself (§26.1.1: "RDMSR of a
 * non-existent MSR with CPL = 0 generates a VM exit"): with "use MSR bitmaps" = 0 every RDMSR and
 * WRMSR exits (reasons 31 and 32); with 1, the bit of ECX in the read or write bitmap for low MSRs
 * (00000000H-00001FFFH) or high MSRs (C0000000H-C0001FFFH) decides, and any other ECX exits
 * (§26.1.3 "Instructions That Cause VM Exits Conditionally"; the layout in §25.6.9 "MSR-Bitmap
 * Address": read-low at byte 0, read-high at 1024, write-low at 2048, write-high at 3072 of the
 * 4-KByte area, read from the model's memory). The exit qualification is cleared.
 *
 * Without an exit, what the model knows of MSRs: IA32_FEATURE_CONTROL (3AH; its writes follow
 * `write-feature-control`, always #GP(0) once locked, as it is in VMX operation), the VMX
 * capability MSRs (Vol. 3D Appendix A: readable where they exist, which the profile says;
 * read-only, so WRMSR is #GP(0)), and the values VM entries and exits loaded (`CpuState.msrs`).
 * IA32_XSS (DA0H) holds the value a WRMSR that completes wrote (XSAVES and XRSTORS consult it in
 * VMX non-root operation). IA32_EFER writes follow efer-write.ts. Not modelled: the x2APIC MSRs with "virtualize
 * x2APIC mode" = 1 (§30.5 "Virtualizing MSR-Based APIC Accesses"). Any other MSR may or may not exist and
 * may or may not accept the value: the SDM leaves that to the model (#GP(0) "if the value in ECX
 * specifies a reserved or unimplemented MSR address"), so the model allows the access and #GP(0);
 * after a write the MSR's value is unknown.
 */
import { sdm } from '../../spec/citation.ts';
import { FEATURE_CONTROL, MSR } from '../../spec/capability-msrs.ts';
import type { CapabilityMsrName } from '../../spec/capability-msrs.ts';
import { PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { EXIT_REASON } from '../../spec/exit-reasons.ts';
import { FIELD } from '../../spec/fields.ts';
import { msrBitmapPosition } from '../../spec/exit-bitmaps.ts';
import type { RdmsrOp, WrmsrOp } from '../../spec/guest-operations.ts';
import { fault } from '../conventions.ts';
import { operand } from '../input.ts';
import { readByte } from '../memory.ts';
import { controlField } from '../non-root.ts';
import { writeFeatureControl } from '../processor-state-ops.ts';
import { rule } from '../rule.ts';
import type { ModelState } from '../state.ts';
import { cpuOf } from '../state.ts';
import { MSR as LOADED_MSR } from '../vm-exit/msr-indices.ts';
import { writeEfer } from './efer-write.ts';
import type { Verdict } from '../verdict.ts';
import { defined, notModelled } from '../verdict.ts';
import { atCplZero, completed, completes, controlBit, controlsUnknown, gp, instructionExit, primaryControls, secondaryControls } from './guest.ts';

const CONDITIONAL = sdm('26.1.3', 'Instructions That Cause VM Exits Conditionally');
const RDMSR_PAGE = sdm('4.3', 'RDMSR—Read From Model Specific Register', '2B');
const WRMSR_PAGE = sdm('6.1', 'WRMSR—Write to Model Specific Register', '2D');
const CAPABILITIES = sdm('Appendix A', 'VMX Capability Reporting Facility', '3D');
const X2APIC_VIRTUALIZATION = sdm('30.5', 'Virtualizing MSR-Based APIC Accesses');
/** The x2APIC MSRs, 800H-8FFH. */
const X2APIC_MSRS = { first: 0x800n, last: 0x8ffn };

/** IA32_EFER (Vol. 4 "Model-Specific Registers"). */
const IA32_EFER = 0xc000_0080n;

/** The decision points of RDMSR and WRMSR. */
export const MSR_ACCESS_RULES = {
  rdmsrCpl: rule('rdmsr.gp-cpl', 'RDMSR', RDMSR_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  rdmsrExit: rule('rdmsr.vm-exit', 'RDMSR', CONDITIONAL, 'in VMX non-root operation: VM exit (reason 31) without MSR bitmaps, for an MSR outside their ranges, or with its read bit set'),
  rdmsrCapability: rule('rdmsr.capability-msr', 'RDMSR', CAPABILITIES, 'a VMX capability MSR reads its profile value, or #GP(0) where the processor does not have it'),
  x2apic: rule(
    'msr-access.x2apic-virtualization',
    'RDMSR/WRMSR',
    X2APIC_VIRTUALIZATION,
    'in VMX non-root operation with "virtualize x2APIC mode" = 1, an access to MSRs 800H-8FFH that does not exit is virtualized (virtual-APIC page, TPR threshold); not modelled',
  ),
  rdmsrKnown: rule('rdmsr.known', 'RDMSR', RDMSR_PAGE, 'an MSR whose value the model knows (IA32_FEATURE_CONTROL, loaded MSRs) reads it'),
  rdmsrModelSpecific: rule('rdmsr.model-specific', 'RDMSR', RDMSR_PAGE, 'an MSR the model does not know may be unimplemented: the read (no value compared) or #GP(0)'),
  wrmsrCpl: rule('wrmsr.gp-cpl', 'WRMSR', WRMSR_PAGE, '#GP(0) when CPL > 0 (before any VM exit)'),
  wrmsrExit: rule('wrmsr.vm-exit', 'WRMSR', CONDITIONAL, 'in VMX non-root operation: VM exit (reason 32) without MSR bitmaps, for an MSR outside their ranges, or with its write bit set'),
  wrmsrFeatureControl: rule('wrmsr.gp-feature-control-locked', 'WRMSR', WRMSR_PAGE, 'IA32_FEATURE_CONTROL in VMX non-root operation is locked: #GP(0)'),
  wrmsrCapability: rule('wrmsr.gp-capability-msr', 'WRMSR', CAPABILITIES, 'the VMX capability MSRs are read-only: #GP(0)'),
  wrmsrXss: rule(
    'wrmsr.ia32-xss',
    'WRMSR',
    sdm('13.3', 'Enabling the XSAVE Feature Set and XSAVE-Enabled Features', '1'),
    'IA32_XSS (DA0H): a write that completes sets the MSR to the value (bits the processor does not support are #GP(0), which the profile does not say: both allowed)',
  ),
  wrmsrModelSpecific: rule('wrmsr.model-specific', 'WRMSR', WRMSR_PAGE, 'an MSR the model does not know may be unimplemented or refuse the value: the write (value then unknown) or #GP(0)'),
} as const;

const R = MSR_ACCESS_RULES;

/** RDMSR. */
export function rdmsr(state: ModelState, op: RdmsrOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const index = operand(op.ecx, 'ecx', 'rdmsr') & 0xffff_ffffn;
  if (!atCplZero(cpu)) return gp(state, c, R.rdmsrCpl);
  if (cpu.vmx === 'non-root') {
    const exits = msrAccessExits(state, c, index, 'read');
    if (exits === undefined) return controlsUnknown();
    if (exits) return instructionExit(state, c, op, R.rdmsrExit, EXIT_REASON.RDMSR, 0n);
    const virtualized = x2apicVirtualized(state, c, index);
    if (virtualized !== false) return virtualized === undefined ? controlsUnknown() : notModelled(R.x2apic);
  }
  if (index === BigInt(MSR.IA32_FEATURE_CONTROL)) return completed(state, c, op, R.rdmsrKnown, {}, cpu.featureControl);
  const capability = capabilityName(index);
  if (capability !== undefined) {
    const text = state.profile.data.msrs[capability];
    return text === undefined ? gp(state, c, R.rdmsrCapability) : completed(state, c, op, R.rdmsrCapability, {}, BigInt(text));
  }
  const known = cpu.msrs.get(Number(index));
  if (known !== undefined) return completed(state, c, op, R.rdmsrKnown, {}, known);
  return defined(completes(state, c, op, R.rdmsrModelSpecific), fault(state, c, R.rdmsrModelSpecific, 'GP'));
}

/** WRMSR. */
export function wrmsr(state: ModelState, op: WrmsrOp): Verdict {
  const c = op.cpu;
  const cpu = cpuOf(state, c);
  const index = operand(op.ecx, 'ecx', 'wrmsr') & 0xffff_ffffn;
  operand(op.value, 'value', 'wrmsr');
  if (!atCplZero(cpu)) return gp(state, c, R.wrmsrCpl);
  if (cpu.vmx === 'non-root') {
    const exits = msrAccessExits(state, c, index, 'write');
    if (exits === undefined) return controlsUnknown();
    if (exits) return instructionExit(state, c, op, R.wrmsrExit, EXIT_REASON.WRMSR, 0n);
    const virtualized = x2apicVirtualized(state, c, index);
    if (virtualized !== false) return virtualized === undefined ? controlsUnknown() : notModelled(R.x2apic);
  }
  if (index === BigInt(MSR.IA32_FEATURE_CONTROL)) {
    if (cpu.vmx !== 'non-root') return writeFeatureControl(state, { kind: 'write-feature-control', cpu: c, value: op.value });
    if (controlBit(cpu.featureControl, FEATURE_CONTROL.LOCK)) return gp(state, c, R.wrmsrFeatureControl);
  }
  if (capabilityName(index) !== undefined) return gp(state, c, R.wrmsrCapability);
  if (index === IA32_EFER) return writeEfer(state, op);
  if (index === BigInt(LOADED_MSR.XSS)) {
    const written = new Map(cpu.msrs).set(LOADED_MSR.XSS, operand(op.value, 'value', 'wrmsr'));
    return defined(completes(state, c, op, R.wrmsrXss, { msrs: written }), fault(state, c, R.wrmsrXss, 'GP'));
  }
  const msrs = new Map(cpu.msrs);
  msrs.delete(Number(index));
  return defined(completes(state, c, op, R.wrmsrModelSpecific, { msrs }), fault(state, c, R.wrmsrModelSpecific, 'GP'));
}

/**
 * Whether an MSR access exits in VMX non-root operation; `undefined` when the controls or the
 * bitmap address are unknown.
 */
export function msrAccessExits(state: ModelState, c: number, index: bigint, access: 'read' | 'write'): boolean | undefined {
  const primary = primaryControls(state, c);
  if (primary === undefined) return undefined;
  if (!controlBit(primary, PRIMARY_CONTROL.USE_MSR_BITMAPS)) return true;
  const bitmaps = controlField(state, c, FIELD.MSR_BITMAPS_ADDRESS);
  if (bitmaps === undefined) return undefined;
  const position = msrBitmapPosition(Number(index), access);
  if (position === undefined) return true;
  return ((readByte(state, bitmaps + BigInt(position.byteOffset)) >> position.bit) & 1) === 1;
}

/** True when an x2APIC MSR access is virtualized ("virtualize x2APIC mode" = 1); `undefined` when unknown. */
function x2apicVirtualized(state: ModelState, c: number, index: bigint): boolean | undefined {
  if (index < X2APIC_MSRS.first || index > X2APIC_MSRS.last) return false;
  const secondary = secondaryControls(state, c);
  return secondary === undefined ? undefined : controlBit(secondary, SECONDARY_CONTROL.VIRTUALIZE_X2APIC_MODE);
}

/** The name of VMX capability MSR `index`, if it is one. */
function capabilityName(index: bigint): CapabilityMsrName | undefined {
  const entry = Object.entries(MSR).find(([name, address]) => BigInt(address) === index && name !== 'IA32_FEATURE_CONTROL');
  return entry === undefined ? undefined : (entry[0] as CapabilityMsrName);
}
