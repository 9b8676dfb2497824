/**
 * Resolves the profile a run or a case names: a built-in profile name, a JSON file of
 * ProfileData, or ProfileData embedded in a case file. Every problem becomes a UsageError.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Profile } from '../spec/profile.ts';
import type { ProfileData } from '../spec/profile-data.ts';
import { PROFILE_NAMES, loadProfile, profileFromJson } from '../spec/profiles.ts';
import { UsageError } from './usage-error.ts';

/** A resolved profile and how a saved case should refer to it. */
export interface ResolvedProfile {
  profile: Profile;
  /** A built-in name, or the data itself for profiles read from files. */
  ref: string | ProfileData;
}

/** Resolves `--profile` or a case's `profile` member. */
export function resolveProfile(source: string | ProfileData, from = '--profile'): ResolvedProfile {
  try {
    if (typeof source !== 'string') return { profile: profileFromJson(source, from), ref: source };
    if ((PROFILE_NAMES as readonly string[]).includes(source)) return { profile: loadProfile(source), ref: source };
    if (existsSync(source)) {
      const profile = profileFromJson(readFileSync(source, 'utf8'), source);
      return { profile, ref: profile.data };
    }
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  throw new UsageError(`unknown profile "${source}" (${from}): use one of ${PROFILE_NAMES.join(', ')}, or the path of a profile JSON file`);
}

/**
 * The profile's warnings (what validation accepted but a person should know) as lines for
 * standard error; '' when there are none.
 */
export function profileWarningsText(profile: Profile): string {
  return profile.warnings.map((w) => `vmx-conformance: profile ${profile.name}: warning: ${w}\n`).join('');
}
