/**
 * The vitest configuration Stryker runs for each mutant (`npm run mutation`, stryker.config.mjs):
 * the unit tests of model/ and impl/, which state SDM rules, and a short differential property
 * (test/mutation/), which kills a mutant that makes model/ and impl/ disagree. The CLI tests (child
 * processes) and the full-size property suites (minutes each) are left out: a mutant is run against
 * every test that reaches it, and those would make a run last days. No coverage here: Stryker
 * measures which tests reach which mutant itself.
 *
 * Two environment variables narrow a run to one area (`npm run mutation:area`, README "Tests"):
 * - `VMX_MUTATION_TESTS`: comma-separated globs of the test files to use instead of all unit tests
 *   of model/ and impl/ (the differential is added unless `VMX_MUTATION_RUNS` is 0);
 * - `VMX_MUTATION_RUNS`: sequences of the differential on skylake (test/mutation/), 0 to leave it out.
 */
import { configDefaults, defineConfig } from 'vitest/config';

const UNIT_TESTS = ['test/model/**/*.test.ts', 'test/impl/**/*.test.ts'];
const DIFFERENTIAL = 'test/mutation/**/*.mutation.ts';
/**
 * Left out: rule-coverage.test.ts imports every model test file and runs its tests a second time
 * (to record the rules they reach), which doubled the time of every mutant and kills nothing the
 * files themselves do not.
 */
const LEFT_OUT = ['test/model/rule-coverage.test.ts'];

const chosen = (process.env['VMX_MUTATION_TESTS'] ?? '')
  .split(',')
  .map((glob) => glob.trim())
  .filter((glob) => glob !== '');
const withDifferential = process.env['VMX_MUTATION_RUNS'] !== '0';

export default defineConfig({
  test: {
    include: [...(chosen.length > 0 ? chosen : UNIT_TESTS), ...(withDifferential ? [DIFFERENTIAL] : [])],
    exclude: [...configDefaults.exclude, ...LEFT_OUT],
    testTimeout: 400_000,
    hookTimeout: 60_000,
  },
});
