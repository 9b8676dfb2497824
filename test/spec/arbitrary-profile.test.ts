import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { profileDataArbitrary } from '../../properties/arbitraries/profile.ts';
import { createProfile, validateProfile } from '../../spec/profile.ts';

describe('profileDataArbitrary', () => {
  it('yields only profiles that validateProfile accepts', () => {
    fc.assert(
      fc.property(profileDataArbitrary(), (data) => {
        expect(validateProfile(data)).toEqual([]);
      }),
      { seed: 20231201, numRuns: 500 },
    );
  });

  it('covers both sides of the main choices', () => {
    const profiles = fc.sample(profileDataArbitrary(), { seed: 7, numRuns: 300 }).map(createProfile);
    const some = (predicate: (p: (typeof profiles)[number]) => boolean): [boolean, boolean] => [
      profiles.some(predicate),
      profiles.some((p) => !predicate(p)),
    ];
    expect(some((p) => p.trueControls)).toEqual([true, true]);
    expect(some((p) => p.vmwriteAnyField)).toEqual([true, true]);
    expect(some((p) => p.supportsControl('secondary', 14))).toEqual([true, true]);
    expect(some((p) => p.supportsControl('primary', 31))).toEqual([true, true]);
    expect(some((p) => p.supportsControl('primary', 17))).toEqual([true, true]);
    expect(some((p) => p.regionSize === 4096)).toEqual([true, true]);
    expect(new Set(profiles.map((p) => p.pointerWidth)).size).toBeGreaterThan(5);
  });
});
