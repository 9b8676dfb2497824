/**
 * The VMX capability MSRs and IA32_FEATURE_CONTROL: addresses, names, bit layouts, and when each
 * exists. Profiles (spec/profile-data.ts) hold their values; this file says what the bits mean.
 *
 * Sources (SDM, December 2023): Vol. 3D Appendix A "VMX Capability Reporting Facility" (A.1
 * "Basic VMX Information" to A.11 "VM Functions"); IA32_FEATURE_CONTROL in Vol. 3C §24.7
 * "Enabling and Entering VMX Operation".
 */
import { sdm } from './citation.ts';
import type { Citation } from './citation.ts';
import type { VmxCapabilityMsrs } from './profile-data.ts';

/** MSR addresses. */
export const MSR = {
  IA32_FEATURE_CONTROL: 0x3a,
  IA32_VMX_BASIC: 0x480,
  IA32_VMX_PINBASED_CTLS: 0x481,
  IA32_VMX_PROCBASED_CTLS: 0x482,
  IA32_VMX_EXIT_CTLS: 0x483,
  IA32_VMX_ENTRY_CTLS: 0x484,
  IA32_VMX_MISC: 0x485,
  IA32_VMX_CR0_FIXED0: 0x486,
  IA32_VMX_CR0_FIXED1: 0x487,
  IA32_VMX_CR4_FIXED0: 0x488,
  IA32_VMX_CR4_FIXED1: 0x489,
  IA32_VMX_VMCS_ENUM: 0x48a,
  IA32_VMX_PROCBASED_CTLS2: 0x48b,
  IA32_VMX_EPT_VPID_CAP: 0x48c,
  IA32_VMX_TRUE_PINBASED_CTLS: 0x48d,
  IA32_VMX_TRUE_PROCBASED_CTLS: 0x48e,
  IA32_VMX_TRUE_EXIT_CTLS: 0x48f,
  IA32_VMX_TRUE_ENTRY_CTLS: 0x490,
  IA32_VMX_VMFUNC: 0x491,
  IA32_VMX_PROCBASED_CTLS3: 0x492,
  IA32_VMX_EXIT_CTLS2: 0x493,
} as const;

/** Name of one VMX capability MSR (a key of {@link VmxCapabilityMsrs}). */
export type CapabilityMsrName = keyof VmxCapabilityMsrs;

/** Bit positions of IA32_VMX_BASIC (A.1). Multi-bit fields give their lowest bit. */
export const VMX_BASIC = {
  /** Bits 30:0: VMCS revision identifier; bit 31 is always 0. */
  REVISION_ID: 0,
  /** Bits 44:32: bytes of the VMXON region and of any VMCS region (1..4096). */
  REGION_SIZE: 32,
  /** 1: VMXON, VMCS and referenced-structure addresses limited to 32 bits (0 on Intel 64). */
  ADDRESSES_32_BIT: 48,
  /** 1: dual-monitor treatment of SMIs and SMM supported. */
  DUAL_MONITOR: 49,
  /** Bits 53:50: memory type for the VMCS and referenced structures (0 UC, 6 WB). */
  MEMORY_TYPE: 50,
  /** 1: VM exits due to INS/OUTS report instruction information. */
  INS_OUTS_INFORMATION: 54,
  /** 1: default1 controls may be 0, and the TRUE control MSRs exist. */
  TRUE_CONTROLS: 55,
  /** 1: VM entry may deliver a hardware exception with or without an error code, any vector. */
  ERROR_CODE_CHECK_RELAXED: 56,
} as const;

/** Bits of IA32_VMX_BASIC that are reserved to 0: 47:45 and 63:57. */
export const VMX_BASIC_RESERVED_MASK = (0x7n << 45n) | (0x7fn << 57n);

