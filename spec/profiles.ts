/**
 * The named processor profiles and loading profiles from JSON.
 *
 * - `core2`: an early VMX processor: no secondary controls, no TRUE MSRs, VMWRITE cannot write
 *   VM-exit information fields (IA32_VMX_MISC[29] = 0).
 * - `skylake`: a Skylake-server-class processor: EPT, VPID, unrestricted guest, VMCS shadowing,
 *   VM functions with EPTP switching, TRUE MSRs, IA32_VMX_MISC[29] = 1.
 * - `maximal`: not a real processor: every control this project models may be 1.
 * - every `spec/profiles/real/*.json`: a real part, named by its `name` property, with the MSR
 *   values it reports (`source` says where they come from, `inferred` which were not read).
 *
 * The first three files' MSR values are modelled on values real processors of that class
 * report; the real parts' are what those parts report, accepted as they are (with warnings where
 * the December 2023 SDM or this project does not expect them; see `checkProfile`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createProfile, ProfileError } from './profile.ts';
import type { Profile } from './profile.ts';
import type { ProfileData } from './profile-data.ts';
import core2 from './profiles/core2.json' with { type: 'json' };
import maximal from './profiles/maximal.json' with { type: 'json' };
import skylake from './profiles/skylake.json' with { type: 'json' };

/** The directory of the real parts' profile files. */
export const REAL_PROFILE_DIR = new URL('./profiles/real/', import.meta.url);

/** One real part's profile file: its name (from the file) and where it lives. */
export interface RealProfileFile {
  name: string;
  /** Path relative to the repository, for messages: `spec/profiles/real/<file>`. */
  path: string;
  data: unknown;
}

/**
 * Every `*.json` in spec/profiles/real, sorted by file name. A file that is not JSON, or has no
 * string `name`, is still listed (named after the file) so that loading it reports the problem.
 */
export function readRealProfileFiles(dir: URL = REAL_PROFILE_DIR): RealProfileFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const path = `spec/profiles/real/${file}`;
      const text = readFileSync(new URL(file, dir), 'utf8');
      let data: unknown = text;
      try {
        data = JSON.parse(text);
      } catch {
        // Left as text: profileFromJson reports it as not valid JSON.
      }
      const named = typeof data === 'object' && data !== null && typeof (data as { name?: unknown }).name === 'string';
      const name = named ? (data as { name: string }).name : file.replace(/\.json$/, '');
      return { name, path, data };
    });
}

const BUILT_IN: Readonly<Record<string, unknown>> = { core2, skylake, maximal };
const REAL = readRealProfileFiles().filter((file) => !Object.hasOwn(BUILT_IN, file.name));

/** Raw data of every named profile, by name: the three built-in ones, then the real parts. */
export const PROFILE_DATA: Readonly<Record<string, unknown>> = {
  ...BUILT_IN,
  ...Object.fromEntries(REAL.map((file) => [file.name, file.data])),
};

/** Where each named profile's data lives, for messages. */
const PROFILE_PATHS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.keys(PROFILE_DATA).map((name) => [name, REAL.find((f) => f.name === name)?.path ?? `spec/profiles/${name}.json`]),
);

/** Names of the built-in profiles, oldest processor first. */
export const BUILT_IN_PROFILE_NAMES: readonly string[] = ['core2', 'skylake', 'maximal'];

/** Names of the real parts' profiles (spec/profiles/real), by file name. */
export const REAL_PROFILE_NAMES: readonly string[] = REAL.map((file) => file.name);

/** Names of every named profile: the built-in ones, then the real parts. */
export const PROFILE_NAMES: readonly string[] = [...BUILT_IN_PROFILE_NAMES, ...REAL_PROFILE_NAMES];

/**
 * The named profile `name`, validated. Throws an `Error` listing the known names when there is
 * no such profile.
 */
export function loadProfile(name: string): Profile {
  const data = Object.hasOwn(PROFILE_DATA, name) ? PROFILE_DATA[name] : undefined;
  if (data === undefined) {
    throw new Error(`unknown profile ${JSON.stringify(name)}; known profiles: ${PROFILE_NAMES.join(', ')}`);
  }
  return profileFromJson(data, PROFILE_PATHS[name] ?? name);
}

/**
 * A profile from JSON text or an already-parsed value, validated. `sourceName` (a file name, say)
 * appears in error messages. Throws a {@link ProfileError} saying what is missing, malformed or
 * inconsistent; warnings are on the returned profile.
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
