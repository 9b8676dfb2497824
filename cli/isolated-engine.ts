/**
 * Plug-in engines run in a worker thread, so that one that hangs, crashes or misbehaves at load
 * time cannot stall, kill or corrupt the suite. The module is imported only inside the worker
 * (cli/engine-worker.js); a supervisor thread (cli/engine-supervisor.js) watches that worker and
 * reports its death at once. Calls stay synchronous for the suite: the main thread posts a
 * request with a sequence number and blocks on a shared flag with Atomics.wait until the flag
 * holds that number (the answer), CRASHED (the supervisor's news), or the time limit passes.
 * `'ok'` from Atomics.wait is never trusted alone: a late notify for an earlier request can wake
 * the thread, so the flag's value decides.
 */
import { basename } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Engine, EngineConfig, EngineFactory } from '../spec/engine.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';
import { EmulatorFault, type FaultRecord } from './engine-fault.ts';
import { PluginOutput } from './plugin-output.ts';
import { UsageError } from './usage-error.ts';

const SUPERVISOR = new URL('./engine-supervisor.js', import.meta.url);
/** The worker's protocol version (see PROTOCOL in engine-worker.js). */
const PROTOCOL = 1;
/** Value of the shared flag once the supervisor saw the plug-in's worker die. */
const CRASHED = -1;
/** Largest answer accepted, in characters of JSON; a bigger one is an oversized-answer fault. */
export const MAX_ANSWER_CHARS = 1 << 20;

/**
 * Blocks until the shared flag holds `seq` (the answer to request `seq` was posted), CRASHED, or
 * `limitMs` pass. A wake-up is only a hint to look again: Atomics.wait returns 'ok' for any
 * notify, including a late one meant for an earlier request.
 */
export function waitForAnswer(flag: Int32Array, seq: number, limitMs: number): 'answered' | 'crashed' | 'timed-out' {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const state = Atomics.load(flag, 0);
    if (state === seq) return 'answered';
    if (state === CRASHED) return 'crashed';
    const left = deadline - Date.now();
    if (left <= 0) return 'timed-out';
    Atomics.wait(flag, 0, state, left);
  }
}

/** Limits for an isolated plug-in. */
export interface IsolationOptions {
  /** Milliseconds per call (step, snapshot, restore, create). */
  stepTimeoutMs: number;
  /** Milliseconds for the handshake: loading the module. */
  handshakeTimeoutMs: number;
  /** Heap limit of the plug-in's worker, in MB (default: Node's). */
  maxOldGenerationSizeMb?: number;
}

interface Reply {
  seq: number;
  ok: boolean;
  error?: string;
  usage?: boolean;
  garbage?: boolean;
  protocol?: number;
  name?: string;
  token?: number;
  observation?: Observation;
  snapshot?: number;
}

interface Running {
  supervisor: Worker;
  requests: MessagePort;
  control: MessagePort;
  flag: Int32Array;
  generation: number;
}

/** A plug-in module running in a worker under a supervisor; every call answers or faults. */
export class PluginHost {
  readonly name: string;
  private running: Running | undefined;
  /** True once the running worker answered the handshake. */
  private loaded = false;
  private pendingLoad = 0;
  private seq = 0;
  private generation = 0;
  /** The fault of the latest engine created, if it faulted. */
  lastFault: FaultRecord | undefined;
  private readonly output: PluginOutput;

  constructor(
    private readonly moduleUrl: string,
    private readonly options: IsolationOptions,
  ) {
    this.name = basename(new URL(moduleUrl).pathname).replace(/\.[cm]?[jt]sx?$/, '');
    this.output = new PluginOutput(this.name);
  }

  /** Starts the worker and loads the module; throws UsageError for a module that is not a plug-in. */
  start(): void {
    if (this.running !== undefined && this.loaded) return;
    const loadSeq = this.running === undefined ? this.spawn() : this.pendingLoad;
    const reply = this.await(loadSeq, { kind: 'load' }, 'loading the module (the handshake)', this.options.handshakeTimeoutMs);
    if (!reply.ok) {
      this.stop();
      throw new UsageError(`emulator module ${this.name} ${reply.error ?? 'failed to load'}`);
    }
    if (reply.protocol !== PROTOCOL) {
      this.stop();
      throw new EmulatorFault('protocol', this.name, `speaks protocol ${String(reply.protocol)}, expected ${PROTOCOL}`, { call: 'the handshake' });
    }
    this.loaded = true;
  }

  /**
   * Starts a supervisor and worker and asks it to load the module, without waiting: threads boot
   * in parallel, so after a crash the replacement loads while the suite carries on (shrinking a
   * crash does not pay a full start-up per attempt). Returns the load request's number.
   */
  private spawn(): number {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const requests = new MessageChannel();
    const control = new MessageChannel();
    const supervisor = new Worker(SUPERVISOR, {
      workerData: {
        modulePath: this.moduleUrl,
        flag: flag.buffer,
        requestPort: requests.port2,
        controlPort: control.port2,
        maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb,
      },
      transferList: [requests.port2, control.port2],
    });
    supervisor.unref();
    requests.port1.unref();
    control.port1.unref();
    this.generation += 1;
    this.loaded = false;
    this.running = { supervisor, requests: requests.port1, control: control.port1, flag, generation: this.generation };
    this.pendingLoad = this.post({ kind: 'load' });
    return this.pendingLoad;
  }

