/**
 * The raw, JSON-serializable description of a processor's VMX implementation: the values of its
 * VMX capability MSRs and the few other facts VMX behaviour depends on. Named profiles are stored
 * as this data (spec/profiles/); {@link createProfile} derives and validates everything else.
 *
 * MSR layouts: SDM Vol. 3D, December 2023, Appendix A "VMX Capability Reporting Facility".
 */
import type { Hex } from './hex.ts';

/**
 * Values of the VMX capability MSRs (addresses 480H-493H). An absent optional MSR does not
 * exist on the processor (RDMSR of it would #GP); which ones must exist follows from other MSRs,
 * and `validateProfile` checks that.
 */
export interface VmxCapabilityMsrs {
  /** 480H: revision identifier, region size, physical-address limit, dual-monitor, TRUE MSRs. */
  IA32_VMX_BASIC: Hex;
  /** 481H: allowed settings of pin-based VM-execution controls. */
  IA32_VMX_PINBASED_CTLS: Hex;
  /** 482H: allowed settings of primary processor-based VM-execution controls. */
  IA32_VMX_PROCBASED_CTLS: Hex;
  /** 483H: allowed settings of primary VM-exit controls. */
  IA32_VMX_EXIT_CTLS: Hex;
  /** 484H: allowed settings of VM-entry controls. */
  IA32_VMX_ENTRY_CTLS: Hex;
  /** 485H: miscellaneous data (activity states, CR3-target count, VMWRITE to any field ...). */
  IA32_VMX_MISC: Hex;
  /** 486H: CR0 bits fixed to 1 in VMX operation. */
  IA32_VMX_CR0_FIXED0: Hex;
  /** 487H: CR0 bits allowed to be 1 in VMX operation. */
  IA32_VMX_CR0_FIXED1: Hex;
  /** 488H: CR4 bits fixed to 1 in VMX operation. */
  IA32_VMX_CR4_FIXED0: Hex;
  /** 489H: CR4 bits allowed to be 1 in VMX operation. */
  IA32_VMX_CR4_FIXED1: Hex;
  /** 48AH: highest index value used in any VMCS field encoding (bits 9:1). */
  IA32_VMX_VMCS_ENUM: Hex;
  /** 48BH: secondary processor-based controls; exists iff primary control bit 31 may be 1. */
  IA32_VMX_PROCBASED_CTLS2?: Hex;
  /** 48CH: EPT and VPID capabilities; exists iff secondary bit 1 or bit 5 may be 1. */
  IA32_VMX_EPT_VPID_CAP?: Hex;
  /** 48DH-490H: TRUE control MSRs; exist iff IA32_VMX_BASIC[55] = 1. */
  IA32_VMX_TRUE_PINBASED_CTLS?: Hex;
  IA32_VMX_TRUE_PROCBASED_CTLS?: Hex;
  IA32_VMX_TRUE_EXIT_CTLS?: Hex;
  IA32_VMX_TRUE_ENTRY_CTLS?: Hex;
  /** 491H: VM-function controls; exists iff secondary bit 13 may be 1. */
  IA32_VMX_VMFUNC?: Hex;
  /** 492H: tertiary processor-based controls (64 allowed-1 bits); exists iff primary bit 17 may be 1. */
  IA32_VMX_PROCBASED_CTLS3?: Hex;
  /** 493H: secondary VM-exit controls (64 allowed-1 bits); exists iff exit control bit 31 may be 1. */
  IA32_VMX_EXIT_CTLS2?: Hex;
}

/**
 * CPUID feature flags a profile may state (SDM Vol. 2A "CPUID—CPU Identification"): RDRAND
 * (CPUID.01H:ECX[30]), RDSEED (CPUID.(EAX=07H,ECX=0):EBX[18]), INVPCID (CPUID.(EAX=07H,ECX=0):EBX[10]),
 * XSAVES/XRSTORS (CPUID.(EAX=0DH,ECX=1):EAX[3]).
 */
export interface CpuidFeatureFlags {
  rdrand?: boolean;
  rdseed?: boolean;
  invpcid?: boolean;
  xsaves?: boolean;
}

/** The keys of {@link CpuidFeatureFlags}. */
export const CPUID_FEATURES = ['rdrand', 'rdseed', 'invpcid', 'xsaves'] as const satisfies readonly (keyof CpuidFeatureFlags)[];

/** A processor's VMX-relevant facts as stored in a profile file. */
export interface ProfileData {
  /** Short identifier used on the command line, for example `"skylake"`. */
  name: string;
  /** One line for people: which processor this stands for. */
  description: string;
  /** MAXPHYADDR, CPUID.80000008H:EAX[7:0]: bits a physical address may set (32..52). */
  physicalAddressWidth: number;
  /** IA32_FEATURE_CONTROL (3AH) as firmware left it at reset. */
  featureControl: Hex;
  /**
   * CR4 bits this processor supports (MOV to CR4 setting any other bit is #GP(0), SDM Vol. 2B
   * "MOV—Move to/from Control Registers"); which exist depends on CPUID features (Vol. 3A §2.5
   * "Control Registers"). Optional: by default IA32_VMX_CR4_FIXED1, the bits VMX operation allows
   * to be 1, which on real processors are the CR4 bits the processor supports (Vol. 3D Appendix
   * A.8 "VMX-Fixed Bits in CR4").
   */
  cr4Supported?: Hex;
  /**
   * CPUID feature flags of the instructions whose support decides between #UD and execution
   * (format-5 guest operations). Optional, and each member optional: by default a feature is
   * supported exactly when the VMX control that governs its instruction may be 1 (IA32_VMX_PROCBASED_CTLS2
   * allowed-1: "RDRAND exiting" bit 11, "RDSEED exiting" bit 16, "enable INVPCID" bit 12,
   * "enable XSAVES/XRSTORS" bit 20), as on real processors, whose VMX controls come with the feature.
   */
  cpuid?: CpuidFeatureFlags;
  /** The VMX capability MSRs. */
  msrs: VmxCapabilityMsrs;
  /**
   * Where the values come from, for people: a dump file, a URL, "vmx-conformance profile
   * capture on host X", or "written by hand". No semantics.
   */
  source?: string;
  /**
   * Names of the MSRs (keys of `msrs`, or `featureControl` / `physicalAddressWidth`) whose
   * values were inferred rather than read from the processor, for example a TRUE MSR
   * reconstructed from its non-TRUE partner because the dump lacked it. No semantics.
   */
  inferred?: string[];
  /** Free text for people (what is unusual about this part, what was adjusted). No semantics. */
  notes?: string;
}
