/**
 * The differential suite on every real part's profile: whatever spec/profiles/real holds at test
 * time, plus the few real-part files kept in test/fixtures/real-profiles (so the test has real
 * data even where that directory is empty). Short runs with a fixed seed: about 4,000 sequences
 * in all, shared between the profiles (at least 50 and at most 300 each).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { runSuite } from '../../properties/suite.ts';
import { loadProfile, profileFromJson, REAL_PROFILE_NAMES } from '../../spec/profiles.ts';
import type { Profile } from '../../spec/profile.ts';
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
  const runs = Math.min(300, Math.max(50, Math.floor(4_000 / profiles.length)));
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
