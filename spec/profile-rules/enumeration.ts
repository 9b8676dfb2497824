/**
 * Profile rules: IA32_VMX_VMCS_ENUM and IA32_VMX_EPT_VPID_CAP.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.9 "VMCS Enumeration" and A.10 "VPID and EPT
 * Capabilities".
 */
import { mayBeOne } from '../allowed-settings.ts';
import { EPT_VPID_CAP, describeMsr } from '../capability-msrs.ts';
import { decodeFieldEncoding } from '../field-encoding.ts';
import { VMCS_FIELDS, fieldExistsWith } from '../fields.ts';
import { toHex } from '../hex.ts';
import type { ControlSet } from '../profile.ts';
import { bitOf, controls, describeBits } from './values.ts';
import type { Values } from './values.ts';

/** Bits 9:1 give the highest index of any VMCS field encoding; bits 0 and 63:10 are reserved. */
export function checkVmcsEnum(v: Values): string[] {
  const problems: string[] = [];
  const reserved = v.IA32_VMX_VMCS_ENUM & ~0x3fen;
  if (reserved !== 0n) {
    problems.push(
      `${describeMsr('IA32_VMX_VMCS_ENUM')}: reserved ${describeBits(reserved)} set; only bits 9:1 are used, clear the others`,
    );
  }
  const reported = Number((v.IA32_VMX_VMCS_ENUM >> 1n) & 0x1ffn);
  const settings = controls(v);
  const supports = (set: ControlSet, bit: number): boolean => mayBeOne(settings[set], bit);
  let highest = 0;
  let highestName = '';
  for (const field of VMCS_FIELDS) {
    if (!fieldExistsWith(field.encoding, supports)) continue;
    const { index } = decodeFieldEncoding(field.encoding);
    if (index > highest) {
      highest = index;
      highestName = field.name;
    }
  }
  if (reported < highest) {
    problems.push(
      `${describeMsr('IA32_VMX_VMCS_ENUM')}: bits 9:1 report ${reported} as the highest field index, but the ` +
        `field "${highestName}" exists on this profile and has index ${highest}; set the MSR to ` +
        `${toHex(BigInt(highest) << 1n)} or more`,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// A.10 EPT and VPID capabilities.

/**
 * A reported INVEPT or INVVPID type implies the instruction itself is reported (a profile that
 * lists types of an instruction it lacks contradicts itself).
 */
export function checkInveptInvvpidTypes(v: Values): string[] {
  const cap = v.IA32_VMX_EPT_VPID_CAP;
  if (cap === undefined) return [];
  const problems: string[] = [];
  const inveptTypes = cap & ((1n << BigInt(EPT_VPID_CAP.INVEPT_SINGLE_CONTEXT)) | (1n << BigInt(EPT_VPID_CAP.INVEPT_ALL_CONTEXT)));
  if (inveptTypes !== 0n && !bitOf(cap, EPT_VPID_CAP.INVEPT)) {
    problems.push(
      `${describeMsr('IA32_VMX_EPT_VPID_CAP')}: INVEPT types (${describeBits(inveptTypes)}) are reported but ` +
        'bit 20 (INVEPT supported) is 0; set bit 20 or clear the type bits',
    );
  }
  const invvpidTypes = cap & (0xfn << BigInt(EPT_VPID_CAP.INVVPID_INDIVIDUAL_ADDRESS));
  if (invvpidTypes !== 0n && !bitOf(cap, EPT_VPID_CAP.INVVPID)) {
    problems.push(
      `${describeMsr('IA32_VMX_EPT_VPID_CAP')}: INVVPID types (${describeBits(invvpidTypes)}) are reported but ` +
        'bit 32 (INVVPID supported) is 0; set bit 32 or clear the type bits',
    );
  }
  return problems;
}
