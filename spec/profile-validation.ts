/**
 * Consistency rules for processor profiles: a flat list, one rule per check, in the order of
 * Appendix A. Each message names the MSR and bits at fault and says what to change. The rules
 * live in spec/profile-rules/, one file per area of Appendix A; this file lists them in order
 * and checks the shape of the data first.
 *
 * Rules marked "project rule" are not SDM statements but limits of what this project models;
 * their messages say so.
 *
 * Sources: SDM Vol. 3D, December 2023, Appendix A "VMX Capability Reporting Facility"; Vol. 3C
 * §24.8 "Restrictions on VMX Operation" for the fixed CR0/CR4 bits.
 */
import { describeMsr } from './capability-msrs.ts';
import { isHex } from './hex.ts';
import type { ProfileData } from './profile-data.ts';
import {
  checkAddressWidthBit,
  checkBasicReservedBits,
  checkMemoryType,
  checkRegionSize,
  checkRevisionIdBit31,
  checkTrueMsrsPresence,
} from './profile-rules/basic.ts';
import {
  checkAllowedZeroImpliesAllowedOne,
  checkDefault1MustBeOne,
  checkEptVpidCapPresence,
  checkOnlyKnownControls,
  checkSecondaryAllowedZeroClear,
  checkSecondaryControlsPresence,
  checkSecondaryExitControlsPresence,
  checkTertiaryControlsPresence,
  checkTrueMsrsAgree,
  checkVmfuncPresence,
} from './profile-rules/controls.ts';
import { checkInveptInvvpidTypes, checkVmcsEnum } from './profile-rules/enumeration.ts';
import { checkCr4FixedVmxe, checkFixedBitsConsistent, checkInitialStateAllowed } from './profile-rules/fixed-bits.ts';
import { checkCr3TargetCount, checkMiscReservedBits, checkMiscStoresLmaWithUnrestrictedGuest } from './profile-rules/misc.ts';
import { OPTIONAL_MSRS, REQUIRED_MSRS } from './profile-rules/values.ts';
import type { Values } from './profile-rules/values.ts';

export { OPTIONAL_MSRS, REQUIRED_MSRS } from './profile-rules/values.ts';

/**
 * Every inconsistency in `data`, one message per problem; empty when the profile is consistent.
 * Shape problems (missing or malformed values) are reported alone, since the other rules need
 * the values.
 */
export function validateProfile(data: ProfileData): string[] {
  const shapeProblems = checkShape(data);
  if (shapeProblems.length > 0) return shapeProblems;
  const v = parseValues(data);
  return [
    // A.1 Basic VMX information
    ...checkRevisionIdBit31(v),
    ...checkRegionSize(v),
    ...checkBasicReservedBits(v),
    ...checkAddressWidthBit(v),
    ...checkMemoryType(v),
    ...checkTrueMsrsPresence(v),
    // A.3-A.5, A.11 allowed settings of the controls
    ...checkAllowedZeroImpliesAllowedOne(v),
    ...checkDefault1MustBeOne(v),
    ...checkSecondaryAllowedZeroClear(v),
    ...checkTrueMsrsAgree(v),
    ...checkOnlyKnownControls(v),
    ...checkSecondaryControlsPresence(v),
    ...checkTertiaryControlsPresence(v),
    ...checkSecondaryExitControlsPresence(v),
    ...checkEptVpidCapPresence(v),
    ...checkVmfuncPresence(v),
    // A.6 Miscellaneous data
    ...checkMiscReservedBits(v),
    ...checkMiscStoresLmaWithUnrestrictedGuest(v),
    ...checkCr3TargetCount(v),
    // A.7, A.8 fixed bits of CR0 and CR4
    ...checkFixedBitsConsistent(v),
    ...checkCr4FixedVmxe(v),
    ...checkInitialStateAllowed(v),
    // A.9 VMCS enumeration
    ...checkVmcsEnum(v),
    // A.10 EPT and VPID capabilities
    ...checkInveptInvvpidTypes(v),
  ];
}


const PROFILE_KEYS: readonly string[] = ['name', 'description', 'physicalAddressWidth', 'featureControl', 'msrs'];

