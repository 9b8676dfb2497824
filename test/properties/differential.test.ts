/**
 * The differential suite: our emulator against the reference model, step by step, with fixed
 * seeds (printed). 6,000 sequences on skylake (each about 130 steps), in two halves with their own seeds so that each
 * test stays well inside the time limit under coverage; the other profiles are in
 * differential-profiles.test.ts, a separate file so that vitest runs the two in parallel.
 */
import { describe, it } from 'vitest';
import { expectConformingRun } from './differential-helpers.ts';

describe('our emulator conforms to the model on skylake', () => {
  it('over 3,000 random sequences (seed 0x5eed)', () => expectConformingRun('skylake', 0x5eed, 3_000));
  it('over 3,000 more random sequences (seed 0x5eee)', () => expectConformingRun('skylake', 0x5eee, 3_000));
});
