/**
 * The differential property for an engine that is slow to start and fast per case (Bochs boots
 * in about 0.3 s, then runs thousands of cases a second): generate the run's cases, cut them into
 * batches, run each batch in one go, then judge each case's observations against the model step
 * by step. A batch's judgement is a share of the run ({@link BatchShare}), so batches can run on
 * several engines at once and be added up afterwards as one engine would have gathered them
 * (cli/bochs/bochs-campaign.ts). A divergence the caller acknowledges (a recorded known
 * divergence) is counted and the run goes on; the first other one, a mismatch or an engine fault,
 * is shrunk by rounds of candidates, each round run as one batch.
 */
import fc from 'fast-check';
import { createModelState } from '../model/index.ts';
import type { Operation } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import { runCaseDifferential, type CaseEngine, type CaseOutcome } from './differential.ts';
import { boundaryPoints, indexPoints } from './generators/boundary-points.ts';
import { operationSequence, type SequenceMix } from './generators/operations.ts';
import { createSuiteStats, outcomeLabel, record, type Coverage, type SuiteStats } from './suite.ts';

/** A case for a batch. */
export interface BatchCase {
  logicalProcessors: number;
  operations: readonly Operation[];
}

/** A case engine that can run many cases in one go and answer them from that run afterwards. */
export interface BatchCaseEngine extends CaseEngine {
  /** Runs the cases not answered yet, without blocking the thread; with `stopAtFault`, stops after the first boot in which a case faulted. */
  prefetchAsync(cases: readonly BatchCase[], options?: { stopAtFault?: boolean }): Promise<void>;
  /** Whether the case has an answer already (from an earlier batch). */
  answered(logicalProcessors: number, operations: readonly Operation[]): boolean;
  /** The kind of fault the case's answer is (`crash`, `hang`, ...), or undefined when it is not one. */
  faultKind(logicalProcessors: number, operations: readonly Operation[]): string | undefined;
}

/** Acknowledged divergences: id → how many cases and the first one seen (cut after its divergent step). */
export type Acknowledged = Record<string, { count: number; example: Operation[] }>;

/** What judging cases `[from, to)` of the run found. */
export interface BatchShare {
  from: number;
  to: number;
  stats: SuiteStats;
  acknowledged: Acknowledged;
  /** Cases that ended at a step the engine answered `unimplemented`, by operation and reason (numbers elided). */
  stoppedAt: Record<string, number>;
  /** The index of the first case that diverged in a way not acknowledged (the share stops there). */
  failedAt?: number;
}

/** What judging a batch needs. */
export interface JudgeOptions {
  engine: BatchCaseEngine;
  profile: Profile;
  logicalProcessors: number;
  /**
   * The id of the known divergence a divergent outcome is (a mismatch, or an engine fault the
   * engine is known to have there), or undefined for a new one.
   */
  acknowledge?: (outcome: CaseOutcome & { kind: 'divergent' }, operations: readonly Operation[]) => string | undefined;
  /** Called after each judged case. */
  onCase?: () => void;
  /**
   * The cases come from the `no-guests` mix: a VM entry the engine answers `unimplemented`
   * (it would enter a guest the engine cannot run) ends its case as `unsupported`, outside the
   * requested mix, instead of counting towards an INCOMPLETE verdict. It is still listed in
   * {@link BatchShare.stoppedAt}.
   */
  guestsLeftOut?: boolean;
  /**
   * Other steps the engine answers `unimplemented` that are outside what the run asked for: the
   * reason they are left out (listed as `[left out: <reason>]`), or undefined. Such a case ends
   * as `unsupported`, as a VM entry does under {@link guestsLeftOut}.
   */
  leftOut?: (operation: Operation, what: string) => string | undefined;
}

