/**
 * A Bochs run, or a shard of one, on one or more Bochs processes at a time. The run's cases are
 * cut into batches of `--batch` cases; each batch is run and judged as a share of the run
 * (properties/batched-suite.ts). With one job the batches run here one after the other; with
 * `--jobs n` up to n worker threads (bochs-job-runner.ts) each drive their own Bochs, taking
 * batches in index order. The shares are then added up as one job would have gathered them
 * (cli/jobs/merge-stats.ts): only what comes before the first failure by case index counts.
 * That case is then run again here, alone, and shrunk, so the result does not depend on `n`.
 */
import { Worker } from 'node:worker_threads';
import { judgeBatch, mergeAcknowledged, mergeStoppedAt, sampleCases, shrinkInBatches, type Acknowledged, type BatchShare, type JudgeOptions } from '../../properties/batched-suite.ts';
import { runCaseDifferential, type CaseOutcome } from '../../properties/differential.ts';
import { boundaryPoints } from '../../properties/generators/boundary-points.ts';
import type { SuiteStats } from '../../properties/suite.ts';
import type { SequenceMix } from '../../properties/generators/operations.ts';
import type { Operation } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import type { ProfileData } from '../../spec/profile-data.ts';
import { mergeShares } from '../jobs/merge-stats.ts';
import type { Shard } from '../jobs/plan.ts';
import type { BochsEngine } from './bochs-engine.ts';
import { bochsLeftOut } from './bytecode.ts';

const WORKER = new URL('./bochs-worker.js', import.meta.url);

/** What a worker needs to open the same Bochs and judge against the same profile. */
export interface BochsJobSetup {
  model: string;
  timeoutMs: number;
  stallMs: number;
  /** The capability MSRs the main thread's probe boot read (the worker skips its own). */
  bochsProfile: ProfileData;
  /** The run's profile: a name or the data. */
  profileRef: string | ProfileData;
  knownDivergences?: string;
  /** The step mix the cases were drawn from (`no-guests`: VM entries the agent cannot follow end as unsupported). */
  mix: SequenceMix;
}

/** Main thread to a Bochs worker. */
export type BochsJobRequest = { kind: 'run'; task: number; from: number; cases: Operation[][] } | { kind: 'stop' };

/** A Bochs worker to the main thread. */
export type BochsJobReply =
  | { kind: 'progress'; cases: number }
  | { kind: 'done'; task: number; share: BatchShare; boots: number; bochsMs: number; bootedCases: number }
  | { kind: 'error'; task: number; message: string };

/** The campaign's inputs. */
export interface BochsCampaignOptions {
  engine: BochsEngine;
  profile: Profile;
  seed: number;
  runs: number;
  maxSteps: number;
  batchSize: number;
  jobs: number;
  shard?: Shard;
  setup: BochsJobSetup;
  acknowledge: JudgeOptions['acknowledge'];
  onProgress?: (done: number, total: number) => void;
  /** Receives the worker threads as they start, so an interrupt can stop them. */
  onWorker?: (worker: Worker) => void;
}

/** The first failure, as found and as shrunk. */
export interface BochsFailure {
  index: number;
  original: Operation[];
  /** The original case's outcome when run alone. */
  originalOutcome: CaseOutcome;
  /** Whether it failed again when run alone (only then is it shrunk). */
  reproduced: boolean;
  shrunk: Operation[];
  outcome: CaseOutcome;
  rounds: number;
}

/** What a campaign found. */
export interface BochsCampaignResult {
  stats: SuiteStats;
  acknowledged: Acknowledged;
  /** Cases that ended at a step the agent answered `unimplemented`, by operation and reason. */
  stoppedAt: Record<string, number>;
  failure?: BochsFailure;
  /** The case indices `[from, to)` it ran. */
  block: readonly [number, number];
  workers: number;
  /** Boots, Bochs time and cases run by every Bochs of the run. */
  boots: number;
  bochsMs: number;
  bootedCases: number;
}

