/** The run summary lists the basic exit reasons reached and the ones not reached. */
import { describe, expect, it } from 'vitest';
import { renderSummary } from '../../cli/report.ts';
import { emptyEntryCheckCoverage } from '../../properties/entry-check-coverage.ts';
import { emptyExitReasonCoverage, finishExitReasons } from '../../properties/exit-reason-coverage.ts';
import type { SuiteStats } from '../../properties/suite.ts';

describe('the run summary', () => {
  it('names the exit reasons reached with their counts, then the ones not reached', () => {
    const exitReasons = emptyExitReasonCoverage();
    exitReasons.reached = { CPUID: 3, IO_INSTRUCTION: 7 };
    finishExitReasons(exitReasons);
    const stats: SuiteStats = {
      cases: 1, steps: 1, outcomes: {}, unimplemented: {}, notModelled: {}, undefinedAt: {}, rulesHit: {}, rulesTotal: 0, boundariesHit: {}, boundariesMissed: [], boundariesTotal: 0,
      endings: { completed: 1, undefined: 0, 'not-modelled': 0, unsupported: 0, 'engine-unimplemented': 0 },
      entryChecks: emptyEntryCheckCoverage(), exitReasons, metamorphic: {},
    };
    const text = renderSummary(stats);
    expect(text).toContain(`basic exit reasons reached: 2 of ${exitReasons.total} (IO_INSTRUCTION 7, CPUID 3)`);
    expect(text).toMatch(/not reached: EXCEPTION_OR_NMI, EXTERNAL_INTERRUPT/);
    expect(text).not.toMatch(/not reached:[^\n]*CPUID/);
  });
});