  /** Creates an engine in the worker (starting it if needed); returns its token and name. */
  create(config: EngineConfig): { token: number; generation: number; name?: string } {
    this.lastFault = undefined;
    this.start();
    const reply = this.call({ kind: 'create', config }, 'creating the engine');
    return { token: reply.token ?? 0, generation: this.generation, name: reply.name };
  }

  /** One call to a live engine; throws EmulatorFault or the plug-in's own error. */
  call(request: Record<string, unknown>, during: string, generation = this.generation): Reply {
    if (this.running === undefined || !this.loaded || generation !== this.generation) {
      throw this.fault(new EmulatorFault('crash', this.name, 'its worker already stopped after an earlier fault', { call: during }));
    }
    const reply = this.exchange(request, during, this.options.stepTimeoutMs);
    if (!reply.ok) {
      if (reply.usage) throw new UsageError(`emulator module ${this.name}: ${reply.error}`);
      if (reply.garbage) throw this.fault(new EmulatorFault('garbage', this.name, reply.error ?? 'unreadable answer', { call: during }));
      throw new Error(reply.error ?? `the plug-in failed during ${during}`);
    }
    return reply;
  }

  /** Shows any console output the plug-in produced so far and stops the worker. */
  dispose(): void {
    this.drainControl();
    this.output.flush();
    this.stop();
  }

  private fault(fault: EmulatorFault): EmulatorFault {
    this.lastFault = { kind: fault.kind, message: fault.message };
    return fault;
  }

  private stop(): void {
    const running = this.running;
    this.running = undefined;
    this.loaded = false;
    if (running === undefined) return;
    running.requests.close();
    running.control.close();
    void running.supervisor.terminate();
  }

  /** Posts one request and waits for its answer, a crash, or the time limit. */
  private exchange(request: Record<string, unknown>, during: string, limitMs: number): Reply {
    return this.await(this.post(request), request, during, limitMs);
  }

  private post(request: Record<string, unknown>): number {
    const seq = ++this.seq;
    (this.running as Running).requests.postMessage({ ...request, seq });
    return seq;
  }

  /** Waits for the answer to request `seq`, a crash, or the time limit. */
  private await(seq: number, request: Record<string, unknown>, during: string, limitMs: number): Reply {
    const running = this.running as Running;
    const result = waitForAnswer(running.flag, seq, limitMs);
    if (result === 'crashed') {
      const detail = this.drainControl() ?? 'its worker stopped';
      this.restart();
      throw this.fault(new EmulatorFault('crash', this.name, detail, { call: during }));
    }
    if (result === 'timed-out') {
      this.drainControl();
      this.restart();
      const option = request.kind === 'load' ? '--handshake-timeout' : '--step-timeout';
      throw this.fault(new EmulatorFault('hang', this.name, `no answer within ${limitMs} ms (hung or too slow; see ${option})`, { call: during }));
    }
    this.drainControl();
    let message = receiveMessageOnPort(running.requests);
    // Answers to earlier requests (whose callers already gave up) are dropped, never taken for this one.
    while (message !== undefined && (message.message as Reply).seq !== seq) message = receiveMessageOnPort(running.requests);
    if (message === undefined) {
      this.restart();
      throw this.fault(new EmulatorFault('protocol', this.name, `signalled answer ${seq} but sent none`, { call: during }));
    }
    const reply = message.message as Reply;
    if (reply.observation !== undefined) this.checkSize(reply.observation, during);
    return reply;
  }

  /** Stops a worker that faulted and starts loading its replacement at once (not while loading: that would loop). */
  private restart(): void {
    const wasLoaded = this.loaded;
    this.stop();
    if (wasLoaded) this.spawn();
  }

  private checkSize(value: unknown, during: string): void {
    let size = 0;
    try {
      size = JSON.stringify(value)?.length ?? 0;
    } catch {
      return; // not JSON (a BigInt...): the observation check reports it as garbage
    }
    if (size > MAX_ANSWER_CHARS) {
      throw this.fault(new EmulatorFault('oversized', this.name, `an answer of ${size} characters (the limit is ${MAX_ANSWER_CHARS})`, { call: during }));
    }
  }

  /** Shows forwarded console output; returns the crash detail if the supervisor sent one. */
  private drainControl(): string | undefined {
    const running = this.running;
    if (running === undefined) return undefined;
    let crash: string | undefined;
    for (let m = receiveMessageOnPort(running.control); m !== undefined; m = receiveMessageOnPort(running.control)) {
      const message = m.message as { kind: string; stream?: string; text?: string; detail?: string };
      if (message.kind === 'output') this.output.write(message.text ?? '');
      if (message.kind === 'crash') crash = message.detail;
    }
    return crash;
  }
}

/** An engine factory whose engines live in the worker of `host`. */
export function isolatedFactory(host: PluginHost): EngineFactory {
  return (config: EngineConfig): Engine => {
    const { token, generation, name } = host.create(config);
    const call = (request: Record<string, unknown>, during: string): Reply => host.call({ ...request, token }, during, generation);
    return {
      name: name ?? host.name,
      step: (operation: Operation) => call({ kind: 'step', operation }, `step ${operation.kind} (cpu${operation.cpu})`).observation as Observation,
      snapshot: () => call({ kind: 'snapshot' }, 'snapshot').snapshot,
      restore: (snapshot: unknown) => {
        call({ kind: 'restore', snapshot }, 'restore');
      },
    };
  };
}
