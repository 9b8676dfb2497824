/**
 * The differential suite on every real part's profile: whatever spec/profiles/real holds at test
 * time, plus the few real-part files kept in test/fixtures/real-profiles (so the test has real
 * data even where that directory is empty). Short runs with a fixed seed: about 2,500 sequences
 * in all, shared between the profiles (at least 50 and at most 300 each).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { runSuite } from '../../properties/suite.ts';
import { createProfile, type Profile } from '../../spec/profile.ts';
import type { ProfileData } from '../../spec/profile-data.ts';
import { loadProfile, PROFILE_DATA, profileFromJson, REAL_PROFILE_NAMES } from '../../spec/profiles.ts';
import { explain } from './differential-helpers.ts';

const FIXTURES = new URL('../fixtures/real-profiles/', import.meta.url);

/** Every real part to run: shipped ones by name, then fixtures not shipped under the same name. */
function realProfiles(): Profile[] {
  const shipped = REAL_PROFILE_NAMES.map((name) => loadProfile(name));
  const fixtures = readdirSync(FIXTURES)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => profileFromJson(readFileSync(new URL(file, FIXTURES), 'utf8'), `test/fixtures/real-profiles/${file}`))
    .filter((profile) => !REAL_PROFILE_NAMES.includes(profile.name));
  return [...shipped, ...fixtures];
}

describe('our emulator conforms to the model on every real part', () => {
  const profiles = realProfiles();
  const runs = Math.min(300, Math.max(50, Math.floor(2_500 / profiles.length)));
  const seed = 20261201;

  it(`has real parts to run (${profiles.length})`, () => {
    expect(profiles.length).toBeGreaterThanOrEqual(5);
  });

  it.each(profiles.map((p) => [p.name, p] as const))('on %s', (_name, profile) => {
    const result = runSuite({
      factory: createImplEngine,
      engineName: 'impl',
      profile,
      profileRef: profile.data,
      seed,
      runs,
      maxSteps: 40,
      logicalProcessors: 2,
      metamorphicRuns: 5,
    });
    expect(explain(result)).toBe('');
    expect(result.stats.cases).toBe(runs);
  });
});

/**
 * Everything the validator accepts with a warning at once: every control bit of every set may be
 * 1 (unknown ones too; unknown pin control 31 and entry controls 23, 24 must be 1), every reserved
 * bit of IA32_VMX_BASIC, IA32_VMX_MISC and IA32_VMX_VMCS_ENUM set, bit 48 (32-bit VMX addresses),
 * 256 CR3-target values, INVEPT types without INVEPT.
 */
function everythingAllowed(): ProfileData {
  const data = structuredClone(PROFILE_DATA.maximal) as ProfileData;
  data.name = 'everything-allowed';
  Object.assign(data.msrs, {
    IA32_VMX_BASIC: '0xffdb1000ffffffff',
    IA32_VMX_PINBASED_CTLS: '0xffffffff80000016',
    IA32_VMX_TRUE_PINBASED_CTLS: '0xffffffff80000000',
    IA32_VMX_PROCBASED_CTLS: '0xfffffffe0401e172',
    IA32_VMX_TRUE_PROCBASED_CTLS: '0xfffffffe00000000',
    IA32_VMX_EXIT_CTLS: '0xffffffff00036dff',
    IA32_VMX_TRUE_EXIT_CTLS: '0xffffffff00000000',
    IA32_VMX_ENTRY_CTLS: '0xffffffff018011ff',
    IA32_VMX_TRUE_ENTRY_CTLS: '0xffffffff01800000',
    IA32_VMX_PROCBASED_CTLS2: '0xffffffff00000000',
    IA32_VMX_PROCBASED_CTLS3: '0xffffffffffffffff',
    IA32_VMX_EXIT_CTLS2: '0xffffffffffffffff',
    IA32_VMX_VMFUNC: '0xffffffffffffffff',
    IA32_VMX_MISC: '0xffffffff7100ffff',
    IA32_VMX_VMCS_ENUM: '0xffffffffffffffff',
    IA32_VMX_EPT_VPID_CAP: '0xfffffeffffefffff',
  });
  return data;
}

describe('our emulator and the model on a profile with every warning at once', () => {
  it('accept it, neither crashes, and they agree over 300 sequences', () => {
    const profile = createProfile(everythingAllowed());
    expect(profile.warnings.length).toBeGreaterThanOrEqual(10);
    expect(profile.supportsControl('secondary', 29)).toBe(true);
    expect(profile.pointerWidth).toBe(32);
    const result = runSuite({
      factory: createImplEngine,
      engineName: 'impl',
      profile,
      profileRef: profile.data,
      seed: 1,
      runs: 300,
      maxSteps: 40,
      logicalProcessors: 2,
    });
    expect(explain(result)).toBe('');
  });
});
