// Mutation testing of model/ and impl/ (issue 10): `npm run mutation` (all of model/ and impl/),
// `npm run mutation -- --mutate 'model/instructions/**/*.ts'` for a part. Incremental: results are
// kept in reports/mutation/incremental.json, so a re-run after a small change only re-tests the
// mutants in changed code and the tests that changed. HTML report: reports/mutation/index.html.
// Equivalent mutants (ones no test can kill because the program means the same) are listed with
// their reasons in docs/mutation/equivalent-mutants.md and marked in the source with
// `// Stryker disable next-line <mutator>: <reason>`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: ['model/**/*.ts', 'impl/**/*.ts'],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  concurrency: 2,
  // Over the unaffected run time of the tests a mutant runs; a mutant that loops forever (a loop
  // bound mutated) is stopped after this and counts as detected.
  timeoutMS: 20_000,
  dryRunTimeoutMinutes: 30,
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: reports and coverage of earlier runs, the sandboxes of other runs.
  ignorePatterns: ['reports', 'coverage', 'failures', '.stryker-tmp*', '.prof'],
  cleanTempDir: 'always',
};
