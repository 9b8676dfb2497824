/**
 * Every VMX control this project knows, per control set: the bit, its SDM name, and the set's
 * default1 class (reserved bits the first VMX processors fixed to 1, which the non-TRUE
 * capability MSRs always report as must-be-1).
 *
 * A bit not listed here, and not in the set's default1 class, is unknown to this project. Real
 * processors allow some such bits (later SDM editions define them), so a profile that allows one
 * is accepted with a warning (`checkProfile`); a case whose VMCS sets one is beyond the model.
 *
 * Sources (SDM, December 2023): Vol. 3C §25.6.1 "Pin-Based VM-Execution Controls", §25.6.2
 * "Processor-Based VM-Execution Controls", §25.6.14 "VM-Function Controls", §25.7.1 "VM-Exit
 * Controls", §25.8.1 "VM-Entry Controls"; default1 classes also in Vol. 3D Appendix A.2
 * "Reserved Controls and Default Settings".
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';
import { FIELD } from './field-names.ts';
import type { ControlSet } from './profile.ts';

export {
  ENTRY_CONTROL,
  EXIT_CONTROL,
  PIN_CONTROL,
  PRIMARY_CONTROL,
  SECONDARY_CONTROL,
  SECONDARY_EXIT_CONTROL,
  TERTIARY_CONTROL,
  VMFUNC_CONTROL,
} from './control-bits.ts';

/** One control bit. */
export interface ControlBit {
  bit: number;
  /** Name as the SDM's table of the control set gives it. */
  name: string;
}

/** What the SDM says about one control set. */
export interface ControlSetInfo {
  set: ControlSet;
  /** Name of the VMCS field holding the controls. */
  title: string;
  /** Encoding of that VMCS field. */
  field: number;
  /** Width of the control vector. */
  width: 32 | 64;
  /** Bits the first VMX processors fixed to 1; 0 for sets without a default1 class. */
  default1: bigint;
  /** Every defined control bit, in bit order. */
  bits: readonly ControlBit[];
  citation: Citation;
}

/** The set of bits `positions` as a mask. */
function mask(...positions: number[]): bigint {
  return positions.reduce((acc, bit) => acc | (1n << BigInt(bit)), 0n);
}

const PROCESSOR_BASED = sdm('25.6.2', 'Processor-Based VM-Execution Controls');
const EXIT = sdm('25.7.1', 'VM-Exit Controls');

