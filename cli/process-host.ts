/**
 * The main thread's side of an emulator process: a worker thread (process-worker.js) owns the
 * process and its pipes; this thread sends it one request at a time and blocks until the reply
 * with the same sequence number arrives. The shared flag holds the sequence number of the last
 * reply, so a wake-up (or Atomics.wait's 'ok') is never taken as an answer by itself.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

const WORKER = new URL('./process-worker.js', import.meta.url);
/** How much longer than the worker's own limit the main thread waits before it gives up on the worker. */
const WATCHDOG_MARGIN_MS = 5_000;

/** What went wrong with the process, as the worker saw it. */
export interface WorkerFault {
  kind: 'crash' | 'hang' | 'garbage' | 'truncated' | 'oversized' | 'spawn' | 'harness';
  detail: string;
}

/** The worker's answer to one request. */
export interface HostReply {
  ok: boolean;
  /** Parsed lines the emulator printed (JSON objects with a `type`), in order. */
  messages: Record<string, unknown>[];
  /** For an exchange: the last message has one of the awaited types. */
  finished?: boolean;
  fault?: WorkerFault;
  /** Lines of the emulator's standard error since the last reply. */
  stderr: string[];
  pid?: number;
  exit?: { code: number | null; signal: string | null };
}

/** One emulator process behind a worker thread. */
export class ProcessHost {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;
  private closed = false;

  /**
   * Starts the worker and the process `argv`. `onLog` receives the process's standard-error lines
   * as they come back with replies.
   */
  constructor(
    argv: readonly string[],
    maxLineBytes: number,
    private readonly onLog: (line: string) => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(WORKER, {
      workerData: { argv: [...argv], flag: this.flag.buffer, port: port2, maxLineBytes },
      transferList: [port2],
    });
    this.worker.unref();
    port1.unref();
    this.port = port1;
  }

  /** Starts the process. */
  start(): HostReply {
    return this.request({ op: 'start' }, 30_000);
  }

  /**
   * Writes `send` (one line, if given) and returns the messages that arrive next: at least one,
   * `finished` when the last has one of the types in `until`. Call again without `send` for more.
   */
  exchange(send: string | undefined, until: readonly string[], timeoutMs: number): HostReply {
    return this.request({ op: 'exchange', send, until, timeoutMs }, timeoutMs);
  }

  /** Kills the process (after a fault the harness found itself). */
  kill(): void {
    if (!this.closed) this.request({ op: 'kill' }, 5_000);
  }

  /** Writes `send`, closes the process's input, waits up to `graceMs` for it to exit, then kills it and the worker. */
  stop(send: string | undefined, graceMs: number): HostReply | undefined {
    if (this.closed) return undefined;
    try {
      return this.request({ op: 'stop', send, graceMs }, graceMs);
    } finally {
      this.closed = true;
      void this.worker.terminate();
      this.port.close();
    }
  }

  private request(body: Record<string, unknown>, limitMs: number): HostReply {
    if (this.closed) throw new Error('the emulator process was already stopped');
    const seq = ++this.seq;
    this.port.postMessage({ seq, ...body });
    const deadline = Date.now() + limitMs + WATCHDOG_MARGIN_MS;
    for (;;) {
      const seen = Atomics.load(this.flag, 0);
      if (seen === seq) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        return { ok: false, messages: [], stderr: [], fault: { kind: 'harness', detail: `the worker owning the process did not answer within ${limitMs + WATCHDOG_MARGIN_MS} ms` } };
      }
      Atomics.wait(this.flag, 0, seen, left);
    }
    const reply = this.take(seq);
    for (const line of reply.stderr) this.onLog(line);
    return reply;
  }

  /** Takes the reply numbered `seq` off the port, dropping any older one left by an earlier give-up. */
  private take(seq: number): HostReply {
    for (let tries = 0; tries < 1000; tries++) {
      const received = receiveMessageOnPort(this.port);
      if (received === undefined) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      const message = received.message as HostReply & { seq: number };
      if (message.seq === seq) return message;
    }
    return { ok: false, messages: [], stderr: [], fault: { kind: 'harness', detail: `the worker signalled reply ${seq} but none arrived` } };
  }
}