/** Bit positions of IA32_VMX_MISC (A.6). Multi-bit fields give their lowest bit. */
export const VMX_MISC = {
  /** Bits 4:0: the preemption timer counts down when this TSC bit changes. */
  PREEMPTION_TIMER_RATE: 0,
  /** 1: VM exits store IA32_EFER.LMA into the "IA-32e mode guest" entry control. */
  STORE_LMA: 5,
  /** 1: activity state HLT supported. */
  ACTIVITY_HLT: 6,
  /** 1: activity state shutdown supported. */
  ACTIVITY_SHUTDOWN: 7,
  /** 1: activity state wait-for-SIPI supported. */
  ACTIVITY_WAIT_FOR_SIPI: 8,
  /** 1: Intel PT may be used in VMX operation. */
  PT_IN_VMX: 14,
  /** 1: RDMSR may read IA32_SMBASE in SMM. */
  RDMSR_SMBASE: 15,
  /** Bits 24:16: number of CR3-target values (0..256). */
  CR3_TARGET_COUNT: 16,
  /** Bits 27:25: N, recommended maximum of 512 * (N + 1) MSRs per MSR list. */
  MSR_LIST_LIMIT: 25,
  /** 1: bit 2 of IA32_SMM_MONITOR_CTL may be set. */
  SMM_MONITOR_CTL_BIT_2: 28,
  /** 1: VMWRITE may write any supported field, including VM-exit information fields. */
  VMWRITE_ANY_FIELD: 29,
  /** 1: VM entry may inject software interrupts and exceptions with instruction length 0. */
  ZERO_LENGTH_INJECTION: 30,
  /** Bits 63:32: MSEG revision identifier. */
  MSEG_REVISION_ID: 32,
} as const;

/** Bits of IA32_VMX_MISC that are reserved to 0: 13:9 and 31. */
export const VMX_MISC_RESERVED_MASK = (0x1fn << 9n) | (1n << 31n);

/** Bit positions of IA32_VMX_EPT_VPID_CAP (A.10). */
export const EPT_VPID_CAP = {
  EXECUTE_ONLY: 0,
  PAGE_WALK_LENGTH_4: 6,
  PAGE_WALK_LENGTH_5: 7,
  MEMORY_TYPE_UC: 8,
  MEMORY_TYPE_WB: 14,
  PAGES_2MB: 16,
  PAGES_1GB: 17,
  INVEPT: 20,
  ACCESSED_DIRTY_FLAGS: 21,
  ADVANCED_EPT_VIOLATION_INFORMATION: 22,
  SUPERVISOR_SHADOW_STACK: 23,
  INVEPT_SINGLE_CONTEXT: 25,
  INVEPT_ALL_CONTEXT: 26,
  INVVPID: 32,
  INVVPID_INDIVIDUAL_ADDRESS: 40,
  INVVPID_SINGLE_CONTEXT: 41,
  INVVPID_ALL_CONTEXT: 42,
  INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS: 43,
} as const;

/** Bit positions of IA32_FEATURE_CONTROL that VMX depends on (§24.7). */
export const FEATURE_CONTROL = {
  /** 1: the MSR is locked; WRMSR to it causes #GP until reset. */
  LOCK: 0,
  /** 1: VMXON allowed inside SMX operation. */
  VMX_INSIDE_SMX: 1,
  /** 1: VMXON allowed outside SMX operation. */
  VMX_OUTSIDE_SMX: 2,
} as const;

/** CR4.VMXE, the bit software sets before VMXON (CR4 bit 13). */
export const CR4_VMXE = 1n << 13n;

/** One bit or bit range of an MSR. */
export interface MsrBits {
  /** `"55"` or `"44:32"`. */
  bits: string;
  meaning: string;
}

/** What the SDM says about one MSR. */
export interface MsrInfo {
  name: CapabilityMsrName | 'IA32_FEATURE_CONTROL';
  address: number;
  /** When the MSR exists (RDMSR of a missing one causes #GP). */
  exists: string;
  layout: readonly MsrBits[];
  citation: Citation;
}

