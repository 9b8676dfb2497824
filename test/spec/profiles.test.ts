import { describe, expect, it } from 'vitest';
import { ProfileError, validateProfile } from '../../spec/profile.ts';
import type { ProfileData } from '../../spec/profile-data.ts';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BUILT_IN_PROFILE_NAMES,
  loadProfile,
  PROFILE_DATA,
  PROFILE_NAMES,
  profileFromJson,
  readRealProfileFiles,
  REAL_PROFILE_NAMES,
} from '../../spec/profiles.ts';

describe('named profiles', () => {
  it('are core2, skylake and maximal first, then the real parts, and each passes validateProfile', () => {
    expect(PROFILE_NAMES.slice(0, 3)).toEqual(['core2', 'skylake', 'maximal']);
    expect(PROFILE_NAMES.slice(3)).toEqual(REAL_PROFILE_NAMES);
    for (const name of PROFILE_NAMES) {
      expect(validateProfile(PROFILE_DATA[name] as ProfileData), name).toEqual([]);
      expect(loadProfile(name).name).toBe(name);
    }
  });

  it('have different VMCS revision identifiers (the built-in ones)', () => {
    const ids = BUILT_IN_PROFILE_NAMES.map((name) => loadProfile(name).revisionId);
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
    expect(() => loadProfile('zen4')).toThrow(`unknown profile "zen4"; known profiles: ${PROFILE_NAMES.join(', ')}`);
    expect(() => loadProfile('zen4')).toThrow(/known profiles: core2, skylake, maximal/);
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

describe('real parts (spec/profiles/real and test/fixtures/real-profiles)', () => {
  const fixtures = readRealProfileFiles(new URL('../fixtures/real-profiles/', import.meta.url));

  it('are each accepted, named uniquely and after their file', () => {
    expect(new Set(REAL_PROFILE_NAMES).size).toBe(REAL_PROFILE_NAMES.length);
    for (const name of REAL_PROFILE_NAMES) expect(loadProfile(name).name).toBe(name);
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
    for (const file of fixtures) {
      expect(file.path.endsWith(`/${file.name}.json`), file.path).toBe(true);
      expect(() => profileFromJson(file.data, file.path), file.name).not.toThrow();
    }
  });

  it('keep what the December 2023 SDM or this project does not expect as warnings', () => {
    const warnings = (name: string): string => {
      const file = fixtures.find((f) => f.name === name);
      return file === undefined ? '' : profileFromJson(file.data, file.path).warnings.join('\n');
    };
    expect(warnings('core2-conroe-x6800')).toMatch(/IA32_VMX_MISC \(485H\): bit 9 set/);
    expect(warnings('sandy-bridge-i5-2320')).toMatch(/IA32_VMX_VMCS_ENUM \(48AH\): bits 9:1 report 21/);
    expect(warnings('alder-lake-i9-12900k')).toMatch(/IA32_VMX_BASIC \(480H\): bit 57/);
    expect(warnings('ice-lake-i7-1065g7')).toMatch(/Secondary processor-based VM-execution controls: .* control bit 29/);
  });

  it('are read from a directory: non-JSON files are skipped, a file without a name is named after the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'real-profiles-'));
    writeFileSync(join(dir, 'b.json'), JSON.stringify(PROFILE_DATA.core2));
    writeFileSync(join(dir, 'a.json'), '{ "description": ');
    writeFileSync(join(dir, 'README.md'), '# not a profile');
    const files = readRealProfileFiles(pathToFileURL(`${dir}/`));
    expect(readdirSync(dir)).toHaveLength(3);
    expect(files.map((f) => [f.name, f.path])).toEqual([
      ['a', 'spec/profiles/real/a.json'],
      ['core2', 'spec/profiles/real/b.json'],
    ]);
    expect(() => profileFromJson(files[0]?.data, 'a.json')).toThrow(/not valid JSON/);
    expect(readRealProfileFiles(pathToFileURL(join(dir, 'missing/')))).toEqual([]);
  });
});
