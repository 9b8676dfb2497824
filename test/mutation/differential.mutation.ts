/**
 * The differential property as mutation testing runs it (vitest.mutation.config.ts only; `npm
 * test` runs the full-size suites in test/properties/): our emulator against the model on skylake
 * and on the smallest real profile, with fixed seeds, so that a mutant in model/ or impl/ that
 * makes them disagree is killed.
 *
 * Every mutant in model/ and impl/ is reached by this test, and a surviving mutant runs it to the
 * end, so its size decides how long a mutation run lasts. `VMX_MUTATION_RUNS` sets the sequences on
 * skylake (core2 gets half): `npm run mutation` uses the default 400, `npm run mutation:area` 40;
 * with 0, vitest.mutation.config.ts leaves this file out (unit tests only).
 */
import { describe, expect, it } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { runSuite } from '../../properties/suite.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { explain } from '../properties/differential-helpers.ts';

/** Sequences on skylake, from `VMX_MUTATION_RUNS` (a positive whole number; anything else is refused). */
function runsFromEnvironment(): number {
  const text = process.env['VMX_MUTATION_RUNS'];
  if (text === undefined || text === '') return 400;
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`VMX_MUTATION_RUNS must be a positive whole number of sequences, got '${text}'`);
  return Number(text);
}

/** Runs our emulator against the model and expects every step to be one the model allows. */
function expectConforming(profile: string, seed: number, runs: number): void {
  const result = runSuite({
    factory: createImplEngine,
    engineName: 'impl',
    profile: loadProfile(profile),
    profileRef: profile,
    seed,
    runs,
    maxSteps: 40,
    logicalProcessors: 2,
  });
  expect(explain(result)).toBe('');
  expect(result.stats.cases).toBe(runs);
}

const RUNS = runsFromEnvironment();

describe('mutation: our emulator conforms to the model', () => {
  it(`over ${RUNS} random sequences on skylake (seed 0x5eed)`, () => expectConforming('skylake', 0x5eed, RUNS));
  it(`over ${Math.ceil(RUNS / 2)} random sequences on core2 (seed 0x5eef)`, () => expectConforming('core2', 0x5eef, Math.ceil(RUNS / 2)));
});
