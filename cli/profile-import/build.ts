/**
 * From a dump's MSR values to profile data: which optional MSRs exist follows from the others
 * (the existence rules of SDM Vol. 3D, December 2023, Appendix A, as spec/profile-rules/ checks
 * them); an MSR that exists but the dump lacks is inferred where a safe value follows from the
 * SDM, and one the dump gives though it does not exist is dropped. Every such decision is listed
 * in `notes` (and the profile's `inferred` and `notes`), so nothing happens silently.
 */
import { fromTwoHalves, mayBeOne, usesTrueControls } from '../../spec/allowed-settings.ts';
import { describeMsr, MSR, type CapabilityMsrName } from '../../spec/capability-msrs.ts';
import { EXIT_CONTROL, PRIMARY_CONTROL, SECONDARY_CONTROL } from '../../spec/control-bits.ts';
import { toHex } from '../../spec/hex.ts';
import type { ProfileData, VmxCapabilityMsrs } from '../../spec/profile-data.ts';
import { REQUIRED_MSRS } from '../../spec/profile-validation.ts';
import { DumpError, msrLabel, type MsrDump } from './dump.ts';

/** What the user said besides the dump. */
export interface BuildOptions {
  name: string;
  description: string;
  /** Where the dump came from, for the profile's `source`. */
  source: string;
  /** `--physical-address-width`, which wins over the dump's CPUID.80000008H. */
  physicalAddressWidth?: number;
}

/** The profile data and what a person should know about how it was made. */
export interface BuiltProfile {
  data: ProfileData;
  /** One line per MSR inferred, dropped or defaulted, and the dump's own remarks. */
  notes: string[];
}

/** MAXPHYADDR when neither the dump nor the user gives it (the SDM's value without leaf 80000008H). */
export const DEFAULT_PHYSICAL_ADDRESS_WIDTH = 36;
/** IA32_FEATURE_CONTROL when the dump lacks it: locked, VMXON allowed outside SMX. */
const DEFAULT_FEATURE_CONTROL = 0x5n;

