// Runs a plug-in engine inside a worker thread for cli/isolated-engine.ts. It is the only place
// the plug-in module is ever imported, so a module that loops, prints or exits at load time harms
// nothing but this thread. Requests arrive on a message port, each with a sequence number; the
// reply carries the same number, and the number is then published in the shared flag, which the
// main thread waits on. A late wake-up can therefore never be taken for the answer to a newer
// request (the flag says which request was answered, not just "something happened").
import { register } from 'tsx/esm/api';
import { register as registerCommonJs } from 'tsx/cjs/api';
import { workerData } from 'node:worker_threads';

// Both loaders: a TypeScript plug-in in a package that is not an ES-module package is CommonJS.
register();
registerCommonJs();
/** Version of the messages between cli/isolated-engine.ts and this worker. */
const PROTOCOL = 1;
const { modulePath, flag, port } = workerData;
const signal = new Int32Array(flag);
let factory;
let loadError;
try {
  const module = await import(modulePath);
  factory = pickFactory(module);
  if (typeof factory !== 'function') {
    const names = Object.keys(module).filter((k) => k !== 'module.exports');
    loadError = { usage: true, error: `must export an engine factory as its default export or as "createEngine" (found ${names.join(', ') || 'no exports'})` };
  }
} catch (error) {
  loadError = { usage: true, error: `failed to load: ${error instanceof Error ? error.message : String(error)}` };
}
let engine;
let engineToken = 0;

/** The factory a module exports; a CommonJS module's exports arrive as the default export. */
function pickFactory(module) {
  for (const exports of [module, module.default]) {
    const candidate = exports?.default ?? exports?.createEngine;
    if (typeof candidate === 'function') return candidate;
  }
  return undefined;
}
const snapshots = new Map();
let nextSnapshot = 1;

function reply(seq, message) {
  port.postMessage({ seq, ...message });
  Atomics.store(signal, 0, seq);
  Atomics.notify(signal, 0);
}

function current(token) {
  if (token !== engineToken || engine === undefined) throw new Error('this engine was replaced by a newer one from the same factory');
  return engine;
}

function handle(request) {
  switch (request.kind) {
    case 'load':
      if (loadError) return { ok: false, ...loadError };
      return { protocol: PROTOCOL };
    case 'create': {
      engine = undefined;
      snapshots.clear();
      const created = factory(request.config);
      const missing = ['step', 'snapshot', 'restore'].filter((m) => typeof created?.[m] !== 'function');
      if (missing.length > 0) {
        return { ok: false, usage: true, error: `the engine it created lacks ${missing.join(', ')}: see the Engine interface in spec/engine.ts` };
      }
      engine = created;
      engineToken += 1;
      return { name: typeof created.name === 'string' ? created.name : undefined, token: engineToken };
    }
    case 'step':
      return { observation: current(request.token).step(request.operation) };
    case 'snapshot': {
      const id = nextSnapshot++;
      snapshots.set(id, current(request.token).snapshot());
      return { snapshot: id };
    }
    case 'restore':
      current(request.token).restore(snapshots.get(request.snapshot));
      return {};
    default:
      throw new Error(`unknown request ${request.kind}`);
  }
}

port.on('message', (request) => {
  let answer;
  try {
    answer = { ok: true, ...handle(request) };
  } catch (error) {
    answer = { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  try {
    reply(request.seq, answer);
  } catch (error) {
    // The answer cannot be cloned (a function, a symbol...): say so instead of staying silent.
    reply(request.seq, { ok: false, garbage: true, error: `the answer cannot be sent: ${error instanceof Error ? error.message : String(error)}` });
  }
});
