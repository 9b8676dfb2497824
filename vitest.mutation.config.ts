/**
 * The vitest configuration Stryker runs for each mutant (`npm run mutation`, stryker.config.mjs):
 * the unit tests of model/ and impl/, which state SDM rules, and a short differential property
 * (test/mutation/), which kills a mutant that makes model/ and impl/ disagree. The CLI tests (child
 * processes) and the full-size property suites (minutes each) are left out: a mutant is run against
 * every test that reaches it, and those would make a run last days. No coverage here: Stryker
 * measures which tests reach which mutant itself.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/model/**/*.test.ts', 'test/impl/**/*.test.ts', 'test/mutation/**/*.mutation.ts'],
    testTimeout: 400_000,
    hookTimeout: 60_000,
  },
});
