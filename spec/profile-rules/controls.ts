/**
 * Profile rules: allowed settings of the controls, and which control MSRs exist.
 *
 * Source: SDM Vol. 3D, December 2023, Appendix A.2 "Reserved Controls and Default Settings", A.3
 * "VM-Execution Controls", A.4 "VM-Exit Controls", A.5 "VM-Entry Controls", A.10 "VPID and EPT
 * Capabilities" and A.11 "VM Functions". Problems and warnings: see spec/profile-validation.ts.
 */
import { fromTwoHalves, mayBeOne } from '../allowed-settings.ts';
import { describeMsr } from '../capability-msrs.ts';
import { EXIT_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../control-bits.ts';
import { CONTROL_SETS, CONTROL_SET_NAMES, knownControlMask } from '../controls.ts';
import { toHex } from '../hex.ts';
import type { ControlSet } from '../profile.ts';
import { OPTIONAL_MSRS, TRUE_MSRS, controls, describeBitRanges, describeBits, them } from './values.ts';
import type { Values } from './values.ts';

/** The MSRs with an allowed-0 half and an allowed-1 half. */
const TWO_HALF_MSRS = [
  'IA32_VMX_PINBASED_CTLS',
  'IA32_VMX_PROCBASED_CTLS',
  'IA32_VMX_EXIT_CTLS',
  'IA32_VMX_ENTRY_CTLS',
  'IA32_VMX_PROCBASED_CTLS2',
  ...TRUE_MSRS,
] as const;

/** The control set each two-half MSR describes. */
const SET_OF: Record<(typeof TWO_HALF_MSRS)[number], ControlSet> = {
  IA32_VMX_PINBASED_CTLS: 'pin',
  IA32_VMX_PROCBASED_CTLS: 'primary',
  IA32_VMX_EXIT_CTLS: 'exit',
  IA32_VMX_ENTRY_CTLS: 'entry',
  IA32_VMX_PROCBASED_CTLS2: 'secondary',
  IA32_VMX_TRUE_PINBASED_CTLS: 'pin',
  IA32_VMX_TRUE_PROCBASED_CTLS: 'primary',
  IA32_VMX_TRUE_EXIT_CTLS: 'exit',
  IA32_VMX_TRUE_ENTRY_CTLS: 'entry',
};

/**
 * Problem. A.3-A.5: a control that must be 1 (allowed-0 bit X set) must also be allowed to be 1
 * (bit 32+X set); otherwise no setting of the control passes VM entry.
 */
export function checkAllowedZeroImpliesAllowedOne(v: Values): string[] {
  const problems: string[] = [];
  for (const name of TWO_HALF_MSRS) {
    const { mustBeOne, mayBeOne } = fromTwoHalves(v[name]);
    const contradictory = mustBeOne & ~mayBeOne;
    if (contradictory !== 0n) {
      problems.push(
        `${describeMsr(name)}: controls ${describeBits(contradictory).replace(/^bits? /, '')} must be 1 ` +
          '(allowed-0 half, bits 31:0) but may not be 1 (allowed-1 half, bits 63:32); set the matching ' +
          'bits 32+X or clear bits X',
      );
    }
  }
  return problems;
}

/**
 * Problem. A.2 and A.3-A.5: the non-TRUE MSRs always report the default1 class as must-be-1;
 * with IA32_VMX_BASIC[55] = 0 they are the only report, so a clear bit there would say VM entry
 * accepts a default1 control of 0, which the SDM says it does not.
 */
export function checkDefault1MustBeOne(v: Values): string[] {
  const problems: string[] = [];
  for (const name of ['IA32_VMX_PINBASED_CTLS', 'IA32_VMX_PROCBASED_CTLS', 'IA32_VMX_EXIT_CTLS', 'IA32_VMX_ENTRY_CTLS'] as const) {
    const default1 = CONTROL_SETS[SET_OF[name]].default1;
    const missing = default1 & ~fromTwoHalves(v[name]).mustBeOne;
    if (missing !== 0n) {
      problems.push(
        `${describeMsr(name)}: default1 controls ${describeBits(missing).replace(/^bits? /, '')} are not ` +
          'reported as must-be-1 in the allowed-0 half (bits 31:0); this MSR always reports them as 1 ' +
          '(the TRUE MSR is where they may be 0), so set those bits',
      );
    }
  }
  return problems;
}

/**
 * Problem. A.3.3: bits 31:0 of IA32_VMX_PROCBASED_CTLS2 are always 0 (every secondary control
 * may be 0); a 1 there would make a secondary control mandatory, which the SDM rules out.
 */
export function checkSecondaryAllowedZeroClear(v: Values): string[] {
  const low = fromTwoHalves(v.IA32_VMX_PROCBASED_CTLS2).mustBeOne;
  if (low === 0n) return [];
  return [
    `${describeMsr('IA32_VMX_PROCBASED_CTLS2')}: allowed-0 half (bits 31:0) has ${describeBits(low)} set, but ` +
      `these bits are always 0 (every secondary control may be 0); clear ${them(low)}`,
  ];
}

/**
 * Problem. A.3.1, A.3.2, A.4.1, A.5: a TRUE MSR reports the same allowed-1 settings as its
 * non-TRUE partner, and the same allowed-0 settings except that default1 controls may be 0. Two
 * reports of one control set that disagree leave its allowed settings unknown.
 */
export function checkTrueMsrsAgree(v: Values): string[] {
  const problems: string[] = [];
  const pairs = [
    ['IA32_VMX_PINBASED_CTLS', 'IA32_VMX_TRUE_PINBASED_CTLS'],
    ['IA32_VMX_PROCBASED_CTLS', 'IA32_VMX_TRUE_PROCBASED_CTLS'],
    ['IA32_VMX_EXIT_CTLS', 'IA32_VMX_TRUE_EXIT_CTLS'],
    ['IA32_VMX_ENTRY_CTLS', 'IA32_VMX_TRUE_ENTRY_CTLS'],
  ] as const;
  for (const [plainName, trueName] of pairs) {
    if (v[trueName] === undefined) continue;
    const plain = fromTwoHalves(v[plainName]);
    const truly = fromTwoHalves(v[trueName]);
    const default1 = CONTROL_SETS[SET_OF[plainName]].default1;
    if (plain.mayBeOne !== truly.mayBeOne) {
      problems.push(
        `${describeMsr(trueName)}: allowed-1 half (bits 63:32) is ${toHex(truly.mayBeOne)} but ` +
          `${describeMsr(plainName)} reports ${toHex(plain.mayBeOne)}; the two must agree, so copy bits ` +
          '63:32 from one to the other',
      );
    }
    const extra = truly.mustBeOne & ~plain.mustBeOne;
    if (extra !== 0n) {
      problems.push(
        `${describeMsr(trueName)}: allowed-0 half requires controls ${describeBits(extra).replace(/^bits? /, '')} ` +
          `to be 1 but ${describeMsr(plainName)} does not; the TRUE MSR may only relax the default1 class, ` +
          'so clear those bits in the TRUE MSR',
      );
    }
    const relaxedOutsideDefault1 = plain.mustBeOne & ~truly.mustBeOne & ~default1;
    if (relaxedOutsideDefault1 !== 0n) {
      problems.push(
        `${describeMsr(trueName)}: allows controls ${describeBits(relaxedOutsideDefault1).replace(/^bits? /, '')} ` +
          `to be 0 but ${describeMsr(plainName)} requires them to be 1, and they are not in the default1 ` +
          `class (${describeBits(default1)}); set those bits in the TRUE MSR's allowed-0 half`,
      );
    }
  }
  return problems;
}

/**
 * Warning (project rule). A.2: later processors may give a reserved control a meaning and then
 * allow it to be 0 or 1, so a real part may allow a control this
 * project does not know yet (spec/controls.ts). The profile is accepted: the allowed settings
 * keep the bit, `supportsControl` answers for it, and no VMCS field of the project's depends on
 * it. A case whose outcome would depend on such a control being set in a VMCS is "not modelled":
 * the only place the model reads the control fields is VM entry, which is not modelled past the
 * basic VMLAUNCH/VMRESUME checks (model/instructions/vmlaunch-vmresume.ts). One gap remains: a
 * VMCS field such a control brings has an encoding this project does not know, so the model
 * answers VMREAD/VMWRITE of it as an unsupported field (VMfailValid(12)) where the real part
 * would succeed; the warning says so.
 */
export function checkUnknownControls(v: Values): string[] {
  const settings = controls(v);
  const warnings: string[] = [];
  for (const set of CONTROL_SET_NAMES) {
    const unknownMay = settings[set].mayBeOne & ~knownControlMask(set);
    const unknownMust = settings[set].mustBeOne & ~knownControlMask(set);
    if (unknownMay === 0n) continue;
    warnings.push(
      `${CONTROL_SETS[set].title}: the capability MSRs allow control ${describeBitRanges(unknownMay)} to be 1` +
        (unknownMust !== 0n ? ` (${describeBitRanges(unknownMust)} must be 1)` : '') +
        ', which this project does not know yet (spec/controls.ts); accepted: a case whose outcome depends on ' +
        'setting it in a VMCS is not modelled, and VMREAD/VMWRITE of a field it brings (an encoding this project ' +
        'does not know) is answered as an unsupported field',
    );
  }
  return warnings;
}

/**
 * Reports a present/absent mismatch of an MSR that exists iff `condition`: `because` names the
 * condition, `enable` and `disable` say how to make it true or false.
 */
function presence(
  v: Values,
  name: (typeof OPTIONAL_MSRS)[number],
  condition: boolean,
  because: string,
  enable: string,
  disable: string,
): string[] {
  const present = v[name] !== undefined;
  if (present === condition) return [];
  return present
    ? [`${describeMsr(name)} is given, but it exists only when ${because}; remove it, or ${enable}`]
    : [`${describeMsr(name)} is missing, but it exists because ${because}; give its value, or ${disable}`];
}

/** Problem. A.3.3: IA32_VMX_PROCBASED_CTLS2 exists iff "activate secondary controls" may be 1. */
export function checkSecondaryControlsPresence(v: Values): string[] {
  const bit = PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS;
  return presence(
    v,
    'IA32_VMX_PROCBASED_CTLS2',
    mayBeOne(controls(v).primary, bit),
    `"activate secondary controls" may be 1 (primary control ${bit}, ${describeMsr('IA32_VMX_PROCBASED_CTLS')} bit 63)`,
    'set that allowed-1 bit',
    'clear that allowed-1 bit',
  );
}

/** Problem. A.3.4: IA32_VMX_PROCBASED_CTLS3 exists iff "activate tertiary controls" may be 1. */
export function checkTertiaryControlsPresence(v: Values): string[] {
  const bit = PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS;
  return presence(
    v,
    'IA32_VMX_PROCBASED_CTLS3',
    mayBeOne(controls(v).primary, bit),
    `"activate tertiary controls" may be 1 (primary control ${bit}, ${describeMsr('IA32_VMX_PROCBASED_CTLS')} bit 49)`,
    'set that allowed-1 bit',
    'clear that allowed-1 bit',
  );
}

/** Problem. A.4.2: IA32_VMX_EXIT_CTLS2 exists iff the "activate secondary controls" VM-exit control may be 1. */
export function checkSecondaryExitControlsPresence(v: Values): string[] {
  const bit = EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS;
  return presence(
    v,
    'IA32_VMX_EXIT_CTLS2',
    mayBeOne(controls(v).exit, bit),
    `the "activate secondary controls" VM-exit control may be 1 (exit control ${bit}, ${describeMsr('IA32_VMX_EXIT_CTLS')} bit 63)`,
    'set that allowed-1 bit',
    'clear that allowed-1 bit',
  );
}

/** Problem. A.10: IA32_VMX_EPT_VPID_CAP exists iff "enable EPT" or "enable VPID" may be 1. */
export function checkEptVpidCapPresence(v: Values): string[] {
  const secondary = controls(v).secondary;
  return presence(
    v,
    'IA32_VMX_EPT_VPID_CAP',
    mayBeOne(secondary, SECONDARY_CONTROL.ENABLE_EPT) || mayBeOne(secondary, SECONDARY_CONTROL.ENABLE_VPID),
    `"enable EPT" or "enable VPID" may be 1 (secondary controls 1 and 5, ${describeMsr('IA32_VMX_PROCBASED_CTLS2')} bits 33 and 37)`,
    'set one of those allowed-1 bits',
    'clear both allowed-1 bits',
  );
}

/** Problem. A.11: IA32_VMX_VMFUNC exists iff "enable VM functions" may be 1. */
export function checkVmfuncPresence(v: Values): string[] {
  return presence(
    v,
    'IA32_VMX_VMFUNC',
    mayBeOne(controls(v).secondary, SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS),
    `"enable VM functions" may be 1 (secondary control 13, ${describeMsr('IA32_VMX_PROCBASED_CTLS2')} bit 45)`,
    'set that allowed-1 bit',
    'clear that allowed-1 bit',
  );
}