const CONTROLS_LAYOUT: readonly MsrBits[] = [
  { bits: '31:0', meaning: 'allowed 0-settings: if bit X is 1, control X must be 1' },
  { bits: '63:32', meaning: 'allowed 1-settings: if bit 32+X is 0, control X must be 0' },
];
const ALLOWED_1_LAYOUT: readonly MsrBits[] = [
  { bits: '63:0', meaning: 'allowed 1-settings: if bit X is 0, control X must be 0' },
];
const ALWAYS = 'on every processor that supports VMX';
const IF_TRUE = 'iff IA32_VMX_BASIC[55] = 1';

/** Every VMX capability MSR and IA32_FEATURE_CONTROL, by address. */
export const MSR_INFO: readonly MsrInfo[] = [
  {
    name: 'IA32_FEATURE_CONTROL',
    address: MSR.IA32_FEATURE_CONTROL,
    exists: 'on every processor that supports VMX or SMX',
    layout: [
      { bits: '0', meaning: 'lock: WRMSR to this MSR causes #GP until reset; VMXON needs it set' },
      { bits: '1', meaning: 'enable VMXON inside SMX operation' },
      { bits: '2', meaning: 'enable VMXON outside SMX operation' },
    ],
    citation: sdm('24.7', 'Enabling and Entering VMX Operation'),
  },
  {
    name: 'IA32_VMX_BASIC',
    address: MSR.IA32_VMX_BASIC,
    exists: ALWAYS,
    layout: [
      { bits: '30:0', meaning: 'VMCS revision identifier' },
      { bits: '31', meaning: 'always 0' },
      { bits: '44:32', meaning: 'bytes of the VMXON region and any VMCS region, 1..4096' },
      { bits: '47:45', meaning: 'reserved, 0' },
      { bits: '48', meaning: '1: VMX-related physical addresses limited to 32 bits (always 0 on Intel 64)' },
      { bits: '49', meaning: '1: dual-monitor treatment of SMIs and SMM supported' },
      { bits: '53:50', meaning: 'memory type of VMX structures: 0 UC, 6 WB, others not used' },
      { bits: '54', meaning: '1: instruction information reported for INS/OUTS VM exits' },
      { bits: '55', meaning: '1: default1 controls may be 0; the TRUE control MSRs exist' },
      { bits: '56', meaning: '1: VM entry may deliver hardware exceptions with or without error code' },
      {
        bits: '63:57',
        meaning:
          'reserved in the December 2023 edition; later parts set 57 (12th generation on) and 58 (FRED nested-exception support), accepted with a warning',
      },
    ],
    citation: sdm('A.1', 'Basic VMX Information', '3D'),
  },
  {
    name: 'IA32_VMX_PINBASED_CTLS',
    address: MSR.IA32_VMX_PINBASED_CTLS,
    exists: ALWAYS,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.3.1', 'Pin-Based VM-Execution Controls', '3D'),
  },
  {
    name: 'IA32_VMX_PROCBASED_CTLS',
    address: MSR.IA32_VMX_PROCBASED_CTLS,
    exists: ALWAYS,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.3.2', 'Primary Processor-Based VM-Execution Controls', '3D'),
  },
  {
    name: 'IA32_VMX_EXIT_CTLS',
    address: MSR.IA32_VMX_EXIT_CTLS,
    exists: ALWAYS,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.4.1', 'Primary VM-Exit Controls', '3D'),
  },
  {
    name: 'IA32_VMX_ENTRY_CTLS',
    address: MSR.IA32_VMX_ENTRY_CTLS,
    exists: ALWAYS,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.5', 'VM-Entry Controls', '3D'),
  },
  {
    name: 'IA32_VMX_MISC',
    address: MSR.IA32_VMX_MISC,
    exists: ALWAYS,
    layout: [
      { bits: '4:0', meaning: 'VMX-preemption timer rate: counts down when this TSC bit changes' },
      { bits: '5', meaning: '1: VM exits store IA32_EFER.LMA in the "IA-32e mode guest" entry control' },
      { bits: '8:6', meaning: 'activity states supported: HLT (6), shutdown (7), wait-for-SIPI (8)' },
      { bits: '13:9', meaning: 'reserved, 0' },
      { bits: '14', meaning: '1: Intel PT may be used in VMX operation' },
      { bits: '15', meaning: '1: RDMSR may read IA32_SMBASE in SMM' },
      { bits: '24:16', meaning: 'number of CR3-target values, 0..256' },
      { bits: '27:25', meaning: 'N: recommended maximum of 512 * (N + 1) MSRs per MSR list' },
      { bits: '28', meaning: '1: bit 2 of IA32_SMM_MONITOR_CTL may be set' },
      { bits: '29', meaning: '1: VMWRITE may write any supported field, VM-exit information included' },
      { bits: '30', meaning: '1: VM entry may inject software events with instruction length 0' },
      { bits: '31', meaning: 'reserved, 0' },
      { bits: '63:32', meaning: 'MSEG revision identifier' },
    ],
    citation: sdm('A.6', 'Miscellaneous Data', '3D'),
  },
  {
    name: 'IA32_VMX_CR0_FIXED0',
    address: MSR.IA32_VMX_CR0_FIXED0,
    exists: ALWAYS,
    layout: [{ bits: '63:0', meaning: 'if bit X is 1, CR0 bit X is fixed to 1 in VMX operation' }],
    citation: sdm('A.7', 'VMX-Fixed Bits in CR0', '3D'),
  },
  {
    name: 'IA32_VMX_CR0_FIXED1',
    address: MSR.IA32_VMX_CR0_FIXED1,
    exists: ALWAYS,
    layout: [{ bits: '63:0', meaning: 'if bit X is 0, CR0 bit X is fixed to 0 in VMX operation' }],
    citation: sdm('A.7', 'VMX-Fixed Bits in CR0', '3D'),
  },
  {
    name: 'IA32_VMX_CR4_FIXED0',
    address: MSR.IA32_VMX_CR4_FIXED0,
    exists: ALWAYS,
    layout: [{ bits: '63:0', meaning: 'if bit X is 1, CR4 bit X is fixed to 1 in VMX operation' }],
    citation: sdm('A.8', 'VMX-Fixed Bits in CR4', '3D'),
  },
  {
    name: 'IA32_VMX_CR4_FIXED1',
    address: MSR.IA32_VMX_CR4_FIXED1,
    exists: ALWAYS,
    layout: [{ bits: '63:0', meaning: 'if bit X is 0, CR4 bit X is fixed to 0 in VMX operation' }],
    citation: sdm('A.8', 'VMX-Fixed Bits in CR4', '3D'),
  },
  {
    name: 'IA32_VMX_VMCS_ENUM',
    address: MSR.IA32_VMX_VMCS_ENUM,
    exists: ALWAYS,
    layout: [
      { bits: '0', meaning: 'reserved, 0' },
      { bits: '9:1', meaning: 'highest index value used in any VMCS field encoding' },
      { bits: '63:10', meaning: 'reserved, 0' },
    ],
    citation: sdm('A.9', 'VMCS Enumeration', '3D'),
  },
  {
    name: 'IA32_VMX_PROCBASED_CTLS2',
    address: MSR.IA32_VMX_PROCBASED_CTLS2,
    exists: 'iff IA32_VMX_PROCBASED_CTLS[63] = 1 ("activate secondary controls" may be 1)',
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.3.3', 'Secondary Processor-Based VM-Execution Controls', '3D'),
  },
  {
    name: 'IA32_VMX_EPT_VPID_CAP',
    address: MSR.IA32_VMX_EPT_VPID_CAP,
    exists: 'iff "enable EPT" or "enable VPID" (secondary controls 1, 5) may be 1',
    layout: [
      { bits: '0', meaning: 'execute-only EPT translations' },
      { bits: '6', meaning: 'page-walk length 4' },
      { bits: '7', meaning: 'page-walk length 5' },
      { bits: '8', meaning: 'EPT paging-structure memory type UC' },
      { bits: '14', meaning: 'EPT paging-structure memory type WB' },
      { bits: '16', meaning: '2-Mbyte EPT pages' },
      { bits: '17', meaning: '1-Gbyte EPT pages' },
      { bits: '20', meaning: 'INVEPT supported' },
      { bits: '21', meaning: 'accessed and dirty flags for EPT' },
      { bits: '22', meaning: 'advanced VM-exit information for EPT violations' },
      { bits: '23', meaning: 'supervisor shadow-stack control' },
      { bits: '25', meaning: 'single-context INVEPT type' },
      { bits: '26', meaning: 'all-context INVEPT type' },
      { bits: '32', meaning: 'INVVPID supported' },
      { bits: '40', meaning: 'individual-address INVVPID type' },
      { bits: '41', meaning: 'single-context INVVPID type' },
      { bits: '42', meaning: 'all-context INVVPID type' },
      { bits: '43', meaning: 'single-context-retaining-globals INVVPID type' },
    ],
    citation: sdm('A.10', 'VPID and EPT Capabilities', '3D'),
  },
  {
    name: 'IA32_VMX_TRUE_PINBASED_CTLS',
    address: MSR.IA32_VMX_TRUE_PINBASED_CTLS,
    exists: IF_TRUE,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.3.1', 'Pin-Based VM-Execution Controls', '3D'),
  },
  {
    name: 'IA32_VMX_TRUE_PROCBASED_CTLS',
    address: MSR.IA32_VMX_TRUE_PROCBASED_CTLS,
    exists: IF_TRUE,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.3.2', 'Primary Processor-Based VM-Execution Controls', '3D'),
  },
  {
    name: 'IA32_VMX_TRUE_EXIT_CTLS',
    address: MSR.IA32_VMX_TRUE_EXIT_CTLS,
    exists: IF_TRUE,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.4.1', 'Primary VM-Exit Controls', '3D'),
  },
  {
    name: 'IA32_VMX_TRUE_ENTRY_CTLS',
    address: MSR.IA32_VMX_TRUE_ENTRY_CTLS,
    exists: IF_TRUE,
    layout: CONTROLS_LAYOUT,
    citation: sdm('A.5', 'VM-Entry Controls', '3D'),
  },
  {
    name: 'IA32_VMX_VMFUNC',
    address: MSR.IA32_VMX_VMFUNC,
    exists: 'iff "enable VM functions" (secondary control 13) may be 1',
    layout: ALLOWED_1_LAYOUT,
    citation: sdm('A.11', 'VM Functions', '3D'),
  },
  {
    name: 'IA32_VMX_PROCBASED_CTLS3',
    address: MSR.IA32_VMX_PROCBASED_CTLS3,
    exists: 'iff IA32_VMX_PROCBASED_CTLS[49] = 1 ("activate tertiary controls" may be 1)',
    layout: ALLOWED_1_LAYOUT,
    citation: sdm('A.3.4', 'Tertiary Processor-Based VM-Execution Controls', '3D'),
  },
  {
    name: 'IA32_VMX_EXIT_CTLS2',
    address: MSR.IA32_VMX_EXIT_CTLS2,
    exists: 'iff IA32_VMX_EXIT_CTLS[63] = 1 ("activate secondary controls" exit control may be 1)',
    layout: ALLOWED_1_LAYOUT,
    citation: sdm('A.4.2', 'Secondary VM-Exit Controls', '3D'),
  },
];

/** `"IA32_VMX_BASIC (480H)"`: how messages name an MSR. */
export function describeMsr(name: CapabilityMsrName | 'IA32_FEATURE_CONTROL'): string {
  return `${name} (${MSR[name].toString(16).toUpperCase()}H)`;
}
