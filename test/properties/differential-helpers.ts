/** Shared pieces of the differential test files. */
import { expect } from 'vitest';
import { createImplEngine } from '../../impl/index.ts';
import { runSuite, type SuiteResult } from '../../properties/suite.ts';
import { renderTrace } from '../../properties/trace.ts';
import { loadProfile } from '../../spec/profiles.ts';
import { implementedDecisionPoints } from '../../model/vm-entry/rules.ts';

/** The failure of a suite run as readable text, or '' when it conformed. */
export function explain(result: SuiteResult): string {
  const f = result.failure;
  return f === undefined ? '' : `${f.property}: ${f.message}\n${renderTrace(f.outcome, JSON.stringify(f.testCase))}`;
}

/** Runs our emulator against the model on a named profile and checks the run conformed and went deep. */
export function expectConformingRun(name: string, seed: number, runs: number): void {
  console.log(`differential ${name}: seed ${seed}, ${runs} runs`);
  const result = runSuite({
    factory: createImplEngine,
    engineName: 'impl',
    profile: loadProfile(name),
    profileRef: name,
    seed,
    runs,
    maxSteps: 40,
    logicalProcessors: 2,
  });
  expect(explain(result)).toBe('');
  expect(result.stats.cases).toBe(runs);
  // The run went deep: successful VMREADs and VMWRITEs, and many decision points. The VM-entry
  // checks need a generated VMCS (generators for VM entry), so they do not count here yet.
  expect(result.stats.outcomes['VMsucceed'] ?? 0).toBeGreaterThan(runs);
  const reachable = result.stats.rulesTotal - implementedDecisionPoints().length;
  expect(Object.keys(result.stats.rulesHit).length).toBeGreaterThan(reachable / 2);
}
