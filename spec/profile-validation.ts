/**
 * Consistency rules for processor profiles: two flat lists, one rule per check, in the order of
 * Appendix A. The rules live in spec/profile-rules/, one file per area of Appendix A, each with
 * a doc comment saying which list it is in and why; this file checks the shape of the data first
 * (spec/profile-shape.ts), then runs both lists.
 *
 * A reference model must accept every real processor, so the split is:
 * - **Problems** (the profile is refused): a value missing or malformed; an MSR that the others
 *   say exists missing, or one given that they say does not; two reports of one fact that
 *   disagree (allowed-0 against allowed-1, a TRUE MSR against its partner, FIXED0 against
 *   FIXED1); an SDM statement that a field always reads a given way broken where breaking it
 *   changes what the profile means (the default1 class, the secondary allowed-0 half, CR4.VMXE,
 *   IA32_VMX_MISC[5] with "unrestricted guest"); and, as a project rule, an initial state from
 *   which VMXON could never succeed. Each message names the MSR and bits and says what to change.
 * - **Warnings** (the profile is accepted, the message printed): bits the December 2023 edition
 *   calls reserved but real parts set (IA32_VMX_BASIC 57-58, IA32_VMX_MISC 9, ...), values it
 *   calls unused, IA32_VMX_VMCS_ENUM lower than the fields supported, controls this project does
 *   not know yet, more CR3-target values than fields it knows. Each says what it means for a run.
 *
 * Sources: SDM Vol. 3D, December 2023, Appendix A "VMX Capability Reporting Facility"; Vol. 3C
 * §24.8 "Restrictions on VMX Operation" for the fixed CR0/CR4 bits.
 */
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
  checkSecondaryAllowedZeroClear,
  checkSecondaryControlsPresence,
  checkSecondaryExitControlsPresence,
  checkTertiaryControlsPresence,
  checkTrueMsrsAgree,
  checkUnknownControls,
  checkVmfuncPresence,
} from './profile-rules/controls.ts';
import { checkInveptInvvpidTypes, checkVmcsEnumCoversFields, checkVmcsEnumReservedBits } from './profile-rules/enumeration.ts';
import { checkCr4FixedVmxe, checkFixedBitsConsistent, checkInitialStateAllowed } from './profile-rules/fixed-bits.ts';
import {
  checkCr3TargetCount,
  checkCr3TargetFieldsKnown,
  checkMiscReservedBits,
  checkMiscStoresLmaWithUnrestrictedGuest,
} from './profile-rules/misc.ts';
import { checkShape } from './profile-shape.ts';
import type { Values } from './profile-rules/values.ts';

export { OPTIONAL_MSRS, REQUIRED_MSRS } from './profile-rules/values.ts';

/** What validation found: problems refuse the profile, warnings are printed and accepted. */
export interface ProfileFindings {
  /** Broken SDM rules that make the profile unusable or self-contradictory; non-empty = refused. */
  readonly problems: string[];
  /** Things real parts do that the SDM edition or this project does not expect; accepted. */
  readonly warnings: string[];
}

/**
 * Every problem and warning of `data`, each one message, in the order of Appendix A. Shape
 * problems (missing or malformed values) are reported alone, since the other rules need the
 * values.
 */
export function checkProfile(data: ProfileData): ProfileFindings {
  const shapeProblems = checkShape(data);
  if (shapeProblems.length > 0) return { problems: shapeProblems, warnings: [] };
  const v = parseValues(data);
  const problems = [
    // A.1 Basic VMX information
    ...checkRegionSize(v),
    ...checkTrueMsrsPresence(v),
    // A.2-A.5, A.11 allowed settings of the controls, and which control MSRs exist
    ...checkAllowedZeroImpliesAllowedOne(v),
    ...checkDefault1MustBeOne(v),
    ...checkSecondaryAllowedZeroClear(v),
    ...checkTrueMsrsAgree(v),
    ...checkSecondaryControlsPresence(v),
    ...checkTertiaryControlsPresence(v),
    ...checkSecondaryExitControlsPresence(v),
    ...checkEptVpidCapPresence(v),
    ...checkVmfuncPresence(v),
    // A.6 Miscellaneous data
    ...checkMiscStoresLmaWithUnrestrictedGuest(v),
    ...checkCr3TargetCount(v),
    // A.7, A.8 fixed bits of CR0 and CR4
    ...checkFixedBitsConsistent(v),
    ...checkCr4FixedVmxe(v),
    ...checkInitialStateAllowed(v),
  ];
  const warnings = [
    // A.1 Basic VMX information
    ...checkRevisionIdBit31(v),
    ...checkBasicReservedBits(v),
    ...checkAddressWidthBit(v),
    ...checkMemoryType(v),
    // A.2-A.5 controls this project does not know yet
    ...checkUnknownControls(v),
    // A.6 Miscellaneous data
    ...checkMiscReservedBits(v),
    ...checkCr3TargetFieldsKnown(v),
    // A.9 VMCS enumeration
    ...checkVmcsEnumReservedBits(v),
    ...checkVmcsEnumCoversFields(v),
    // A.10 EPT and VPID capabilities
    ...checkInveptInvvpidTypes(v),
  ];
  return { problems, warnings };
}

/** The problems of `data` (see {@link checkProfile}); empty when the profile is usable. */
export function validateProfile(data: ProfileData): string[] {
  return checkProfile(data).problems;
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
