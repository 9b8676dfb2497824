/**
 * How a run is cut into shares: `--shard i/n` takes the i-th of n contiguous blocks of each
 * property's case indices, and `--jobs` cuts the blocks a process runs into chunks that its
 * workers take in index order. Both are pure functions of the run's numbers, so every machine
 * agrees on who runs which case.
 */
import { UsageError } from '../usage-error.ts';

/** Case indices `[from, to)` per property. */
export type Blocks = Record<string, readonly [number, number]>;

/** `--shard i/n`, 1-based. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `--shard i/n` (1 ≤ i ≤ n); throws UsageError saying what is wrong. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (match === null) throw new UsageError(`--shard must be i/n, e.g. 2/4 (got "${text}")`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index < 1 || index > count) throw new UsageError(`--shard ${text}: i must be from 1 to n (n at least 1)`);
  return { index, count };
}

/** The cases of each property a whole run draws: `runs` for the differential property, `metamorphicRuns` for each other. */
export function wholeRun(properties: readonly string[], runs: number, metamorphicRuns: number): Blocks {
  return Object.fromEntries(properties.map((p) => [p, [0, p === 'differential' ? runs : metamorphicRuns] as const]));
}

/** The shard's share of each property's cases: the i-th of n contiguous blocks, as even as can be. */
export function shardBlocks(whole: Blocks, shard: Shard): Blocks {
  return Object.fromEntries(
    Object.entries(whole).map(([p, [from, to]]) => {
      const size = to - from;
      return [p, [from + Math.floor(((shard.index - 1) * size) / shard.count), from + Math.floor((shard.index * size) / shard.count)] as const];
    }),
  );
}

/** Cuts blocks into chunks of at most `size` cases, each one property's, in property then index order. */
export function chunks(blocks: Blocks, size: number): Blocks[] {
  const out: Blocks[] = [];
  for (const [p, [from, to]] of Object.entries(blocks)) {
    for (let start = from; start < to; start += size) out.push({ [p]: [start, Math.min(to, start + size)] as const });
  }
  return out;
}

/** Cases in the blocks. */
export function caseCount(blocks: Blocks): number {
  return Object.values(blocks).reduce((sum, [from, to]) => sum + Math.max(0, to - from), 0);
}
