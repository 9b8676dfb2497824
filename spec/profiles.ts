/**
 * The named processor profiles (data in spec/profiles/*.json) and loading profiles from JSON.
 *
 * - `core2`: an early VMX processor: no secondary controls, no TRUE MSRs, VMWRITE cannot write
 *   VM-exit information fields (IA32_VMX_MISC[29] = 0).
 * - `skylake`: a Skylake-server-class processor: EPT, VPID, unrestricted guest, VMCS shadowing,
 *   VM functions with EPTP switching, TRUE MSRs, IA32_VMX_MISC[29] = 1.
 * - `maximal`: not a real processor: every control this project models may be 1.
 *
 * Each file's MSR values are modelled on values real processors of that class report, adjusted
 * where this project's consistency rules require it (see `validateProfile`).
 */
import { createProfile, ProfileError } from './profile.ts';
import type { Profile } from './profile.ts';
import type { ProfileData } from './profile-data.ts';
import core2 from './profiles/core2.json' with { type: 'json' };
import maximal from './profiles/maximal.json' with { type: 'json' };
import skylake from './profiles/skylake.json' with { type: 'json' };

/** Raw data of every named profile, by name. */
export const PROFILE_DATA: Readonly<Record<string, unknown>> = { core2, skylake, maximal };

/** Names of the named profiles, oldest processor first. */
export const PROFILE_NAMES: readonly string[] = ['core2', 'skylake', 'maximal'];

/**
 * The named profile `name`, validated. Throws an `Error` listing the known names when there is
 * no such profile.
 */
export function loadProfile(name: string): Profile {
  const data = Object.hasOwn(PROFILE_DATA, name) ? PROFILE_DATA[name] : undefined;
  if (data === undefined) {
    throw new Error(`unknown profile ${JSON.stringify(name)}; known profiles: ${PROFILE_NAMES.join(', ')}`);
  }
  return profileFromJson(data, `spec/profiles/${name}.json`);
}

/**
 * A profile from JSON text or an already-parsed value, validated. `sourceName` (a file name, say)
 * appears in error messages. Throws a {@link ProfileError} saying what is missing, malformed or
 * inconsistent.
 */
export function profileFromJson(input: string | unknown, sourceName: string): Profile {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new ProfileError(sourceName, [`not valid JSON: ${(error as Error).message}`]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProfileError(sourceName, [
      'expected a JSON object with name, description, physicalAddressWidth, featureControl and msrs',
    ]);
  }
  try {
    return createProfile(value as ProfileData);
  } catch (error) {
    if (error instanceof ProfileError) throw new ProfileError(sourceName, error.problems);
    throw error;
  }
}
