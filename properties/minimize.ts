/**
 * A last shrinking pass over single operations. fast-check shrinks a case step by step, and some
 * steps are groups of operations (a VMCS built field by field before a VMLAUNCH, an instruction
 * between two `set cpl`): it cannot take one operation out of a group. This pass can: it drops
 * chunks of operations, halving the chunk size when nothing more can go (in the manner of delta
 * debugging), and keeps a smaller case only when it still fails the same way. What "the same way"
 * means is the caller's `fails` predicate.
 */
import type { Operation } from '../spec/operations.ts';

/** At most this many candidate cases are tried, so that a slow engine cannot make shrinking endless. */
export const MAX_MINIMIZE_TRIES = 4000;

/** `operations` with as many operations dropped as keep `fails` true; `tries` counts candidates tried. */
export function minimizeOperations(
  operations: readonly Operation[],
  fails: (candidate: readonly Operation[]) => boolean,
): { operations: Operation[]; tries: number; removed: number } {
  let current = [...operations];
  let tries = 0;
  let chunk = Math.max(1, Math.ceil(current.length / 2));
  while (chunk >= 1 && tries < MAX_MINIMIZE_TRIES) {
    let removedAny = false;
    for (let start = 0; start < current.length && tries < MAX_MINIMIZE_TRIES; ) {
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)];
      tries += 1;
      if (candidate.length > 0 && fails(candidate)) {
        current = candidate;
        removedAny = true;
      } else {
        start += chunk;
      }
    }
    if (!removedAny) chunk = Math.floor(chunk / 2);
  }
  return { operations: current, tries, removed: operations.length - current.length };
}
