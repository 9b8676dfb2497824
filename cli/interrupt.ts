/**
 * Ctrl-C during a run. While a run waits for its workers or its Bochs boots (the main thread is
 * free), SIGINT is handled here: the progress bar is stopped, the terminal's cursor and line wrap
 * are switched back on (whatever a bar or an emulator did to them), every child process the run
 * started is killed (cli/children.ts), a line says how far the run got and where its files are,
 * and the command exits with 130 (128 + SIGINT), as the shell's default ending would.
 *
 * Where the suite runs synchronously in the main thread (one job), no handler can run, so none
 * is installed there: Node's default ending applies, with the same status 130, and the progress
 * line already shows how far the run got.
 */
import { killChildren } from './children.ts';

/** Exit status of an interrupted run. */
export const EXIT_INTERRUPTED = 130;

/** Turns the cursor on (DECTCEM) and line wrapping on (DECAWM). */
export const RESTORE_TERMINAL = '\x1b[?25h\x1b[?7h';

/** What the handler needs from the run: how to stop its own machinery and how far it got. */
export interface InterruptHooks {
  /** Stops the progress bar, terminates worker threads; must not throw. */
  stop(): void;
  /** One or more lines: cases done of the total, divergences so far, where files were saved. */
  describe(): string;
}

/** Installs the SIGINT handler for the duration of an asynchronous run; returns the function that removes it. */
export function handleInterrupt(hooks: InterruptHooks, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  const handler = (): void => {
    try {
      hooks.stop();
    } catch {
      // the report below matters more
    }
    const killed = killChildren();
    if (process.stderr.isTTY) process.stderr.write(RESTORE_TERMINAL);
    const children = killed === 0 ? '' : ` (stopped ${killed} child process${killed === 1 ? '' : 'es'})`;
    process.stderr.write(`\ninterrupted${children}: ${hooks.describe()}\n`);
    exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', handler);
  return () => void process.off('SIGINT', handler);
}