function checkShape(data: ProfileData): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(data)) {
    if (!PROFILE_KEYS.includes(key)) {
      problems.push(`${key} is not a profile property; remove it (properties: ${PROFILE_KEYS.join(', ')})`);
    }
  }
  if (typeof data.name !== 'string' || data.name.length === 0) {
    problems.push('name: give the profile a non-empty name, for example "skylake"');
  }
  if (typeof data.description !== 'string') {
    problems.push('description: give a one-line description of the processor this profile stands for');
  }
  const width = data.physicalAddressWidth;
  if (typeof width !== 'number' || !Number.isInteger(width) || width < 32 || width > 52) {
    problems.push(
      `physicalAddressWidth is ${JSON.stringify(width)}; MAXPHYADDR (CPUID.80000008H:EAX[7:0]) ` +
        'must be an integer from 32 to 52',
    );
  }
  if (!isHex(data.featureControl)) {
    problems.push(
      `featureControl (IA32_FEATURE_CONTROL, 3AH) is ${JSON.stringify(data.featureControl)}; ` +
        'write it as a hexadecimal string such as "0x5"',
    );
  }
  const rawMsrs: unknown = data.msrs;
  const isObject = typeof rawMsrs === 'object' && rawMsrs !== null && !Array.isArray(rawMsrs);
  const msrs: Record<string, unknown> = isObject ? (rawMsrs as Record<string, unknown>) : {};
  if (!isObject) problems.push('msrs: give the VMX capability MSRs as an object keyed by MSR name');
  for (const name of REQUIRED_MSRS) {
    if (msrs[name] === undefined) {
      problems.push(`${describeMsr(name)} is missing; every VMX processor has it, so give its value`);
    } else if (!isHex(msrs[name])) {
      problems.push(`${describeMsr(name)} is ${JSON.stringify(msrs[name])}; write it as a hexadecimal string`);
    }
  }
  for (const name of OPTIONAL_MSRS) {
    if (msrs[name] !== undefined && !isHex(msrs[name])) {
      problems.push(`${describeMsr(name)} is ${JSON.stringify(msrs[name])}; write it as a hexadecimal string`);
    }
  }
  const known: readonly string[] = [...REQUIRED_MSRS, ...OPTIONAL_MSRS];
  for (const name of Object.keys(msrs)) {
    if (!known.includes(name)) {
      problems.push(`msrs.${name} is not a VMX capability MSR this project knows; remove it (known: ${known.join(', ')})`);
    }
  }
  return problems;
}

function parseValues(data: ProfileData): Values {
  const m = data.msrs;
  const opt = (text: string | undefined): bigint | undefined => (text === undefined ? undefined : BigInt(text));
  return {
    IA32_VMX_BASIC: BigInt(m.IA32_VMX_BASIC),
    IA32_VMX_PINBASED_CTLS: BigInt(m.IA32_VMX_PINBASED_CTLS),
    IA32_VMX_PROCBASED_CTLS: BigInt(m.IA32_VMX_PROCBASED_CTLS),
    IA32_VMX_EXIT_CTLS: BigInt(m.IA32_VMX_EXIT_CTLS),
    IA32_VMX_ENTRY_CTLS: BigInt(m.IA32_VMX_ENTRY_CTLS),
    IA32_VMX_MISC: BigInt(m.IA32_VMX_MISC),
    IA32_VMX_CR0_FIXED0: BigInt(m.IA32_VMX_CR0_FIXED0),
    IA32_VMX_CR0_FIXED1: BigInt(m.IA32_VMX_CR0_FIXED1),
    IA32_VMX_CR4_FIXED0: BigInt(m.IA32_VMX_CR4_FIXED0),
    IA32_VMX_CR4_FIXED1: BigInt(m.IA32_VMX_CR4_FIXED1),
    IA32_VMX_VMCS_ENUM: BigInt(m.IA32_VMX_VMCS_ENUM),
    IA32_VMX_PROCBASED_CTLS2: opt(m.IA32_VMX_PROCBASED_CTLS2),
    IA32_VMX_EPT_VPID_CAP: opt(m.IA32_VMX_EPT_VPID_CAP),
    IA32_VMX_TRUE_PINBASED_CTLS: opt(m.IA32_VMX_TRUE_PINBASED_CTLS),
    IA32_VMX_TRUE_PROCBASED_CTLS: opt(m.IA32_VMX_TRUE_PROCBASED_CTLS),
    IA32_VMX_TRUE_EXIT_CTLS: opt(m.IA32_VMX_TRUE_EXIT_CTLS),
    IA32_VMX_TRUE_ENTRY_CTLS: opt(m.IA32_VMX_TRUE_ENTRY_CTLS),
    IA32_VMX_VMFUNC: opt(m.IA32_VMX_VMFUNC),
    IA32_VMX_PROCBASED_CTLS3: opt(m.IA32_VMX_PROCBASED_CTLS3),
    IA32_VMX_EXIT_CTLS2: opt(m.IA32_VMX_EXIT_CTLS2),
  };
}
