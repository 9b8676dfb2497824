/**
 * Worker threads for `vmx-conformance run --jobs <n>`: each loads the engine itself and runs the
 * chunks of cases it is given (cli/jobs/job-runner.ts). Chunks are handed out in index order as
 * workers become free; once a failure is known, chunks that start after it are not handed out
 * (a single job would never have reached them).
 */
import { Worker } from 'node:worker_threads';
import type { ProfileData } from '../../spec/profile-data.ts';
import type { SuiteStats } from '../../properties/suite.ts';
import { firstFailure, type FailurePoint, type ShareResult } from './merge-stats.ts';
import type { Blocks } from './plan.ts';

const WORKER = new URL('./job-worker.js', import.meta.url);

/** What a worker needs to run shares exactly as the main thread would. */
export interface JobSetup {
  emulator?: string;
  /** An emulator process's command line (`--emulator-cmd`): each worker starts its own process. */
  emulatorCmd?: string;
  stepTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  inProcess?: boolean;
  profile: string | ProfileData;
  seed: number;
  runs: number;
  maxSteps: number;
  cpus: number;
  metamorphicRuns?: number;
}

/** Main thread to worker. */
export type JobRequest = { kind: 'run'; task: number; blocks: Blocks } | { kind: 'stop' };

/** Worker to main thread. */
export type JobReply =
  | { kind: 'ready' }
  | { kind: 'progress'; cases: number }
  | { kind: 'done'; task: number; stats: SuiteStats; failedAt?: FailurePoint }
  | { kind: 'error'; task: number; message: string };

/** True when every block of the task starts after the failure (in the order a single job runs them). */
function after(blocks: Blocks, failure: FailurePoint | undefined, order: readonly string[]): boolean {
  if (failure === undefined) return false;
  return Object.entries(blocks).every(([p, [from]]) => {
    const rank = order.indexOf(p);
    const failed = order.indexOf(failure.property);
    return rank > failed || (rank === failed && from > failure.index);
  });
}

/** Runs the tasks on `jobs` workers; resolves to the results of the tasks that ran. */
export function runShares(
  setup: JobSetup,
  tasks: readonly Blocks[],
  jobs: number,
  order: readonly string[],
  onCases: (cases: number) => void,
  onWorker: (worker: Worker) => void = () => undefined,
): Promise<ShareResult[]> {
  return new Promise((resolve, reject) => {
    const results: ShareResult[] = [];
    const workers: Worker[] = [];
    let next = 0;
    let running = 0;
    let failure: FailurePoint | undefined;
    let finished = false;
    const end = (error?: Error): void => {
      if (finished) return;
      finished = true;
      for (const w of workers) void w.terminate();
      if (error) reject(error);
      else resolve(results);
    };
    const feed = (worker: Worker): void => {
      while (next < tasks.length && after(tasks[next] as Blocks, failure, order)) next += 1;
      if (next >= tasks.length) {
        if (running === 0) end();
        return;
      }
      running += 1;
      const task = next++;
      worker.postMessage({ kind: 'run', task, blocks: tasks[task] as Blocks } satisfies JobRequest);
    };
    for (let i = 0; i < Math.min(jobs, tasks.length); i += 1) {
      const worker = new Worker(WORKER, { workerData: setup });
      workers.push(worker);
      onWorker(worker);
      worker.on('message', (reply: JobReply) => {
        if (reply.kind === 'progress') return onCases(reply.cases);
        if (reply.kind === 'error') return end(new Error(`job worker failed on chunk ${reply.task}: ${reply.message}`));
        if (reply.kind === 'done') {
          running -= 1;
          results.push({ blocks: tasks[reply.task] as Blocks, stats: reply.stats, ...(reply.failedAt ? { failedAt: reply.failedAt } : {}) });
          failure = firstFailure([failure, reply.failedAt], order);
        }
        feed(worker);
      });
      worker.on('error', (error) => end(error instanceof Error ? error : new Error(String(error))));
      worker.on('exit', (code) => {
        if (!finished) end(new Error(`a job worker exited with code ${code} before the run ended`));
      });
    }
  });
}
