/**
 * Plug-in engines run in a worker thread so that one that hangs cannot stall the suite: every
 * call waits for the worker's answer with a time limit, and a plug-in that does not answer in
 * time is reported like a crash (the step throws, the suite records a divergence and keeps the
 * case). Calls stay synchronous for the suite: the main thread blocks on a shared flag with
 * Atomics.wait and takes the reply with receiveMessageOnPort.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Engine, EngineConfig, EngineFactory } from '../spec/engine.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';

const WORKER = new URL('./engine-worker.js', import.meta.url);
/** Time a plug-in module may take to load. */
const LOAD_TIMEOUT_MS = 30_000;

interface Reply {
  ok: boolean;
  error?: string;
  name?: string;
  observation?: Observation;
  snapshot?: number;
}

/** A plug-in module running in a worker, answering within `timeoutMs` or failing. */
class WorkerHost {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private flag = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly moduleUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** Sends one request and waits for its reply; throws on a timeout or an error in the plug-in. */
  call(request: Record<string, unknown>, what: string): Reply {
    const port = this.ensure();
    Atomics.store(this.flag, 0, 0);
    port.postMessage(request);
    const reply = this.await(port, what, this.timeoutMs);
    if (!reply.ok) throw new Error(reply.error ?? `plug-in failed during ${what}`);
    return reply;
  }

  /** Stops the worker (after a timeout); the next call starts a fresh one. */
  private stop(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
    this.port = undefined;
  }

  private ensure(): MessagePort {
    if (this.port !== undefined) return this.port;
    const { port1, port2 } = new MessageChannel();
    this.flag = new Int32Array(new SharedArrayBuffer(4));
    this.worker = new Worker(WORKER, {
      workerData: { modulePath: this.moduleUrl, flag: this.flag.buffer, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    port1.unref();
    this.port = port1;
    this.await(port1, 'loading the module', LOAD_TIMEOUT_MS);
    return port1;
  }

  private await(port: MessagePort, what: string, limit: number): Reply {
    if (Atomics.wait(this.flag, 0, 0, limit) === 'timed-out') {
      this.stop();
      throw new Error(`the plug-in did not answer within ${limit} ms during ${what} (hung or too slow; see --step-timeout)`);
    }
    const message = receiveMessageOnPort(port);
    if (message === undefined) throw new Error(`the plug-in signalled an answer during ${what} but sent none`);
    return message.message as Reply;
  }
}

/** An engine factory whose engines live in a worker running the plug-in module at `moduleUrl`. */
export function isolatedFactory(moduleUrl: string, timeoutMs: number): EngineFactory {
  const host = new WorkerHost(moduleUrl, timeoutMs);
  return (config: EngineConfig): Engine => {
    const created = host.call({ kind: 'create', config }, 'creating the engine');
    return {
      name: created.name ?? 'plug-in',
      step: (operation: Operation) => host.call({ kind: 'step', operation }, `step ${operation.kind}`).observation as Observation,
      snapshot: () => host.call({ kind: 'snapshot' }, 'snapshot').snapshot,
      restore: (snapshot: unknown) => {
        host.call({ kind: 'restore', snapshot }, 'restore');
      },
    };
  };
}
