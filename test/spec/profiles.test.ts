import { describe, expect, it } from 'vitest';
import { ProfileError, validateProfile } from '../../spec/profile.ts';
import type { ProfileData } from '../../spec/profile-data.ts';
import { loadProfile, PROFILE_DATA, PROFILE_NAMES, profileFromJson } from '../../spec/profiles.ts';

describe('named profiles', () => {
  it('are core2, skylake and maximal, and each passes validateProfile', () => {
    expect(PROFILE_NAMES).toEqual(['core2', 'skylake', 'maximal']);
    for (const name of PROFILE_NAMES) {
      expect(validateProfile(PROFILE_DATA[name] as ProfileData), name).toEqual([]);
      expect(loadProfile(name).name).toBe(name);
    }
  });

  it('have different VMCS revision identifiers', () => {
    const ids = PROFILE_NAMES.map((name) => loadProfile(name).revisionId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('core2 has no secondary controls, no TRUE MSRs and IA32_VMX_MISC[29] = 0', () => {
    const core2 = loadProfile('core2');
    expect(core2.supportsControl('primary', 31)).toBe(false);
    expect(core2.trueControls).toBe(false);
    expect(core2.vmwriteAnyField).toBe(false);
  });

  it('skylake has EPT, VPID, VMCS shadowing, unrestricted guest, EPTP switching and the INVEPT/INVVPID types', () => {
    const skylake = loadProfile('skylake');
    for (const bit of [1, 5, 7, 13, 14]) expect(skylake.supportsControl('secondary', bit)).toBe(true);
    expect(skylake.supportsControl('vmfunc', 0)).toBe(true);
    expect(skylake.trueControls).toBe(true);
    expect(skylake.vmwriteAnyField).toBe(true);
    const cap = skylake.eptVpidCap;
    for (const bit of [20, 25, 26, 32, 40, 41, 42, 43]) expect((cap >> BigInt(bit)) & 1n).toBe(1n);
  });

  it('maximal allows tertiary and secondary VM-exit controls', () => {
    const maximal = loadProfile('maximal');
    expect(maximal.supportsControl('primary', 17)).toBe(true);
    expect(maximal.supportsControl('exit', 31)).toBe(true);
    expect(maximal.data.msrs.IA32_VMX_EXIT_CTLS2).toBeDefined();
  });
});

describe('loadProfile', () => {
  it('names the known profiles when asked for an unknown one', () => {
    expect(() => loadProfile('zen4')).toThrow('unknown profile "zen4"; known profiles: core2, skylake, maximal');
    expect(() => loadProfile('toString')).toThrow(/unknown profile/);
  });
});

describe('profileFromJson', () => {
  it('accepts JSON text and parsed values', () => {
    const text = JSON.stringify(PROFILE_DATA.skylake);
    expect(profileFromJson(text, 'sky.json').revisionId).toBe(4);
    expect(profileFromJson(JSON.parse(text), 'sky.json').revisionId).toBe(4);
  });

  it('says when the text is not JSON', () => {
    expect(() => profileFromJson('{ "name": ', 'broken.json')).toThrow(/"broken.json" has 1 problem\(s\):\n {2}- not valid JSON/);
  });

  it('says when the value is not an object', () => {
    for (const value of ['[]', '3', 'null']) {
      expect(() => profileFromJson(value, 'odd.json')).toThrow(/expected a JSON object with name, description/);
    }
  });

  it('says which field is missing or wrong, under the source name', () => {
    const data = structuredClone(PROFILE_DATA.core2) as Record<string, unknown>;
    delete data.featureControl;
    try {
      profileFromJson(data, 'mine.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileError);
      expect((error as Error).message).toContain('"mine.json"');
      expect((error as ProfileError).problems).toEqual([
        'featureControl (IA32_FEATURE_CONTROL, 3AH) is undefined; write it as a hexadecimal string such as "0x5"',
      ]);
    }
  });
});