/** Runs the campaign; see the file header. */
export async function runBochsCampaign(options: BochsCampaignOptions): Promise<BochsCampaignResult> {
  const lp = 1;
  const all = sampleCases(options.profile, { seed: options.seed, runs: options.runs, maxSteps: options.maxSteps, logicalProcessors: lp, mix: options.setup.mix });
  const from = options.shard ? Math.floor(((options.shard.index - 1) * options.runs) / options.shard.count) : 0;
  const to = options.shard ? Math.floor((options.shard.index * options.runs) / options.shard.count) : options.runs;
  const batches: { from: number; cases: Operation[][] }[] = [];
  for (let start = from; start < to; start += options.batchSize) batches.push({ from: start, cases: all.slice(start, Math.min(to, start + options.batchSize)) });
  const total = to - from;
  let done = 0;
  const onCase = (cases: number): void => {
    done += cases;
    options.onProgress?.(Math.min(done, total), total);
  };
  const judge: JudgeOptions = { engine: options.engine, profile: options.profile, logicalProcessors: lp, acknowledge: options.acknowledge, onCase: () => onCase(1), guestsLeftOut: options.setup.mix === 'no-guests' };
  const leftOut = bochsLeftOut(options.setup.mix);
  if (leftOut !== undefined) judge.leftOut = leftOut;
  const before = { ...options.engine.stats };
  const workers = Math.min(options.jobs, batches.length);
  let shares: BatchShare[];
  const counted = { boots: 0, bochsMs: 0, bootedCases: 0 };
  if (workers < 2) {
    // One Bochs, pipelined: the next batch boots while this thread judges the current one, so
    // Bochs and the judging use a core each (one boot at a time: they share a work directory).
    shares = [];
    const asCases = (cases: readonly Operation[][]) => cases.map((operations) => ({ logicalProcessors: lp, operations }));
    let ahead: Promise<void> = batches[0] === undefined ? Promise.resolve() : options.engine.prefetchAsync(asCases(batches[0].cases));
    for (const [i, batch] of batches.entries()) {
      await ahead;
      const following = batches[i + 1];
      ahead = following === undefined ? Promise.resolve() : options.engine.prefetchAsync(asCases(following.cases));
      const share = await judgeBatch(judge, batch.cases, batch.from);
      options.engine.forget(asCases(batch.cases), asCases(following?.cases ?? []));
      shares.push(share);
      if (share.failedAt !== undefined) break;
    }
    await ahead;
  } else {
    shares = await runInWorkers(options, batches, workers, onCase, counted);
  }
  if (shares.length === 0) shares = [await judgeBatch(judge, [], from)];
  const universe = { boundaries: boundaryPoints(options.profile).map((p) => p.id) };
  const merged = mergeShares(
    shares.map((s) => ({ blocks: { differential: [s.from, s.to] as const }, stats: s.stats, ...(s.failedAt === undefined ? {} : { failedAt: { property: 'differential', index: s.failedAt } }) })),
    ['differential'],
    universe,
  );
  const failedAt = merged.failedAt?.index;
  const acknowledged = mergeAcknowledged(shares, failedAt);
  const stoppedAt = mergeStoppedAt(shares, failedAt);
  const failure = failedAt === undefined ? undefined : await shrinkFailure(options, all[failedAt] as Operation[], failedAt);
  const stats = options.engine.stats;
  return {
    stats: merged.stats,
    acknowledged,
    stoppedAt,
    ...(failure === undefined ? {} : { failure }),
    block: [from, to],
    workers: workers < 2 ? 0 : workers,
    boots: stats.boots - before.boots + counted.boots,
    bochsMs: stats.bootMs - before.bootMs + counted.bochsMs,
    bootedCases: stats.cases - before.cases + counted.bootedCases,
  };
}

/**
 * Runs the failing case again alone, in a fresh boot: a failure that reproduces is shrunk in
 * batched rounds (a mismatch and an engine fault alike); one that does not is kept as found.
 */
async function shrinkFailure(options: BochsCampaignOptions, operations: Operation[], index: number): Promise<BochsFailure> {
  const { engine, profile } = options;
  engine.forget();
  await engine.prefetchAsync([{ logicalProcessors: 1, operations }]);
  const first = runCaseDifferential(engine, profile, 1, operations);
  const reproduced = first.kind === 'divergent' && options.acknowledge?.(first, operations) === undefined;
  if (!reproduced) return { index, original: operations, originalOutcome: first, reproduced, shrunk: operations, outcome: first, rounds: 0 };
  const shrunk = await shrinkInBatches(operations, first, engine, profile, 1);
  if (!engine.answered(1, shrunk.operations)) await engine.prefetchAsync([{ logicalProcessors: 1, operations: shrunk.operations }]);
  const outcome = runCaseDifferential(engine, profile, 1, shrunk.operations);
  return { index, original: operations, originalOutcome: first, reproduced, shrunk: shrunk.operations, outcome, rounds: shrunk.rounds };
}

/** Hands the batches to `count` workers in index order; resolves to the shares that ran. */
function runInWorkers(
  options: BochsCampaignOptions,
  batches: readonly { from: number; cases: Operation[][] }[],
  count: number,
  onCase: (cases: number) => void,
  counted: { boots: number; bochsMs: number; bootedCases: number },
): Promise<BatchShare[]> {
  return new Promise((resolve, reject) => {
    const shares: BatchShare[] = [];
    const workers: Worker[] = [];
    let next = 0;
    let running = 0;
    let failure: number | undefined;
    let finished = false;
    const end = (error?: Error): void => {
      if (finished) return;
      finished = true;
      for (const w of workers) {
        w.postMessage({ kind: 'stop' } satisfies BochsJobRequest);
        setTimeout(() => void w.terminate(), 2_000).unref();
      }
      if (error) reject(error);
      else resolve(shares);
    };
    const feed = (worker: Worker): void => {
      // A batch that starts after a known failure is never needed (one job would not reach it).
      while (next < batches.length && failure !== undefined && (batches[next] as { from: number }).from > failure) next += 1;
      if (next >= batches.length) {
        if (running === 0) end();
        return;
      }
      running += 1;
      const task = next++;
      const batch = batches[task] as { from: number; cases: Operation[][] };
      worker.postMessage({ kind: 'run', task, from: batch.from, cases: batch.cases } satisfies BochsJobRequest);
    };
    for (let i = 0; i < count; i += 1) {
      const worker = new Worker(WORKER, { workerData: options.setup });
      workers.push(worker);
      options.onWorker?.(worker);
      worker.on('message', (reply: BochsJobReply) => {
        if (reply.kind === 'progress') return onCase(reply.cases);
        if (reply.kind === 'error') return end(new Error(`Bochs job worker failed on batch ${reply.task}: ${reply.message}`));
        running -= 1;
        shares.push(reply.share);
        counted.boots += reply.boots;
        counted.bochsMs += reply.bochsMs;
        counted.bootedCases += reply.bootedCases;
        if (reply.share.failedAt !== undefined) failure = Math.min(failure ?? Infinity, reply.share.failedAt);
        feed(worker);
      });
      worker.on('error', (error) => end(error instanceof Error ? error : new Error(String(error))));
      worker.on('exit', (code) => {
        if (!finished) end(new Error(`a Bochs job worker exited with code ${code} before the run ended`));
      });
      feed(worker);
    }
  });
}
