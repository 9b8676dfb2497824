/**
 * The vitest configuration Stryker runs for each mutant (`npm run mutation`, stryker.config.mjs):
 * the unit tests of spec/, model/ and impl/, which state SDM rules, and the differential and
 * boundary properties, which catch a mutant that makes model/ and impl/ disagree. The CLI tests
 * (child processes, minutes) are left out: they test the harness, not the semantics. No coverage
 * here: Stryker measures which tests reach which mutant itself.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/spec/**/*.test.ts', 'test/model/**/*.test.ts', 'test/impl/**/*.test.ts', 'test/properties/**/*.test.ts', 'test/regressions.test.ts'],
    testTimeout: 400_000,
    hookTimeout: 60_000,
  },
});
