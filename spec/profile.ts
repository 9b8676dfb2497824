/**
 * A validated processor profile: the raw {@link ProfileData} plus every fact the VMX rules need,
 * derived once. "Supported by this processor" questions are answered here; "enabled right now"
 * questions (the settings in a VMCS) belong to the model and the emulator.
 *
 * Sources: SDM Vol. 3D, December 2023, Appendix A "VMX Capability Reporting Facility".
 */
import { allowedSettings, mayBeOne, usesTrueControls } from './allowed-settings.ts';
import { VMX_BASIC, VMX_MISC } from './capability-msrs.ts';
import { fieldExistsWith } from './fields.ts';
import type { CpuidFeatureFlags, ProfileData } from './profile-data.ts';
import { SECONDARY_CONTROL } from './control-bits.ts';
import { checkProfile } from './profile-validation.ts';

export { checkProfile, validateProfile } from './profile-validation.ts';
export type { ProfileFindings } from './profile-validation.ts';

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
  /**
   * What validation accepted but a person should know: reserved bits real parts set, controls
   * this project does not know yet, IA32_VMX_VMCS_ENUM lower than the fields supported ...
   * (spec/profile-validation.ts). Empty for a profile the December 2023 SDM fully describes.
   */
  readonly warnings: readonly string[];
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
  /**
   * CR4 bits the processor supports: `cr4Supported` of the data, by default IA32_VMX_CR4_FIXED1
   * (see ProfileData). MOV to CR4 setting another bit is #GP(0).
   */
  readonly cr4Supported: bigint;
  /**
   * CPUID feature flags: `cpuid` of the data, each by default whether the VMX control governing
   * the instruction may be 1 (see ProfileData).
   */
  readonly cpuid: Readonly<Required<CpuidFeatureFlags>>;
  /** IA32_VMX_EPT_VPID_CAP, or 0 when the MSR does not exist. */
  readonly eptVpidCap: bigint;
  /** Allowed settings per control set (all-zero for a set the processor lacks). */
  readonly controls: Readonly<Record<ControlSet, AllowedSettings>>;
  /** True when control `bit` of `set` may be 1 on this processor ("supports the 1-setting"). */
  supportsControl(set: ControlSet, bit: number): boolean;
  /**
   * True when the VMCS field with this 32-bit encoding exists on this processor: a known field
   * whose enabling feature is supported, and for access type "high" (bit 0 = 1) a 64-bit field.
   * Derived from the controls only, never from IA32_VMX_VMCS_ENUM (real parts under-report it;
   * spec/profile-rules/enumeration.ts). A field this project does not know (one a control it
   * does not know would bring) is reported as not existing.
   */
  fieldExists(encoding: number): boolean;
}

/** Thrown by {@link createProfile} for an inconsistent profile; `problems` lists every rule broken. */
export class ProfileError extends Error {
  /** One actionable message per problem, as `validateProfile` returns them. */
  readonly problems: readonly string[];

  constructor(profileName: string, problems: readonly string[]) {
    super(`profile ${JSON.stringify(profileName)} has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ProfileError';
    this.problems = problems;
  }
}

/**
 * Validates `data` and derives a {@link Profile} from it; throws a {@link ProfileError} listing
 * every problem `checkProfile` finds, and keeps its warnings on the profile.
 */
export function createProfile(data: ProfileData): Profile {
  const { problems, warnings } = checkProfile(data);
  if (problems.length > 0) throw new ProfileError(String(data.name), problems);

  const msr = (text: string | undefined): bigint | undefined => (text === undefined ? undefined : BigInt(text));
  const basic = BigInt(data.msrs.IA32_VMX_BASIC);
  const misc = BigInt(data.msrs.IA32_VMX_MISC);
  const controls = allowedSettings({
    IA32_VMX_BASIC: basic,
    IA32_VMX_PINBASED_CTLS: BigInt(data.msrs.IA32_VMX_PINBASED_CTLS),
    IA32_VMX_PROCBASED_CTLS: BigInt(data.msrs.IA32_VMX_PROCBASED_CTLS),
    IA32_VMX_EXIT_CTLS: BigInt(data.msrs.IA32_VMX_EXIT_CTLS),
    IA32_VMX_ENTRY_CTLS: BigInt(data.msrs.IA32_VMX_ENTRY_CTLS),
    IA32_VMX_PROCBASED_CTLS2: msr(data.msrs.IA32_VMX_PROCBASED_CTLS2),
    IA32_VMX_TRUE_PINBASED_CTLS: msr(data.msrs.IA32_VMX_TRUE_PINBASED_CTLS),
    IA32_VMX_TRUE_PROCBASED_CTLS: msr(data.msrs.IA32_VMX_TRUE_PROCBASED_CTLS),
    IA32_VMX_TRUE_EXIT_CTLS: msr(data.msrs.IA32_VMX_TRUE_EXIT_CTLS),
    IA32_VMX_TRUE_ENTRY_CTLS: msr(data.msrs.IA32_VMX_TRUE_ENTRY_CTLS),
    IA32_VMX_VMFUNC: msr(data.msrs.IA32_VMX_VMFUNC),
    IA32_VMX_PROCBASED_CTLS3: msr(data.msrs.IA32_VMX_PROCBASED_CTLS3),
    IA32_VMX_EXIT_CTLS2: msr(data.msrs.IA32_VMX_EXIT_CTLS2),
  });
  const supportsControl = (set: ControlSet, bit: number): boolean => mayBeOne(controls[set], bit);
  const bit = (value: bigint, position: number): boolean => ((value >> BigInt(position)) & 1n) === 1n;

  return {
    data,
    name: data.name,
    warnings,
    revisionId: Number(basic & 0x7fff_ffffn),
    regionSize: Number((basic >> BigInt(VMX_BASIC.REGION_SIZE)) & 0x1fffn),
    pointerWidth: bit(basic, VMX_BASIC.ADDRESSES_32_BIT) ? 32 : data.physicalAddressWidth,
    dualMonitor: bit(basic, VMX_BASIC.DUAL_MONITOR),
    trueControls: usesTrueControls(basic),
    vmwriteAnyField: bit(misc, VMX_MISC.VMWRITE_ANY_FIELD),
    cr0Fixed0: BigInt(data.msrs.IA32_VMX_CR0_FIXED0),
    cr0Fixed1: BigInt(data.msrs.IA32_VMX_CR0_FIXED1),
    cr4Fixed0: BigInt(data.msrs.IA32_VMX_CR4_FIXED0),
    cr4Fixed1: BigInt(data.msrs.IA32_VMX_CR4_FIXED1),
    cr4Supported: msr(data.cr4Supported) ?? BigInt(data.msrs.IA32_VMX_CR4_FIXED1),
    eptVpidCap: msr(data.msrs.IA32_VMX_EPT_VPID_CAP) ?? 0n,
    cpuid: {
      rdrand: data.cpuid?.rdrand ?? supportsControl('secondary', SECONDARY_CONTROL.RDRAND_EXITING),
      rdseed: data.cpuid?.rdseed ?? supportsControl('secondary', SECONDARY_CONTROL.RDSEED_EXITING),
      invpcid: data.cpuid?.invpcid ?? supportsControl('secondary', SECONDARY_CONTROL.ENABLE_INVPCID),
      xsaves: data.cpuid?.xsaves ?? supportsControl('secondary', SECONDARY_CONTROL.ENABLE_XSAVES_XRSTORS),
    },
    controls,
    supportsControl,
    fieldExists: (encoding: number): boolean => fieldExistsWith(encoding, supportsControl),
  };
}
