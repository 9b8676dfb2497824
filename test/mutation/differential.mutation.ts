/**
 * The differential property as mutation testing runs it (vitest.mutation.config.ts only; `npm
 * test` runs the full-size suites in test/properties/): our emulator against the model on skylake
 * and on the smallest real profile, a few hundred sequences each with fixed seeds, so that a mutant
 * in model/ or impl/ that makes them disagree is killed in seconds.
 */
import { describe, it } from 'vitest';
import { expectConformingRun } from '../properties/differential-helpers.ts';

describe('mutation: our emulator conforms to the model', () => {
  it('over 400 random sequences on skylake (seed 0x5eed)', () => expectConformingRun('skylake', 0x5eed, 400));
  it('over 200 random sequences on core2 (seed 0x5eef)', () => expectConformingRun('core2', 0x5eef, 200));
});
