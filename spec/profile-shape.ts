/**
 * The shape of profile data: which properties a profile file has, and that each value is well
 * formed (hex strings where the MSRs are, a MAXPHYADDR in range). Every message here is a
 * problem: the other rules cannot read a value that is missing or malformed.
 *
 * Sources: SDM Vol. 3D, December 2023, Appendix A "VMX Capability Reporting Facility" (which MSRs
 * every VMX processor has); Vol. 2A, CPUID leaf 80000008H (MAXPHYADDR, at most 52).
 */
import { describeMsr } from './capability-msrs.ts';
import { isHex } from './hex.ts';
import type { ProfileData } from './profile-data.ts';
import { CPUID_FEATURES } from './profile-data.ts';
import { OPTIONAL_MSRS, REQUIRED_MSRS } from './profile-rules/values.ts';

/** Properties a profile may have; the last five are optional. */
export const PROFILE_KEYS: readonly string[] = [
  'name',
  'description',
  'physicalAddressWidth',
  'featureControl',
  'msrs',
  'source',
  'inferred',
  'notes',
  'cr4Supported',
  'cpuid',
];

/** Names `inferred` may list besides MSR names. */
const INFERABLE_FACTS: readonly string[] = ['featureControl', 'physicalAddressWidth', 'cr4Supported'];

/** Every shape problem of `data`: unknown keys, missing or malformed values. */
export function checkShape(data: ProfileData): string[] {
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
  problems.push(...checkOptionalKeys(data));
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

/** `source`, `notes`, `inferred` (for people, no semantics) and `cr4Supported` (for MOV to CR4): optional. */
function checkOptionalKeys(data: ProfileData): string[] {
  const problems: string[] = [];
  for (const key of ['source', 'notes'] as const) {
    if (data[key] !== undefined && typeof data[key] !== 'string') {
      problems.push(`${key} is ${JSON.stringify(data[key])}; write it as a string (it is for people and has no effect)`);
    }
  }
  const inferred: unknown = data.inferred;
  const inferable: readonly string[] = [...REQUIRED_MSRS, ...OPTIONAL_MSRS, ...INFERABLE_FACTS];
  if (inferred !== undefined) {
    if (!Array.isArray(inferred) || inferred.some((n) => typeof n !== 'string')) {
      problems.push(`inferred is ${JSON.stringify(inferred)}; write it as a list of MSR names, for example ["IA32_VMX_TRUE_ENTRY_CTLS"]`);
    } else {
      for (const name of inferred as string[]) {
        if (!inferable.includes(name)) {
          problems.push(`inferred lists ${JSON.stringify(name)}, which is neither an MSR of msrs nor one of ${INFERABLE_FACTS.join(', ')}`);
        }
      }
    }
  }
  if (data.cr4Supported !== undefined && !isHex(data.cr4Supported)) {
    problems.push(`cr4Supported is ${JSON.stringify(data.cr4Supported)}; write the supported CR4 bits as a hexadecimal string`);
  }
  problems.push(...checkCpuidFlags(data.cpuid));
  return problems;
}

/** `cpuid`: an object of booleans named in {@link CPUID_FEATURES}. */
function checkCpuidFlags(cpuid: unknown): string[] {
  if (cpuid === undefined) return [];
  if (typeof cpuid !== 'object' || cpuid === null || Array.isArray(cpuid)) {
    return [`cpuid is ${JSON.stringify(cpuid)}; write it as an object of feature flags, for example {"rdrand": true}`];
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(cpuid)) {
    if (!(CPUID_FEATURES as readonly string[]).includes(key)) {
      problems.push(`cpuid.${key} is not a feature flag the profile knows; remove it (flags: ${CPUID_FEATURES.join(', ')})`);
    } else if (typeof value !== 'boolean') {
      problems.push(`cpuid.${key} is ${JSON.stringify(value)}; write true or false`);
    }
  }
  return problems;
}
