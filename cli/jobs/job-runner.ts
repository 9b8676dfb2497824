/**
 * The inside of a `--jobs` worker (started by cli/jobs/pool.ts through job-worker.js): loads the
 * engine and the profile as the main thread did, then runs each share of cases it is sent,
 * without shrinking, and answers with the share's statistics and where its first failure is.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runSuite } from '../../properties/suite.ts';
import { loadEngine, type LoadedEngine } from '../load-engine.ts';
import { ProcessEngine } from '../process-engine.ts';
import { resolveProfile } from '../load-profile.ts';
import type { JobSetup, JobReply, JobRequest } from './pool.ts';

const setup = workerData as JobSetup;
const port = parentPort;
if (port === null) throw new Error('job-runner.ts runs only as a worker');

// An emulator process (--emulator-cmd): this worker starts its own and runs whole cases on it.
const proc =
  setup.emulatorCmd === undefined
    ? undefined
    : ProcessEngine.open(setup.emulatorCmd, { handshakeTimeoutMs: setup.handshakeTimeoutMs ?? 10_000, stepTimeoutMs: setup.stepTimeoutMs ?? 10_000, logicalProcessors: setup.cpus });
const engine: LoadedEngine =
  proc === undefined
    ? await loadEngine(setup.emulator, { stepTimeoutMs: setup.stepTimeoutMs, handshakeTimeoutMs: setup.handshakeTimeoutMs, inProcess: setup.inProcess })
    : { name: proc.name, factory: proc.factory, lastFault: () => undefined, dispose: () => proc.close() };
const { profile, ref } = resolveProfile(setup.profile);
let pending = 0;
port.on('message', (request: JobRequest) => {
  if (request.kind === 'stop') {
    engine.dispose();
    port.close();
    return;
  }
  let reply: JobReply;
  try {
    const result = runSuite({
      factory: engine.factory,
      engineName: engine.name,
      profile,
      profileRef: ref,
      seed: setup.seed,
      runs: setup.runs,
      maxSteps: setup.maxSteps,
      logicalProcessors: setup.cpus,
      ...(proc === undefined ? {} : { caseEngine: proc }),
      ...(setup.metamorphicRuns === undefined ? {} : { metamorphicRuns: setup.metamorphicRuns }),
      slice: { blocks: request.blocks, shrink: false },
      onProgress: () => {
        pending += 1;
        if (pending >= 10) {
          port.postMessage({ kind: 'progress', cases: pending } satisfies JobReply);
          pending = 0;
        }
      },
    });
    reply = { kind: 'done', task: request.task, stats: result.stats, ...(result.failedAt ? { failedAt: result.failedAt } : {}) };
  } catch (error) {
    reply = { kind: 'error', task: request.task, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  if (pending > 0) port.postMessage({ kind: 'progress', cases: pending } satisfies JobReply);
  pending = 0;
  port.postMessage(reply);
});
port.postMessage({ kind: 'ready' } satisfies JobReply);
