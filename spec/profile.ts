/**
 * A validated processor profile: the raw {@link ProfileData} plus every fact the VMX rules need,
 * derived once. "Supported by this processor" questions are answered here; "enabled right now"
 * questions (the settings in a VMCS) belong to the model and the emulator.
 *
 * Sources: SDM Vol. 3D, December 2023, Appendix A "VMX Capability Reporting Facility".
 */
import type { ProfileData } from './profile-data.ts';

/** The groups of VMX controls that have capability MSRs. */
export type ControlSet =
  | 'pin'
  | 'primary'
  | 'secondary'
  | 'tertiary'
  | 'exit'
  | 'secondary-exit'
  | 'entry'
  | 'vmfunc';

/**
 * Allowed settings of one control set. A control bit X must be 1 when bit X of `mustBeOne` is 1,
 * and may be 1 only when bit X of `mayBeOne` is 1 (Appendix A.3-A.5 "allowed 0-settings" and
 * "allowed 1-settings"; with IA32_VMX_BASIC[55] = 1 the TRUE MSRs give these).
 */
export interface AllowedSettings {
  mustBeOne: bigint;
  mayBeOne: bigint;
}

/** A validated profile; create one with `createProfile`. */
export interface Profile {
  /** The raw data this profile was made from. */
  readonly data: ProfileData;
  readonly name: string;
  /** IA32_VMX_BASIC[30:0]: the VMCS revision identifier. */
  readonly revisionId: number;
  /** IA32_VMX_BASIC[44:32]: bytes of a VMXON or VMCS region. */
  readonly regionSize: number;
  /**
   * Bits a VMXON, VMCS or VMCS-referenced physical address may set: 32 when
   * IA32_VMX_BASIC[48] = 1, otherwise the physical-address width.
   */
  readonly pointerWidth: number;
  /** IA32_VMX_BASIC[49]: dual-monitor treatment of SMIs and SMM supported. */
  readonly dualMonitor: boolean;
  /** IA32_VMX_BASIC[55]: TRUE control MSRs exist and default1 controls may be 0. */
  readonly trueControls: boolean;
  /** IA32_VMX_MISC[29]: VMWRITE may write any supported field, including VM-exit information. */
  readonly vmwriteAnyField: boolean;
  /** IA32_VMX_CR0_FIXED0 / FIXED1 and IA32_VMX_CR4_FIXED0 / FIXED1. */
  readonly cr0Fixed0: bigint;
  readonly cr0Fixed1: bigint;
  readonly cr4Fixed0: bigint;
  readonly cr4Fixed1: bigint;
  /** IA32_VMX_EPT_VPID_CAP, or 0 when the MSR does not exist. */
  readonly eptVpidCap: bigint;
  /** Allowed settings per control set (all-zero for a set the processor lacks). */
  readonly controls: Readonly<Record<ControlSet, AllowedSettings>>;
  /** True when control `bit` of `set` may be 1 on this processor ("supports the 1-setting"). */
  supportsControl(set: ControlSet, bit: number): boolean;
  /**
   * True when the VMCS field with this 32-bit encoding exists on this processor: a known field
   * whose enabling feature is supported, and for access type "high" (bit 0 = 1) a 64-bit field.
   */
  fieldExists(encoding: number): boolean;
}
