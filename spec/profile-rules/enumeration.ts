/**
 * Profile rules: IA32_VMX_VMCS_ENUM and IA32_VMX_EPT_VPID_CAP.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.9 "VMCS Enumeration" and A.10 "VPID and EPT
 * Capabilities". Problems and warnings: see spec/profile-validation.ts.
 */
import { mayBeOne } from '../allowed-settings.ts';
import { EPT_VPID_CAP, describeMsr } from '../capability-msrs.ts';
import { decodeFieldEncoding } from '../field-encoding.ts';
import { VMCS_FIELDS, fieldExistsWith } from '../fields.ts';
import { toHex } from '../hex.ts';
import type { ControlSet } from '../profile.ts';
import { bitOf, controls, describeBitRanges, describeBits } from './values.ts';
import type { Values } from './values.ts';

/**
 * IA32_VMX_VMCS_ENUM, what it is for, and why it decides nothing here.
 *
 * A.9 presents the MSR as help for software that enumerates VMCS fields: bits 9:1 hold the
 * highest index (encoding bits 9:1) of any field the processor supports. It is
 * a hint for software that walks encodings (a VMM building a shadow-VMCS bitmap, a migration tool
 * saving every field); no VMX instruction reads it, and nothing in Chapters 25-31 makes a
 * field's existence depend on it. Real parts under-report: Sandy Bridge and later report 0x2a
 * or 0x2e (highest index 21 or 23) while supporting fields with higher indexes, such as the TSC
 * multiplier (2032H, index 25), the tertiary processor-based controls (2034H, index 26) and the
 * secondary VM-exit controls (2044H, index 34), and with 0x2a the VMX-preemption timer value
 * (482EH, index 23). So this project derives field existence from
 * the controls alone (spec/fields.ts `fieldExistsWith`), never from this MSR, and only warns when
 * the MSR is lower than a field the profile supports.
 */

/** Warning. A.9: bit 0 and bits 63:10 are reserved (read as 0); nothing reads them. */
export function checkVmcsEnumReservedBits(v: Values): string[] {
  const reserved = v.IA32_VMX_VMCS_ENUM & ~0x3fen;
  if (reserved === 0n) return [];
  return [
    `${describeMsr('IA32_VMX_VMCS_ENUM')}: ${describeBitRanges(reserved)} set, reserved in the SDM (only bits 9:1 carry ` +
      'the highest field index); ignored',
  ];
}

/**
 * Warning. A.9: bits 9:1 are the highest index of any supported field's encoding. Real parts
 * report less than the fields they support (see above), so a lower value is accepted.
 */
export function checkVmcsEnumCoversFields(v: Values): string[] {
  const problems: string[] = [];
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
        `field "${highestName}" (index ${highest}) exists on this profile; real parts under-report like this, and ` +
        `field existence follows from the controls, not from this MSR (it would read ${toHex(BigInt(highest) << 1n)} ` +
        'if it covered every field)',
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// A.10 EPT and VPID capabilities.

/**
 * Warning. A.10 reports INVEPT (bit 20) and INVVPID (bit 32) and, separately, the types each
 * supports; it does not say a type bit implies its instruction bit. A type reported for an
 * instruction that is not is odd but harmless: the model checks the instruction bit first (#UD).
 */
export function checkInveptInvvpidTypes(v: Values): string[] {
  const cap = v.IA32_VMX_EPT_VPID_CAP;
  if (cap === undefined) return [];
  const problems: string[] = [];
  const inveptTypes = cap & ((1n << BigInt(EPT_VPID_CAP.INVEPT_SINGLE_CONTEXT)) | (1n << BigInt(EPT_VPID_CAP.INVEPT_ALL_CONTEXT)));
  if (inveptTypes !== 0n && !bitOf(cap, EPT_VPID_CAP.INVEPT)) {
    problems.push(
      `${describeMsr('IA32_VMX_EPT_VPID_CAP')}: INVEPT types (${describeBits(inveptTypes)}) are reported but ` +
        'bit 20 (INVEPT supported) is 0; INVEPT causes #UD, so the types are never used',
    );
  }
  const invvpidTypes = cap & (0xfn << BigInt(EPT_VPID_CAP.INVVPID_INDIVIDUAL_ADDRESS));
  if (invvpidTypes !== 0n && !bitOf(cap, EPT_VPID_CAP.INVVPID)) {
    problems.push(
      `${describeMsr('IA32_VMX_EPT_VPID_CAP')}: INVVPID types (${describeBits(invvpidTypes)}) are reported but ` +
        'bit 32 (INVVPID supported) is 0; INVVPID causes #UD, so the types are never used',
    );
  }
  return problems;
}
