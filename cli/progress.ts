/**
 * Progress of long runs on standard error: a live bar on a terminal, a line every tenth of the
 * run otherwise (CI logs), nothing with --json or when the run is short. Both show the seed, so
 * a run stopped with Ctrl-C says how far it got and how to repeat it. The bar leaves the cursor
 * and line wrapping alone: the suite runs synchronously, so no Ctrl-C handler could restore
 * them, and the default SIGINT ending (exit status 130) must leave the terminal as it was
 * (`linewrap: true` makes the bar trim itself to the terminal's width instead of turning wrap off).
 */
import cliProgress from 'cli-progress';

/** Reports progress; call `update` per case and `stop` at the end. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress reporter suited to where standard error goes. */
export function createProgress(label: string, quiet: boolean, seed?: number): Progress {
  const tail = seed === undefined ? '' : ` | seed ${seed}`;
  if (quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label}${tail} | {value}/{total} cases {percentage}% | {duration_formatted} [{bar}]`, stream: process.stderr, hideCursor: false, linewrap: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(done);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let nextTenth = 1;
  const start = Date.now();
  return {
    update(done, total) {
      if (done * 10 >= nextTenth * total) {
        const seconds = ((Date.now() - start) / 1000).toFixed(1);
        process.stderr.write(`${label}: ${done}/${total} cases (${nextTenth * 10}%) after ${seconds} s${tail}\n`);
        nextTenth += 1;
      }
    },
    stop() {},
  };
}
