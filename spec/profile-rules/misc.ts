/**
 * Profile rules: IA32_VMX_MISC.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.6 "Miscellaneous Data".
 */
import { mayBeOne } from '../allowed-settings.ts';
import { VMX_MISC, VMX_MISC_RESERVED_MASK, describeMsr } from '../capability-msrs.ts';
import { SECONDARY_CONTROL } from '../control-bits.ts';
import { bitOf, controls, describeBits, them } from './values.ts';
import type { Values } from './values.ts';

/** Bits 13:9 and 31 of IA32_VMX_MISC are reserved (read as 0). */
export function checkMiscReservedBits(v: Values): string[] {
  const set = v.IA32_VMX_MISC & VMX_MISC_RESERVED_MASK;
  if (set === 0n) return [];
  return [`${describeMsr('IA32_VMX_MISC')}: reserved ${describeBits(set)} set; clear ${them(set)} (13:9 and 31 read as 0)`];
}

/** Bit 5 reads 1 on any processor that supports the 1-setting of "unrestricted guest". */
export function checkMiscStoresLmaWithUnrestrictedGuest(v: Values): string[] {
  if (!mayBeOne(controls(v).secondary, SECONDARY_CONTROL.UNRESTRICTED_GUEST)) return [];
  if (bitOf(v.IA32_VMX_MISC, VMX_MISC.STORE_LMA)) return [];
  return [
    `${describeMsr('IA32_VMX_MISC')}: bit 5 (VM exits store IA32_EFER.LMA) is 0, but "unrestricted guest" ` +
      `may be 1 (${describeMsr('IA32_VMX_PROCBASED_CTLS2')} bit 39) and such processors report bit 5 as 1; ` +
      'set bit 5 or clear that allowed-1 bit',
  ];
}

/**
 * Bits 24:16: the number of CR3-target values, 0..256 (bit 24 set only with 23:16 clear). Project
 * rule: at most 4, the CR3-target value fields Appendix B lists.
 */
export function checkCr3TargetCount(v: Values): string[] {
  const count = Number((v.IA32_VMX_MISC >> BigInt(VMX_MISC.CR3_TARGET_COUNT)) & 0x1ffn);
  if (count <= 4) return [];
  return [
    `${describeMsr('IA32_VMX_MISC')}: bits 24:16 report ${count} CR3-target values; ` +
      (count > 256 ? 'the SDM allows at most 256' : 'this project models the 4 CR3-target value fields Appendix B lists (project rule)') +
      '; set bits 24:16 to a count from 0 to 4',
  ];
}