/** Builds profile data from `dump`; throws a {@link DumpError} when a required MSR is missing. */
export function buildProfile(dump: MsrDump, options: BuildOptions): BuiltProfile {
  const given = [...dump.msrs.keys()].sort((a, b) => a - b).map(msrLabel);
  const notes = [`the dump gives MSRs ${given.length > 0 ? given.join(', ') : '(none)'}`, ...dump.remarks];
  const inferred: string[] = [];
  const get = (name: CapabilityMsrName): bigint | undefined => dump.msrs.get(MSR[name]);

  const missing = REQUIRED_MSRS.filter((name) => get(name) === undefined);
  if (missing.length > 0) {
    throw new DumpError(0, `the dump lacks ${missing.map(describeMsr).join(', ')}, which every VMX processor has`);
  }
  const msrs: Partial<Record<CapabilityMsrName, bigint>> = {};
  for (const name of REQUIRED_MSRS) msrs[name] = get(name);

  /** Takes an optional MSR that exists iff `exists`, inferring `fallback` when the dump lacks it. */
  const optional = (name: CapabilityMsrName, exists: boolean, because: string, fallback: () => [bigint, string]): void => {
    const value = get(name);
    if (!exists) {
      if (value !== undefined) notes.push(`${describeMsr(name)} is in the dump but does not exist (${because} is false); dropped`);
      return;
    }
    if (value !== undefined) {
      msrs[name] = value;
      return;
    }
    const [guess, why] = fallback();
    msrs[name] = guess;
    inferred.push(name);
    notes.push(`${describeMsr(name)} is missing from the dump but exists (${because}); inferred ${toHex(guess)}: ${why}`);
  };

  const basic = msrs.IA32_VMX_BASIC as bigint;
  const trueControls = usesTrueControls(basic);
  const pairs = [
    ['IA32_VMX_TRUE_PINBASED_CTLS', 'IA32_VMX_PINBASED_CTLS'],
    ['IA32_VMX_TRUE_PROCBASED_CTLS', 'IA32_VMX_PROCBASED_CTLS'],
    ['IA32_VMX_TRUE_EXIT_CTLS', 'IA32_VMX_EXIT_CTLS'],
    ['IA32_VMX_TRUE_ENTRY_CTLS', 'IA32_VMX_ENTRY_CTLS'],
  ] as const;
  for (const [trueName, plainName] of pairs) {
    optional(trueName, trueControls, 'IA32_VMX_BASIC[55] = 1', () => [
      msrs[plainName] as bigint,
      `a copy of ${describeMsr(plainName)}, which allows the same controls to be 1 and, not knowing which default1 ` +
        'controls may be 0, keeps them all must-be-1',
    ]);
  }
  const primary = fromTwoHalves(trueControls ? msrs.IA32_VMX_TRUE_PROCBASED_CTLS : msrs.IA32_VMX_PROCBASED_CTLS);
  const exit = fromTwoHalves(trueControls ? msrs.IA32_VMX_TRUE_EXIT_CTLS : msrs.IA32_VMX_EXIT_CTLS);
  const none = (what: string) => (): [bigint, string] => [0n, `no ${what} may be 1, since the dump does not say which may`];

  optional('IA32_VMX_PROCBASED_CTLS2', mayBeOne(primary, PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS), '"activate secondary controls" may be 1', none('secondary control'));
  const secondary = fromTwoHalves(msrs.IA32_VMX_PROCBASED_CTLS2);
  const eptOrVpid = mayBeOne(secondary, SECONDARY_CONTROL.ENABLE_EPT) || mayBeOne(secondary, SECONDARY_CONTROL.ENABLE_VPID);
  optional('IA32_VMX_EPT_VPID_CAP', eptOrVpid, '"enable EPT" or "enable VPID" may be 1', () => [
    0n,
    'no EPT or VPID capability, so INVEPT and INVVPID cause #UD; give the real value if you have it',
  ]);
  optional('IA32_VMX_VMFUNC', mayBeOne(secondary, SECONDARY_CONTROL.ENABLE_VM_FUNCTIONS), '"enable VM functions" may be 1', () => [
    1n,
    'EPTP switching (bit 0), the one VM function the December 2023 SDM defines',
  ]);
  optional('IA32_VMX_PROCBASED_CTLS3', mayBeOne(primary, PRIMARY_CONTROL.ACTIVATE_TERTIARY_CONTROLS), '"activate tertiary controls" may be 1', none('tertiary control'));
  optional('IA32_VMX_EXIT_CTLS2', mayBeOne(exit, EXIT_CONTROL.ACTIVATE_SECONDARY_CONTROLS), 'the "activate secondary controls" VM-exit control may be 1', none('secondary VM-exit control'));

  let featureControl = dump.msrs.get(MSR.IA32_FEATURE_CONTROL);
  if (featureControl === undefined) {
    featureControl = DEFAULT_FEATURE_CONTROL;
    inferred.push('featureControl');
    notes.push(`${describeMsr('IA32_FEATURE_CONTROL')} is missing from the dump; assumed 0x5 (locked, VMXON outside SMX), what firmware usually leaves`);
  }

  const physicalAddressWidth = addressWidth(dump, options, notes, inferred);
  const data: ProfileData = {
    name: options.name,
    description: options.description,
    physicalAddressWidth,
    featureControl: toHex(featureControl),
    msrs: Object.fromEntries(
      Object.entries(msrs)
        .sort(([a], [b]) => MSR[a as CapabilityMsrName] - MSR[b as CapabilityMsrName])
        .map(([k, v]) => [k, toHex(v as bigint)]),
    ) as unknown as VmxCapabilityMsrs,
    source: options.source,
  };
  if (inferred.length > 0) data.inferred = inferred;
  if (notes.length > 0) data.notes = notes.join(' ');
  return { data, notes };
}

/** MAXPHYADDR: the option, else the dump's CPUID.80000008H:EAX[7:0], else the default (noted). */
function addressWidth(dump: MsrDump, options: BuildOptions, notes: string[], inferred: string[]): number {
  const fromDump = dump.cpuid80000008Eax === undefined ? undefined : dump.cpuid80000008Eax & 0xff;
  if (options.physicalAddressWidth !== undefined) {
    if (fromDump !== undefined && fromDump !== options.physicalAddressWidth) {
      notes.push(`--physical-address-width ${options.physicalAddressWidth} used instead of the dump's CPUID.80000008H:EAX[7:0] = ${fromDump}`);
    }
    return options.physicalAddressWidth;
  }
  if (fromDump !== undefined) return fromDump;
  inferred.push('physicalAddressWidth');
  notes.push(
    `the dump has no CPUID.80000008H; MAXPHYADDR assumed ${DEFAULT_PHYSICAL_ADDRESS_WIDTH} ` +
      '(give the real one with --physical-address-width <n>)',
  );
  return DEFAULT_PHYSICAL_ADDRESS_WIDTH;
}
