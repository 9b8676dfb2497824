/** The differential suite on the other named profiles and on random consistent profiles. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { profileDataArbitrary } from '../../properties/arbitraries/profile.ts';
import { runSuite } from '../../properties/suite.ts';
import { createProfile } from '../../spec/profile.ts';
import { expectConformingRun, explain } from './differential-helpers.ts';

describe('our emulator conforms to the model', () => {
  it('on core2 over 1,500 random sequences', () => expectConformingRun('core2', 0x5eed, 1_500));
  it('on maximal over 1,500 random sequences', () => expectConformingRun('maximal', 0x5eed, 1_500));

  it('on 25 random consistent profiles, 80 sequences each', () => {
    const seed = 424242;
    console.log(`differential random profiles: seed ${seed}`);
    const profiles = fc.sample(profileDataArbitrary(), { seed, numRuns: 25 });
    for (const [i, data] of profiles.entries()) {
      const result = runSuite({
        factory: createImplEngine,
        engineName: 'impl',
        profile: createProfile(data),
        profileRef: data,
        seed: seed + i,
        runs: 80,
        maxSteps: 40,
        logicalProcessors: 2,
      });
      expect(explain(result)).toBe('');
    }
  });
});
