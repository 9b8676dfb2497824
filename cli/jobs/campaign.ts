/**
 * A run, or a shard of one, on one or more jobs. With one job the suite runs in this thread as it
 * always did. With more, the cases are cut into chunks that worker threads run without shrinking
 * (cli/jobs/pool.ts); their statistics are merged as one job would have gathered them
 * (merge-stats.ts), and the first failing case *by index* is then run again here and shrunk, so
 * the result is the same whatever the number of jobs.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { runSuite, suitePropertyNames, type SuiteOptions, type SuiteResult } from '../../properties/suite.ts';
import { boundaryPoints } from '../../properties/generators/boundary-points.ts';
import { mergeShares } from './merge-stats.ts';
import { caseCount, chunks, shardBlocks, wholeRun, type Blocks, type Shard } from './plan.ts';
import { runShares, type JobSetup } from './pool.ts';

/** Fewest cases worth a worker of its own: starting one (loading the sources) costs about this many cases. */
export const CASES_PER_JOB = 200;

/** The default of `--jobs`: the cores Node may use. */
export const defaultJobs = (): number => availableParallelism();

/** How to split the run. */
export interface CampaignOptions {
  jobs: number;
  shard?: Shard;
  /** What the workers need to load the same engine and profile. */
  setup: JobSetup;
  /** Called when the workers start and when they have all finished (the main thread is free in between). */
  onWorkers?: (running: boolean, workers: readonly Worker[]) => void;
}

/** What a campaign found, with the blocks of cases it ran and the property order. */
export interface CampaignResult extends SuiteResult {
  blocks: Blocks;
  properties: string[];
  /** Workers actually started (0: the run stayed in this thread). */
  workers: number;
}

/** Runs the suite, or the shard's share of it, on up to `jobs` worker threads. */
export async function runCampaign(suite: SuiteOptions, options: CampaignOptions): Promise<CampaignResult> {
  const properties = suitePropertyNames(suite);
  const metamorphicRuns = suite.metamorphicRuns ?? Math.max(1, Math.floor(suite.runs / 10));
  const whole = wholeRun(properties, suite.runs, metamorphicRuns);
  const blocks = options.shard ? shardBlocks(whole, options.shard) : whole;
  const total = caseCount(blocks);
  const workers = Math.min(options.jobs, Math.floor(total / CASES_PER_JOB));
  // A case engine (an emulator process) runs in workers only when each worker can start its own.
  if (workers < 2 || (suite.caseEngine !== undefined && options.setup.emulatorCmd === undefined)) {
    const result = runSuite(options.shard ? { ...suite, slice: { blocks, shrink: true } } : suite);
    return { ...result, blocks, properties, workers: 0 };
  }
  // Chunks small enough to balance the load, big enough that each costs little to hand out.
  const size = Math.max(20, Math.ceil(total / (workers * 8)));
  const tasks = chunks(blocks, size);
  let done = 0;
  const started: Worker[] = [];
  options.onWorkers?.(true, started);
  let shares;
  try {
    shares = await runShares(options.setup, tasks, workers, properties, (cases) => {
      done += cases;
      suite.onProgress?.(Math.min(done, total), total);
    }, (worker) => void started.push(worker));
  } finally {
    options.onWorkers?.(false, started);
  }
  const universe = { boundaries: boundaryPoints(suite.profile).map((p) => p.id) };
  const merged = mergeShares(shares, properties, universe);
  if (merged.failedAt === undefined) return { stats: merged.stats, blocks, properties, workers };
  const { property, index } = merged.failedAt;
  const again = runSuite({ ...suite, onProgress: undefined, slice: { blocks: { [property]: [index, index + 1] }, shrink: true } });
  if (again.failure) return { stats: merged.stats, failure: again.failure, blocks, properties, workers };
  // The case failed in a worker but not here: the engine is not deterministic. Let one job decide.
  const alone = runSuite(options.shard ? { ...suite, onProgress: undefined, slice: { blocks, shrink: true } } : { ...suite, onProgress: undefined });
  return { ...alone, blocks, properties, workers };
}