/** Every control set, with its bits. */
export const CONTROL_SETS: Readonly<Record<ControlSet, ControlSetInfo>> = {
  pin: {
    set: 'pin',
    title: 'Pin-based VM-execution controls',
    field: FIELD.PIN_BASED_CONTROLS,
    width: 32,
    default1: mask(1, 2, 4),
    bits: [
      { bit: 0, name: 'External-interrupt exiting' },
      { bit: 3, name: 'NMI exiting' },
      { bit: 5, name: 'Virtual NMIs' },
      { bit: 6, name: 'Activate VMX-preemption timer' },
      { bit: 7, name: 'Process posted interrupts' },
    ],
    citation: sdm('25.6.1', 'Pin-Based VM-Execution Controls'),
  },
  primary: {
    set: 'primary',
    title: 'Primary processor-based VM-execution controls',
    field: FIELD.PRIMARY_PROCESSOR_BASED_CONTROLS,
    width: 32,
    default1: mask(1, 4, 5, 6, 8, 13, 14, 15, 16, 26),
    bits: [
      { bit: 2, name: 'Interrupt-window exiting' },
      { bit: 3, name: 'Use TSC offsetting' },
      { bit: 7, name: 'HLT exiting' },
      { bit: 9, name: 'INVLPG exiting' },
      { bit: 10, name: 'MWAIT exiting' },
      { bit: 11, name: 'RDPMC exiting' },
      { bit: 12, name: 'RDTSC exiting' },
      { bit: 15, name: 'CR3-load exiting' },
      { bit: 16, name: 'CR3-store exiting' },
      { bit: 17, name: 'Activate tertiary controls' },
      { bit: 19, name: 'CR8-load exiting' },
      { bit: 20, name: 'CR8-store exiting' },
      { bit: 21, name: 'Use TPR shadow' },
      { bit: 22, name: 'NMI-window exiting' },
      { bit: 23, name: 'MOV-DR exiting' },
      { bit: 24, name: 'Unconditional I/O exiting' },
      { bit: 25, name: 'Use I/O bitmaps' },
      { bit: 27, name: 'Monitor trap flag' },
      { bit: 28, name: 'Use MSR bitmaps' },
      { bit: 29, name: 'MONITOR exiting' },
      { bit: 30, name: 'PAUSE exiting' },
      { bit: 31, name: 'Activate secondary controls' },
    ],
    citation: PROCESSOR_BASED,
  },
  secondary: {
    set: 'secondary',
    title: 'Secondary processor-based VM-execution controls',
    field: FIELD.SECONDARY_PROCESSOR_BASED_CONTROLS,
    width: 32,
    default1: 0n,
    bits: [
      { bit: 0, name: 'Virtualize APIC accesses' },
      { bit: 1, name: 'Enable EPT' },
      { bit: 2, name: 'Descriptor-table exiting' },
      { bit: 3, name: 'Enable RDTSCP' },
      { bit: 4, name: 'Virtualize x2APIC mode' },
      { bit: 5, name: 'Enable VPID' },
      { bit: 6, name: 'WBINVD exiting' },
      { bit: 7, name: 'Unrestricted guest' },
      { bit: 8, name: 'APIC-register virtualization' },
      { bit: 9, name: 'Virtual-interrupt delivery' },
      { bit: 10, name: 'PAUSE-loop exiting' },
      { bit: 11, name: 'RDRAND exiting' },
      { bit: 12, name: 'Enable INVPCID' },
      { bit: 13, name: 'Enable VM functions' },
      { bit: 14, name: 'VMCS shadowing' },
      { bit: 15, name: 'Enable ENCLS exiting' },
      { bit: 16, name: 'RDSEED exiting' },
      { bit: 17, name: 'Enable PML' },
      { bit: 18, name: 'EPT-violation #VE' },
      { bit: 19, name: 'Conceal VMX from PT' },
      { bit: 20, name: 'Enable XSAVES/XRSTORS' },
      { bit: 21, name: 'PASID translation' },
      { bit: 22, name: 'Mode-based execute control for EPT' },
      { bit: 23, name: 'Sub-page write permissions for EPT' },
      { bit: 24, name: 'Intel PT uses guest physical addresses' },
      { bit: 25, name: 'Use TSC scaling' },
      { bit: 26, name: 'Enable user wait and pause' },
      { bit: 27, name: 'Enable PCONFIG' },
      { bit: 28, name: 'Enable ENCLV exiting' },
      { bit: 30, name: 'VMM bus-lock detection' },
      { bit: 31, name: 'Instruction timeout' },
    ],
    citation: PROCESSOR_BASED,
  },
  tertiary: {
    set: 'tertiary',
    title: 'Tertiary processor-based VM-execution controls',
    field: FIELD.TERTIARY_PROCESSOR_BASED_CONTROLS,
    width: 64,
    default1: 0n,
    bits: [
      { bit: 0, name: 'LOADIWKEY exiting' },
      { bit: 1, name: 'Enable HLAT' },
      { bit: 2, name: 'EPT paging-write control' },
      { bit: 3, name: 'Guest-paging verification' },
      { bit: 4, name: 'IPI virtualization' },
      { bit: 7, name: 'Virtualize IA32_SPEC_CTRL' },
    ],
    citation: PROCESSOR_BASED,
  },
  exit: {
    set: 'exit',
    title: 'Primary VM-exit controls',
    field: FIELD.PRIMARY_VM_EXIT_CONTROLS,
    width: 32,
    default1: mask(0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 16, 17),
    bits: [
      { bit: 2, name: 'Save debug controls' },
      { bit: 9, name: 'Host address-space size' },
      { bit: 12, name: 'Load IA32_PERF_GLOBAL_CTRL' },
      { bit: 15, name: 'Acknowledge interrupt on exit' },
      { bit: 18, name: 'Save IA32_PAT' },
      { bit: 19, name: 'Load IA32_PAT' },
      { bit: 20, name: 'Save IA32_EFER' },
      { bit: 21, name: 'Load IA32_EFER' },
      { bit: 22, name: 'Save VMX-preemption timer value' },
      { bit: 23, name: 'Clear IA32_BNDCFGS' },
      { bit: 24, name: 'Conceal VMX from PT' },
      { bit: 25, name: 'Clear IA32_RTIT_CTL' },
      { bit: 26, name: 'Clear IA32_LBR_CTL' },
      { bit: 27, name: 'Clear UINV' },
      { bit: 28, name: 'Load CET state' },
      { bit: 29, name: 'Load PKRS' },
      { bit: 30, name: 'Save IA32_PERF_GLOBAL_CTRL' },
      { bit: 31, name: 'Activate secondary controls' },
    ],
    citation: EXIT,
  },
  'secondary-exit': {
    set: 'secondary-exit',
    title: 'Secondary VM-exit controls',
    field: FIELD.SECONDARY_VM_EXIT_CONTROLS,
    width: 64,
    default1: 0n,
    // The bits later documents define here (save/load FRED state) belong to FRED, which no
    // profile here models; see SECONDARY_EXIT_CONTROL.
    bits: [],
    citation: EXIT,
  },
  entry: {
    set: 'entry',
    title: 'VM-entry controls',
    field: FIELD.VM_ENTRY_CONTROLS,
    width: 32,
    default1: mask(0, 1, 2, 3, 4, 5, 6, 7, 8, 12),
    bits: [
      { bit: 2, name: 'Load debug controls' },
      { bit: 9, name: 'IA-32e mode guest' },
      { bit: 10, name: 'Entry to SMM' },
      { bit: 11, name: 'Deactivate dual-monitor treatment' },
      { bit: 13, name: 'Load IA32_PERF_GLOBAL_CTRL' },
      { bit: 14, name: 'Load IA32_PAT' },
      { bit: 15, name: 'Load IA32_EFER' },
      { bit: 16, name: 'Load IA32_BNDCFGS' },
      { bit: 17, name: 'Conceal VMX from PT' },
      { bit: 18, name: 'Load IA32_RTIT_CTL' },
      { bit: 19, name: 'Load UINV' },
      { bit: 20, name: 'Load CET state' },
      { bit: 21, name: 'Load guest IA32_LBR_CTL' },
      { bit: 22, name: 'Load PKRS' },
    ],
    citation: sdm('25.8.1', 'VM-Entry Controls'),
  },
  vmfunc: {
    set: 'vmfunc',
    title: 'VM-function controls',
    field: FIELD.VM_FUNCTION_CONTROLS,
    width: 64,
    default1: 0n,
    bits: [{ bit: 0, name: 'EPTP switching' }],
    citation: sdm('25.6.14', 'VM-Function Controls'),
  },
};

/** Every control set, in the order the SDM presents them. */
export const CONTROL_SET_NAMES: readonly ControlSet[] = [
  'pin',
  'primary',
  'secondary',
  'tertiary',
  'exit',
  'secondary-exit',
  'entry',
  'vmfunc',
];

/** The default1 class of a control set (0 for sets without one). */
export function default1Mask(set: ControlSet): bigint {
  return CONTROL_SETS[set].default1;
}

/** Mask of every bit this project knows in `set`: its named controls plus its default1 class. */
export function knownControlMask(set: ControlSet): bigint {
  const named = CONTROL_SETS[set].bits.reduce((acc, { bit }) => acc | (1n << BigInt(bit)), 0n);
  return named | CONTROL_SETS[set].default1;
}

/** SDM name of control `bit` of `set`, or `undefined` when the bit is not a named control. */
export function controlName(set: ControlSet, bit: number): string | undefined {
  return CONTROL_SETS[set].bits.find((control) => control.bit === bit)?.name;
}
