// Runs a plug-in engine inside a worker thread for cli/isolated-engine.ts, so that a plug-in that
// hangs can be stopped. Requests arrive as messages; each reply is posted back and announced by
// setting the shared flag, which the main thread waits on with a time limit.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
const { modulePath, flag, port } = workerData;
const signal = new Int32Array(flag);
const module = await import(modulePath);
const factory = module.default ?? module.createEngine;
let engine;
const snapshots = new Map();
let nextSnapshot = 1;

function reply(message) {
  port.postMessage(message);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function handle(request) {
  switch (request.kind) {
    case 'create':
      engine = factory(request.config);
      snapshots.clear();
      {
        const missing = ['step', 'snapshot', 'restore'].filter((m) => typeof engine?.[m] !== 'function');
        if (missing.length > 0) throw new Error(`the engine lacks ${missing.join(', ')}: see the Engine interface in spec/engine.ts`);
      }
      return { name: engine.name };
    case 'step':
      return { observation: engine.step(request.operation) };
    case 'snapshot': {
      const id = nextSnapshot++;
      snapshots.set(id, engine.snapshot());
      return { snapshot: id };
    }
    case 'restore':
      engine.restore(snapshots.get(request.snapshot));
      return {};
    default:
      throw new Error(`unknown request ${request.kind}`);
  }
}

port.on('message', (request) => {
  try {
    reply({ ok: true, ...handle(request) });
  } catch (error) {
    reply({ ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
reply({ ok: true, ready: true });