/** Where a case the engine answered `unimplemented` stopped: `<operation>: <reason>`, numbers elided so reasons group. */
export function stopKey(outcome: CaseOutcome): string | undefined {
  if (outcome.kind !== 'conformant' || outcome.ended !== 'engine-unimplemented') return undefined;
  const last = outcome.steps[outcome.steps.length - 1];
  if (last === undefined) return undefined;
  const what = last.observation?.kind === 'unimplemented' ? last.observation.what : undefined;
  return `${last.operation.kind}: ${(what ?? 'unimplemented').replace(/0x[0-9a-f]+/gi, '…')}`;
}

const isVmEntry = (kind: string): boolean => kind === 'vmlaunch' || kind === 'vmresume';

/** The run's cases: the first `runs` sequences fast-check draws for `seed` (case `i` is the same whoever draws it). */
export function sampleCases(profile: Profile, options: { seed: number; runs: number; maxSteps: number; logicalProcessors: number; mix?: SequenceMix }): Operation[][] {
  const sequences = operationSequence(profile, { logicalProcessors: options.logicalProcessors, maxSteps: options.maxSteps, ...(options.mix === undefined ? {} : { mix: options.mix }) });
  return fc.sample(sequences, { seed: options.seed, numRuns: options.runs });
}

/** Why the batched run does not check the metamorphic properties (recorded in its statistics). */
export const BATCHED_METAMORPHIC_SKIPPED = 'all: the batched engine runs generated cases whole, in batches (no snapshot/restore, no stepping)';

/** Cases judged between two turns of the event loop, so a Ctrl-C is heard during a long batch. */
const YIELD_EVERY = 100;

/**
 * Runs `cases` (cases `from`, `from + 1`, ... of the run) as a batch and judges them in order,
 * stopping at the first divergence that is not acknowledged.
 */
export async function judgeBatch(options: JudgeOptions, cases: readonly Operation[][], from: number): Promise<BatchShare> {
  const lp = options.logicalProcessors;
  const stats = createSuiteStats();
  stats.metamorphicSkipped = BATCHED_METAMORPHIC_SKIPPED;
  const points = boundaryPoints(options.profile);
  stats.boundariesTotal = points.length;
  const coverage: Coverage = { index: indexPoints(points), initial: createModelState(options.profile, lp) };
  const acknowledged: Acknowledged = {};
  const stoppedAt: Record<string, number> = {};
  const asked = Date.now();
  await options.engine.prefetchAsync(cases.map((operations) => ({ logicalProcessors: lp, operations })));
  const answered = Date.now();
  if (process.env.VMX_CONFORMANCE_BOCHS_TIMING) process.stderr.write(`timing: waited ${answered - asked} ms for the batch's answers\n`);
  for (const [offset, operations] of cases.entries()) {
    if (offset > 0 && offset % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    let outcome = runCaseDifferential(options.engine, options.profile, lp, operations);
    const stop = stopKey(outcome);
    if (stop !== undefined) {
      const last = outcome.steps[outcome.steps.length - 1];
      const what = last?.observation?.kind === 'unimplemented' ? last.observation.what : '';
      const reason =
        last === undefined ? undefined : options.guestsLeftOut === true && isVmEntry(last.operation.kind) ? '--mix no-guests' : options.leftOut?.(last.operation, what);
      const leftOut = reason !== undefined;
      const key = leftOut ? `${stop} [left out: ${reason}]` : stop;
      stoppedAt[key] = (stoppedAt[key] ?? 0) + 1;
      if (leftOut && outcome.kind === 'conformant') outcome = { ...outcome, ended: 'unsupported' };
    }
    record(stats, outcome, outcomeLabel, coverage);
    options.onCase?.();
    if (outcome.kind !== 'divergent') continue;
    const known = options.acknowledge?.(outcome, operations);
    if (known === undefined) return { from, to: from + cases.length, stats, acknowledged, stoppedAt, failedAt: from + offset };
    const entry = (acknowledged[known] ??= { count: 0, example: operations.slice(0, outcome.divergence.index + 1) });
    entry.count += 1;
  }
  if (process.env.VMX_CONFORMANCE_BOCHS_TIMING) process.stderr.write(`timing: judged ${cases.length} cases in ${Date.now() - answered} ms\n`);
  return { from, to: from + cases.length, stats, acknowledged, stoppedAt };
}

/** Adds up where the shares' cases stopped, in case order, up to the first failure. */
export function mergeStoppedAt(shares: readonly BatchShare[], failedAt: number | undefined): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const share of [...shares].sort((a, b) => a.from - b.from)) {
    if (failedAt !== undefined && share.from > failedAt) continue;
    for (const [key, count] of Object.entries(share.stoppedAt)) merged[key] = (merged[key] ?? 0) + count;
  }
  return merged;
}

