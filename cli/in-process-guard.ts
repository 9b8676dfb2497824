/**
 * `--in-process` runs a plug-in in the main thread, where nothing can stop a hang. What can be
 * done is done here: while plug-in code runs, its console output goes to standard error under
 * its name (never into a `--json` report), and `process.exit` throws an {@link EmulatorFault}
 * instead of ending the run with nothing printed and no case saved.
 */
import { format } from 'node:util';
import { EmulatorFault } from './engine-fault.ts';
import { PluginOutput } from './plugin-output.ts';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/** Runs plug-in code with its output and process.exit caught; see the file comment. */
export class InProcessGuard {
  private readonly output: PluginOutput;

  constructor(private readonly name: string) {
    this.output = new PluginOutput(name);
  }

  /** Calls `body` (plug-in code doing `during`) under the guard. */
  run<T>(during: string, body: () => T): T {
    const restore = this.install(during);
    try {
      return body();
    } finally {
      restore();
    }
  }

  /** Like run, for a promise (loading the module): the guard stays on until it settles. */
  async runAsync<T>(during: string, body: () => Promise<T>): Promise<T> {
    const restore = this.install(during);
    try {
      return await body();
    } finally {
      restore();
    }
  }

  /** Redirects console output and process.exit; returns the function that puts them back. */
  private install(during: string): () => void {
    const saved = CONSOLE_METHODS.map((m) => console[m]);
    const savedExit = process.exit;
    const savedWrite = process.stdout.write;
    const print = (...args: unknown[]): void => this.output.write(`${format(...args)}\n`);
    for (const m of CONSOLE_METHODS) console[m] = print;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      this.output.write(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    process.exit = ((code?: number | string | null) => {
      throw new EmulatorFault('crash', this.name, `called process.exit(${code ?? ''})`, { call: during });
    }) as typeof process.exit;
    return () => {
      CONSOLE_METHODS.forEach((m, i) => {
        console[m] = saved[i] as (typeof console)[typeof m];
      });
      process.exit = savedExit;
      process.stdout.write = savedWrite;
    };
  }

  /** Writes a pending partial line of output. */
  flush(): void {
    this.output.flush();
  }
}
