/**
 * The differential suite: our emulator against the reference model, step by step, with fixed
 * seeds (printed), on every named profile and on random consistent profiles.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { profileDataArbitrary } from '../../properties/arbitraries/profile.ts';
import { runSuite, type SuiteResult } from '../../properties/suite.ts';
import { renderTrace } from '../../properties/trace.ts';
import { createProfile } from '../../spec/profile.ts';
import { loadProfile } from '../../spec/profiles.ts';

function explain(result: SuiteResult): string {
  const f = result.failure;
  return f === undefined ? '' : `${f.property}: ${f.message}\n${renderTrace(f.outcome, JSON.stringify(f.testCase))}`;
}

const RUNS: Record<string, number> = { skylake: 10_000, core2: 2_000, maximal: 2_000 };

describe('our emulator conforms to the model', () => {
  for (const [name, runs] of Object.entries(RUNS)) {
    it(`on the ${name} profile over ${runs} random sequences`, () => {
      const seed = 0x5eed + runs;
      console.log(`differential ${name}: seed ${seed}, ${runs} runs`);
      const profile = loadProfile(name);
      const result = runSuite({
        factory: createImplEngine,
        engineName: 'impl',
        profile,
        profileRef: name,
        seed,
        runs,
        maxSteps: 40,
        logicalProcessors: 2,
      });
      expect(explain(result)).toBe('');
      expect(result.stats.cases).toBe(runs);
      // The run went deep: successful VMREADs and VMWRITEs, and many decision points.
      expect(result.stats.outcomes['VMsucceed'] ?? 0).toBeGreaterThan(runs);
      expect(Object.keys(result.stats.rulesHit).length).toBeGreaterThan(result.stats.rulesTotal / 2);
    });
  }

  it('on random consistent profiles', () => {
    const seed = 424242;
    console.log(`differential random profiles: seed ${seed}`);
    const profiles = fc.sample(profileDataArbitrary(), { seed, numRuns: 25 });
    for (const [i, data] of profiles.entries()) {
      const profile = createProfile(data);
      const result = runSuite({
        factory: createImplEngine,
        engineName: 'impl',
        profile,
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
