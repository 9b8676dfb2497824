/** `merge` refuses reports that are not every shard of one run, once each; the share arithmetic. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunks, parseShard, shardBlocks, wholeRun } from '../../cli/jobs/plan.ts';
import { firstFailure } from '../../cli/jobs/merge-stats.ts';
import { cli, outDir } from './helpers.ts';

async function shardReports(seed: string, count: number, runs = '20'): Promise<string[]> {
  const dir = outDir();
  const files: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    const r = await cli('run', '--seed', seed, '--runs', runs, '--max-steps', '5', '--json', '--jobs', '1', '--shard', `${i}/${count}`, '--out', outDir());
    const file = join(dir, `s${seed}-${i}of${count}.json`);
    writeFileSync(file, r.stdout);
    files.push(file);
  }
  return files;
}

describe('merge refuses', () => {
  it('shards of different runs, missing or duplicated shards, and reports that are not shards', async () => {
    const [a1, a2] = await shardReports('1', 2);
    const [b1] = await shardReports('2', 2);
    const mixed = await cli('merge', a1 as string, b1 as string);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/not shards of the same run: seed 2 vs 1/);
    const missing = await cli('merge', a1 as string);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('shard 2/2 missing');
    const twice = await cli('merge', a1 as string, a1 as string, a2 as string);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('shard 1/2 is given twice');
    const [c1, c2, c3] = await shardReports('1', 3);
    const counts = await cli('merge', a1 as string, c2 as string, c3 as string, c1 as string);
    expect(counts.code).toBe(2);
    expect(counts.stderr).toContain('is shard 2/3');
    const dir = outDir();
    const whole = join(dir, 'whole.json');
    writeFileSync(whole, (await cli('run', '--seed', '1', '--runs', '5', '--max-steps', '5', '--json', '--out', outDir())).stdout);
    const notShard = await cli('merge', whole);
    expect(notShard.code).toBe(2);
    expect(notShard.stderr).toContain('not of a shard');
    const text = join(dir, 'text.json');
    writeFileSync(text, 'CONFORMANT');
    expect((await cli('merge', text)).stderr).toContain('is not JSON');
    expect((await cli('merge', join(dir, 'absent.json'))).stderr).toContain('cannot read');
  });
});

describe('shares of a run', () => {
  it('parses i/n and cuts every property into n contiguous blocks that cover it once', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    expect(() => parseShard('6/5')).toThrow('i must be from 1 to n');
    const whole = wholeRun(['differential', 'm'], 10, 3);
    expect(whole).toEqual({ differential: [0, 10], m: [0, 3] });
    const parts = [1, 2, 3, 4].map((index) => shardBlocks(whole, { index, count: 4 }));
    expect(parts.map((p) => p.differential)).toEqual([[0, 2], [2, 5], [5, 7], [7, 10]]);
    expect(parts.map((p) => p.m)).toEqual([[0, 0], [0, 1], [1, 2], [2, 3]]);
    expect(chunks({ differential: [0, 5], m: [5, 7] }, 2)).toEqual([{ differential: [0, 2] }, { differential: [2, 4] }, { differential: [4, 5] }, { m: [5, 7] }]);
  });

  it('orders failures by property, then by case index', () => {
    const order = ['differential', 'a', 'b'];
    expect(firstFailure([{ property: 'b', index: 0 }, { property: 'a', index: 9 }, undefined], order)).toEqual({ property: 'a', index: 9 });
    expect(firstFailure([{ property: 'a', index: 4 }, { property: 'a', index: 2 }], order)).toEqual({ property: 'a', index: 2 });
    expect(firstFailure([undefined], order)).toBeUndefined();
    expect(() => firstFailure([{ property: 'z', index: 0 }], order)).toThrow('unknown property z');
  });
});
