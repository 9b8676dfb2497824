/**
 * The checks that every control set shares: each control a capability MSR reports as must-be-1
 * is 1, and no control is 1 unless the MSR allows it (SDM Vol. 3C, December 2023, §27.2.1
 * "Checks on VMX Controls", with Vol. 3D Appendix A.3-A.5 for the allowed 0- and 1-settings,
 * read from the TRUE MSRs when IA32_VMX_BASIC[55] = 1, which the profile has done already).
 */
import type { AllowedSettings } from '../../spec/profile.ts';

/** True when every control `settings` says must be 1 is 1 in `value`. */
export function mustBeOnesSet(value: bigint, settings: AllowedSettings): boolean {
  return (value & settings.mustBeOne) === settings.mustBeOne;
}

/** True when `value` sets no control that `settings` does not allow to be 1. */
export function onlyAllowedOnes(value: bigint, settings: AllowedSettings): boolean {
  return (value & ~settings.mayBeOne) === 0n;
}
