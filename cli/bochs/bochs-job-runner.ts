/**
 * The inside of a Bochs `--jobs` worker (started by bochs-campaign.ts through bochs-worker.js):
 * opens its own Bochs with the capability MSRs the main thread read (no probe boot), then runs
 * and judges each batch it is sent, answering with the batch's share of the run and how many
 * boots it took. Its Bochs processes are reported to the main thread (cli/children.ts) so an
 * interrupted run can stop them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { judgeBatch } from '../../properties/batched-suite.ts';
import { bochsLeftOut } from './bytecode.ts';
import { trackChild } from '../children.ts';
import { resolveProfile } from '../load-profile.ts';
import { BochsEngine } from './bochs-engine.ts';
import type { BochsJobReply, BochsJobRequest, BochsJobSetup } from './bochs-campaign.ts';
import { matchKnown, readKnownDivergences } from './known-divergences.ts';

const setup = workerData as BochsJobSetup;
const port = parentPort;
if (port === null) throw new Error('bochs-job-runner.ts runs only as a worker');

const engine = BochsEngine.open({ model: setup.model, timeoutMs: setup.timeoutMs, stallMs: setup.stallMs, knownProfile: setup.bochsProfile, onChild: trackChild });
const { profile } = resolveProfile(setup.profileRef);
const known = setup.knownDivergences === undefined ? [] : readKnownDivergences(setup.knownDivergences);
let pending = 0;
const flush = (): void => {
  if (pending > 0) port.postMessage({ kind: 'progress', cases: pending } satisfies BochsJobReply);
  pending = 0;
};

port.on('message', (request: BochsJobRequest) => {
  if (request.kind === 'stop') {
    engine.close();
    port.close();
    return;
  }
  const leftOut = bochsLeftOut(setup.mix);
  void (async () => {
    const before = { ...engine.stats };
    let reply: BochsJobReply;
    try {
      const share = await judgeBatch(
        {
          engine,
          profile,
          logicalProcessors: 1,
          guestsLeftOut: setup.mix === 'no-guests',
          ...(leftOut === undefined ? {} : { leftOut }),
          acknowledge: (outcome, operations) => matchKnown(known, outcome, operations),
          onCase: () => {
            pending += 1;
            if (pending >= 50) flush();
          },
        },
        request.cases,
        request.from,
      );
      engine.forget();
      reply = { kind: 'done', task: request.task, share, boots: engine.stats.boots - before.boots, bochsMs: engine.stats.bootMs - before.bootMs, bootedCases: engine.stats.cases - before.cases };
    } catch (error) {
      reply = { kind: 'error', task: request.task, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    flush();
    port.postMessage(reply);
  })();
});
