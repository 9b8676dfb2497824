/**
 * Profile rules: IA32_VMX_MISC.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.6 "Miscellaneous Data". Problems and
 * warnings: see spec/profile-validation.ts.
 */
import { mayBeOne } from '../allowed-settings.ts';
import { VMX_MISC, VMX_MISC_RESERVED_MASK, describeMsr } from '../capability-msrs.ts';
import { SECONDARY_CONTROL } from '../control-bits.ts';
import { bitOf, controls, describeBitRanges, describeBits } from './values.ts';
import type { Values } from './values.ts';

/**
 * Warning. A.6: bits 13:9 and 31 are reserved and read as 0 in the December 2023 edition. Core 2
 * era parts report bit 9 set; nothing this project models reads these bits.
 */
export function checkMiscReservedBits(v: Values): string[] {
  const set = v.IA32_VMX_MISC & VMX_MISC_RESERVED_MASK;
  if (set === 0n) return [];
  const core2 = bitOf(set, 9) ? ' (Core 2 era parts and the first Atoms report bit 9 set)' : '';
  return [
    `${describeMsr('IA32_VMX_MISC')}: ${describeBitRanges(set)} set, reserved (read as 0) in the December 2023 SDM${core2}; ` +
      'ignored, nothing this project models reads them',
  ];
}

/**
 * Problem. A.6: bit 5 reads 1 on every logical processor that supports the 1-setting of
 * "unrestricted guest"; the two MSRs contradict each other otherwise.
 */
export function checkMiscStoresLmaWithUnrestrictedGuest(v: Values): string[] {
  if (!mayBeOne(controls(v).secondary, SECONDARY_CONTROL.UNRESTRICTED_GUEST)) return [];
  if (bitOf(v.IA32_VMX_MISC, VMX_MISC.STORE_LMA)) return [];
  return [
    `${describeMsr('IA32_VMX_MISC')}: bit 5 (VM exits store IA32_EFER.LMA) is 0, but "unrestricted guest" ` +
      `may be 1 (${describeMsr('IA32_VMX_PROCBASED_CTLS2')} bit 39) and such processors report bit 5 as 1; ` +
      'set bit 5 or clear that allowed-1 bit',
  ];
}

/** CR3-target count in bits 24:16 of IA32_VMX_MISC. */
function cr3TargetCount(v: Values): number {
  return Number((v.IA32_VMX_MISC >> BigInt(VMX_MISC.CR3_TARGET_COUNT)) & 0x1ffn);
}

/**
 * Problem. A.6: bits 24:16 give the number of CR3-target values, from 0 to 256
 * (bit 24 set only when bits 23:16 are clear); anything above 256 is malformed.
 */
export function checkCr3TargetCount(v: Values): string[] {
  const count = cr3TargetCount(v);
  if (count <= 256) return [];
  return [
    `${describeMsr('IA32_VMX_MISC')}: bits 24:16 report ${count} CR3-target values, but the SDM allows 0 to 256 ` +
      '(bit 24 set only with bits 23:16 clear); set bits 24:16 to a count from 0 to 256',
  ];
}

/**
 * Warning (project rule). Appendix B lists 4 CR3-target value fields, the ones this project
 * knows; a part reporting more (every real part we know of reports 4) would have fields whose
 * encodings the December 2023 edition does not give.
 */
export function checkCr3TargetFieldsKnown(v: Values): string[] {
  const count = cr3TargetCount(v);
  if (count <= 4 || count > 256) return [];
  return [
    `${describeMsr('IA32_VMX_MISC')}: bits 24:16 report ${count} CR3-target values; this project knows the 4 ` +
      'CR3-target value fields Appendix B lists, and the model answers VMREAD/VMWRITE of any other encoding as an ' +
      'unsupported field',
  ];
}
