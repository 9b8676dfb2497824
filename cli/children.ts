/**
 * The child processes a run has started (Bochs boots, emulator processes), from any thread, so
 * that an interrupted run can stop them all: the main thread keeps the set; worker threads (the
 * `--jobs` workers, the thread owning an emulator process) report theirs on a broadcast channel.
 */
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

/** The channel's name; cli/process-worker.js posts on it too. */
export const CHILDREN_CHANNEL = 'vmx-conformance-children';

const running = new Set<number>();
let channel: BroadcastChannel | undefined;

function open(): BroadcastChannel {
  if (channel === undefined) {
    channel = new BroadcastChannel(CHILDREN_CHANNEL);
    channel.unref();
    if (isMainThread) {
      channel.onmessage = (event) => {
        const { pid, alive } = (event as MessageEvent).data as { pid: number; alive: boolean };
        if (alive) running.add(pid);
        else running.delete(pid);
      };
    }
  }
  return channel;
}
if (isMainThread) open();

/** Records that child `pid` started (`alive` true) or ended. */
export function trackChild(pid: number, alive: boolean): void {
  if (isMainThread) {
    if (alive) running.add(pid);
    else running.delete(pid);
  } else open().postMessage({ pid, alive });
}

/** Kills every child still running (SIGKILL); returns how many there were. */
export function killChildren(): number {
  let killed = 0;
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // already gone
    }
  }
  running.clear();
  return killed;
}

/** The pids of the children running now, as far as this thread has heard. */
export function runningChildren(): number[] {
  return [...running];
}
