/**
 * The differential property for an engine that is slow to start and fast per case (Bochs boots
 * in about 0.3 s, then runs thousands of cases a second): generate a batch of cases, run the
 * whole batch in one go, then judge each case's observations against the model step by step.
 * A divergence the caller acknowledges (a recorded known divergence) is counted and the run goes
 * on; the first other one is shrunk by rounds of candidates, each round run as one batch.
 */
import fc from 'fast-check';
import { createModelState } from '../model/index.ts';
import type { Operation } from '../spec/operations.ts';
import { CASE_FORMAT, type ConformanceCase } from './case.ts';
import { runCaseDifferential, type CaseEngine, type CaseOutcome } from './differential.ts';
import { finishEntryChecks } from './entry-check-coverage.ts';
import { boundaryPoints, indexPoints } from './generators/boundary-points.ts';
import { operationSequence } from './generators/operations.ts';
import { createSuiteStats, divergenceMessage, outcomeLabel, record, type Coverage, type SuiteOptions, type SuiteResult } from './suite.ts';

/** A case engine that can run many cases in one go and answer them from that run afterwards. */
export interface BatchCaseEngine extends CaseEngine {
  prefetch(cases: readonly { logicalProcessors: number; operations: readonly Operation[] }[]): void;
}

/** What the batched suite needs beyond the suite's options. */
export interface BatchedSuiteOptions extends Omit<SuiteOptions, 'factory' | 'caseEngine' | 'metamorphicRuns'> {
  engine: BatchCaseEngine;
  /** Cases generated and run per batch. */
  batchSize: number;
  /**
   * The id of the known divergence a divergent outcome is (a mismatch, or an engine fault the
   * engine is known to have there), or undefined for a new one.
   */
  acknowledge?: (outcome: CaseOutcome & { kind: 'divergent' }, operations: readonly Operation[]) => string | undefined;
}

/** The suite's result plus the acknowledged divergences: id → count and the first case seen. */
export interface BatchedSuiteResult extends SuiteResult {
  acknowledged: Record<string, { count: number; example: Operation[] }>;
  /** Shrinking rounds (batches) used. */
  shrinkRounds: number;
}

/** Runs the differential property over `runs` cases in batches. */
export function runBatchedSuite(options: BatchedSuiteOptions): BatchedSuiteResult {
  const stats = createSuiteStats();
  stats.metamorphicSkipped = 'all: the batched engine runs generated cases whole, in batches (no snapshot/restore, no stepping)';
  const points = boundaryPoints(options.profile);
  stats.boundariesTotal = points.length;
  const coverage: Coverage = { index: indexPoints(points), initial: createModelState(options.profile, options.logicalProcessors) };
  const acknowledged: BatchedSuiteResult['acknowledged'] = {};
  const lp = options.logicalProcessors;
  const compare = (operations: readonly Operation[]): CaseOutcome => runCaseDifferential(options.engine, options.profile, lp, operations);
  const finish = (result: Omit<BatchedSuiteResult, 'stats' | 'acknowledged'>): BatchedSuiteResult => {
    stats.boundariesMissed = points.map((p) => p.id).filter((id) => stats.boundariesHit[id] === undefined);
    finishEntryChecks(stats.entryChecks);
    return { stats, acknowledged, ...result };
  };
  const all = fc.sample(operationSequence(options.profile, { logicalProcessors: lp, maxSteps: options.maxSteps }), { seed: options.seed, numRuns: options.runs });
  for (let start = 0; start < all.length; start += options.batchSize) {
    const batch = all.slice(start, start + options.batchSize);
    options.engine.prefetch(batch.map((operations) => ({ logicalProcessors: lp, operations })));
    for (const [offset, operations] of batch.entries()) {
      const outcome = compare(operations);
      record(stats, outcome, outcomeLabel, coverage);
      options.onProgress?.(start + offset + 1, all.length);
      if (outcome.kind !== 'divergent') continue;
      const known = options.acknowledge?.(outcome, operations);
      if (known !== undefined) {
        const entry = (acknowledged[known] ??= { count: 0, example: operations.slice(0, outcome.divergence.index + 1) });
        entry.count += 1;
        continue;
      }
      const shrunk = outcome.divergence.kind === 'mismatch' ? shrinkInBatches(operations, outcome, options.engine, lp, compare) : { operations: [...operations], rounds: 0, removed: 0 };
      const final = compare(shrunk.operations);
      const testCase: ConformanceCase = {
        format: CASE_FORMAT,
        profile: options.profileRef,
        logicalProcessors: lp,
        operations: shrunk.operations,
        origin: { engine: options.engineName, seed: options.seed, note: `case ${start + offset} of the run; ${final.kind === 'divergent' ? `diverges at step ${final.divergence.index}` : 'failed'}` },
      };
      return finish({
        failure: { property: 'differential', testCase, outcome: final, message: divergenceMessage(final), originalLength: operations.length, shrinks: shrunk.removed },
        shrinkRounds: shrunk.rounds,
      });
    }
  }
  return finish({ shrinkRounds: 0 });
}

/** The same failure: the same kind of divergence at the same kind of operation with the same observation. */
function sameFailure(a: CaseOutcome, b: CaseOutcome): boolean {
  if (a.kind !== 'divergent' || b.kind !== 'divergent') return false;
  return (
    a.divergence.kind === b.divergence.kind &&
    a.divergence.operation.kind === b.divergence.operation.kind &&
    JSON.stringify(a.divergence.observation) === JSON.stringify(b.divergence.observation)
  );
}

/**
 * Shrinks a failing case: each round builds every candidate that drops one chunk (halves, then
 * quarters, ... single operations), runs them all as one batch, and keeps the first (largest
 * drop) that still fails the same way, cut after its divergent step. Stops when no candidate does.
 */
export function shrinkInBatches(
  operations: readonly Operation[],
  first: CaseOutcome,
  engine: BatchCaseEngine,
  logicalProcessors: number,
  compare: (operations: readonly Operation[]) => CaseOutcome,
): { operations: Operation[]; rounds: number; removed: number } {
  const cut = (ops: readonly Operation[], outcome: CaseOutcome): Operation[] => (outcome.kind === 'divergent' ? ops.slice(0, outcome.divergence.index + 1) : [...ops]);
  let current = cut(operations, first);
  const original = current.length;
  let rounds = 0;
  for (;;) {
    const candidates: Operation[][] = [];
    for (let size = Math.max(1, Math.floor(current.length / 2)); ; size = Math.max(1, Math.floor(size / 2))) {
      for (let at = 0; at < current.length; at += size) candidates.push([...current.slice(0, at), ...current.slice(at + size)]);
      if (size === 1) break;
    }
    const usable = candidates.filter((c) => c.length > 0);
    if (usable.length === 0) break;
    engine.prefetch(usable.map((c) => ({ logicalProcessors, operations: c })));
    rounds += 1;
    let next: Operation[] | undefined;
    for (const candidate of usable) {
      const outcome = compare(candidate);
      if (sameFailure(outcome, first)) {
        next = cut(candidate, outcome);
        break;
      }
    }
    if (next === undefined || next.length >= current.length) break;
    current = next;
  }
  return { operations: current, rounds, removed: original - current.length };
}
