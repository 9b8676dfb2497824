// Watches the plug-in worker for cli/isolated-engine.ts. The main thread is blocked in
// Atomics.wait while a plug-in works, so it cannot hear a worker's 'exit' or 'error' event; this
// thread can. When the plug-in's worker dies (process.exit, out of memory, an uncaught error) it
// posts what happened and sets the shared flag to CRASHED at once, so a crash is reported as a
// crash, immediately, and never waits out a timeout. It also forwards the plug-in's console
// output, which the main thread shows on standard error under the plug-in's name.
import { Worker, workerData } from 'node:worker_threads';

const CRASHED = -1;
const { modulePath, flag, requestPort, controlPort, maxOldGenerationSizeMb } = workerData;
const signal = new Int32Array(flag);
const child = new Worker(new URL('./engine-worker.js', import.meta.url), {
  workerData: { modulePath, flag, port: requestPort },
  transferList: [requestPort],
  stdout: true,
  stderr: true,
  ...(maxOldGenerationSizeMb ? { resourceLimits: { maxOldGenerationSizeMb } } : {}),
});
for (const stream of ['stdout', 'stderr']) {
  child[stream].setEncoding('utf8');
  child[stream].on('data', (text) => controlPort.postMessage({ kind: 'output', stream, text }));
}
let cause;
child.on('error', (error) => {
  cause =
    error?.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? `ran out of memory (${error.message})`
      : `died of an uncaught ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
});
child.on('exit', (code) => {
  // Let the last console output arrive before the news of the death.
  setImmediate(() => {
    controlPort.postMessage({ kind: 'crash', detail: cause ?? `exited with code ${code}` });
    Atomics.store(signal, 0, CRASHED);
    Atomics.notify(signal, 0);
  });
});