/** Adds up acknowledged divergences of shares in case order (the first example seen is kept). */
export function mergeAcknowledged(shares: readonly BatchShare[], failedAt: number | undefined): Acknowledged {
  const merged: Acknowledged = {};
  for (const share of [...shares].sort((a, b) => a.from - b.from)) {
    if (failedAt !== undefined && share.from > failedAt) continue;
    for (const [id, { count, example }] of Object.entries(share.acknowledged)) {
      const entry = (merged[id] ??= { count: 0, example });
      entry.count += count;
    }
  }
  return merged;
}

/**
 * The same failure: a mismatch of the same observation at the same kind of operation, or an
 * engine fault of the same kind (a crash does not stand in for a hang).
 */
function sameFailure(a: CaseOutcome, b: CaseOutcome, faultA: string | undefined, faultB: string | undefined): boolean {
  if (a.kind !== 'divergent' || b.kind !== 'divergent') return false;
  // An engine fault is reported at step 0 whatever step caused it: its operation says nothing.
  if (a.divergence.kind !== 'mismatch' || b.divergence.kind !== 'mismatch') return a.divergence.kind === b.divergence.kind && faultA === faultB;
  return (
    a.divergence.kind === b.divergence.kind &&
    a.divergence.operation.kind === b.divergence.operation.kind &&
    JSON.stringify(a.divergence.observation) === JSON.stringify(b.divergence.observation) &&
    faultA === faultB
  );
}

/**
 * Shrinks a failing case, a mismatch or an engine fault alike: each round builds every candidate
 * that drops one chunk (halves, then quarters, ... single operations), runs them as one batch, and
 * keeps the first (largest drop) that still fails the same way, cut after its divergent step.
 * Stops when no candidate does. A batch stops at the first candidate that faults (Bochs stops
 * there anyway); the candidates after it run in another boot only when that fault is not the one
 * being shrunk. So a round costs one boot, and a hang costs the engine's silence limit once per
 * round, not a time-out per candidate.
 */
export async function shrinkInBatches(
  operations: readonly Operation[],
  first: CaseOutcome,
  engine: BatchCaseEngine,
  profile: Profile,
  logicalProcessors: number,
): Promise<{ operations: Operation[]; rounds: number; removed: number }> {
  const compare = (ops: readonly Operation[]): CaseOutcome => runCaseDifferential(engine, profile, logicalProcessors, ops);
  // A mismatch is cut after its divergent step; a fault stops the whole case (it is reported at
  // step 0 whatever step caused it), so a faulting candidate is kept whole.
  const cut = (ops: readonly Operation[], outcome: CaseOutcome): Operation[] =>
    outcome.kind === 'divergent' && outcome.divergence.kind === 'mismatch' ? ops.slice(0, outcome.divergence.index + 1) : [...ops];
  const firstFault = engine.faultKind(logicalProcessors, operations);
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
    rounds += 1;
    let next: Operation[] | undefined;
    for (const [i, candidate] of usable.entries()) {
      if (!engine.answered(logicalProcessors, candidate)) {
        await engine.prefetchAsync(usable.slice(i).map((c) => ({ logicalProcessors, operations: c })), { stopAtFault: true });
      }
      const outcome = compare(candidate);
      if (sameFailure(outcome, first, engine.faultKind(logicalProcessors, candidate), firstFault)) {
        next = cut(candidate, outcome);
        break;
      }
    }
    if (next === undefined || next.length >= current.length) break;
    current = next;
  }
  return { operations: current, rounds, removed: original - current.length };
}
