/**
 * The parsed capability-MSR values the profile rules read, and small helpers for their messages.
 */
import { allowedSettings } from '../allowed-settings.ts';
import type { MsrValues } from '../allowed-settings.ts';
import type { CapabilityMsrName } from '../capability-msrs.ts';
import type { AllowedSettings, ControlSet } from '../profile.ts';

/** MSRs every VMX processor has. */
export const REQUIRED_MSRS = [
  'IA32_VMX_BASIC',
  'IA32_VMX_PINBASED_CTLS',
  'IA32_VMX_PROCBASED_CTLS',
  'IA32_VMX_EXIT_CTLS',
  'IA32_VMX_ENTRY_CTLS',
  'IA32_VMX_MISC',
  'IA32_VMX_CR0_FIXED0',
  'IA32_VMX_CR0_FIXED1',
  'IA32_VMX_CR4_FIXED0',
  'IA32_VMX_CR4_FIXED1',
  'IA32_VMX_VMCS_ENUM',
] as const satisfies readonly CapabilityMsrName[];

/** MSRs whose existence depends on other MSRs. */
export const OPTIONAL_MSRS = [
  'IA32_VMX_PROCBASED_CTLS2',
  'IA32_VMX_EPT_VPID_CAP',
  'IA32_VMX_TRUE_PINBASED_CTLS',
  'IA32_VMX_TRUE_PROCBASED_CTLS',
  'IA32_VMX_TRUE_EXIT_CTLS',
  'IA32_VMX_TRUE_ENTRY_CTLS',
  'IA32_VMX_VMFUNC',
  'IA32_VMX_PROCBASED_CTLS3',
  'IA32_VMX_EXIT_CTLS2',
] as const satisfies readonly CapabilityMsrName[];

/** The four TRUE control MSRs, which exist iff IA32_VMX_BASIC[55] = 1. */
export const TRUE_MSRS = [
  'IA32_VMX_TRUE_PINBASED_CTLS',
  'IA32_VMX_TRUE_PROCBASED_CTLS',
  'IA32_VMX_TRUE_EXIT_CTLS',
  'IA32_VMX_TRUE_ENTRY_CTLS',
] as const;

/** Every MSR value of a profile whose hex spellings are well formed. */
export type Values = MsrValues &
  Record<(typeof REQUIRED_MSRS)[number], bigint> &
  Record<(typeof OPTIONAL_MSRS)[number], bigint | undefined>;

/** True when bit `bit` of `value` is 1. */
export function bitOf(value: bigint, bit: number): boolean {
  return ((value >> BigInt(bit)) & 1n) === 1n;
}

/** `"bit 3"` or `"bits 1, 4, 5"`. */
export function describeBits(mask: bigint): string {
  const bits: number[] = [];
  for (let bit = 0; bit < 64; bit++) if (bitOf(mask, bit)) bits.push(bit);
  return bits.length === 1 ? `bit ${bits[0]}` : `bits ${bits.join(', ')}`;
}

/** Like {@link describeBits}, with runs of three or more bits as ranges: `"bits 0, 8-31"`. */
export function describeBitRanges(mask: bigint): string {
  const parts: string[] = [];
  let count = 0;
  for (let bit = 0; bit < 64; bit++) {
    if (!bitOf(mask, bit)) continue;
    count++;
    let end = bit;
    while (end + 1 < 64 && bitOf(mask, end + 1)) end++;
    if (end - bit >= 2) {
      parts.push(`${bit}-${end}`);
      count += end - bit;
    } else {
      for (let b = bit; b <= end; b++) parts.push(String(b));
      count += end - bit;
    }
    bit = end;
  }
  return `${count === 1 ? 'bit' : 'bits'} ${parts.join(', ')}`;
}

/** `"it"` for one bit, `"them"` for several. */
export function them(mask: bigint): string {
  return (mask & (mask - 1n)) === 0n ? 'it' : 'them';
}

/** Allowed settings of every control set, as the profile's MSRs give them. */
export function controls(v: Values): Record<ControlSet, AllowedSettings> {
  return allowedSettings(v);
}
