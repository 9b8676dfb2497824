/**
 * `run --jobs` and `run --shard`: the same seed gives the same report whatever the number of jobs
 * or shards (cases are drawn by index, the first failure by index is the one shrunk and saved).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fixture, outDir } from './helpers.ts';

/** An engine that runs every case of the suite to its end while impl/ lacks the guest operations. */
const ENGINE = ['--emulator', fixture('guest-unimplemented-engine.ts'), '--in-process'];
/** The Python example of an emulator process. */
const EXAMPLE = resolve(import.meta.dirname, '../../examples/python-emulator/emulator.py');

/** A report without what legitimately differs between runs: the time taken and where files went. */
function comparable(stdout: string): Record<string, unknown> {
  const report = JSON.parse(stdout) as Record<string, unknown> & { failure?: Record<string, unknown> };
  delete report.seconds;
  delete report.mergedFrom;
  if (report.failure) {
    delete report.failure.casePath;
    delete report.failure.tracePath;
  }
  return report;
}

describe('run --jobs', () => {
  it('gives the same JSON report with 2 jobs as with 1', async () => {
    const args = ['run', ...ENGINE, '--seed', '41', '--runs', '400', '--json'];
    const one = await cli(...args, '--jobs', '1', '--out', outDir());
    const two = await cli(...args, '--jobs', '2', '--out', outDir());
    expect(one.code).toBe(0);
    expect(two.code).toBe(one.code);
    const report = comparable(one.stdout);
    expect((report.stats as { cases: number }).cases).toBe(400);
    expect(comparable(two.stdout)).toEqual(report);
    expect(JSON.stringify(comparable(two.stdout))).toBe(JSON.stringify(report));
  });

  it('saves the same shrunk case for a failing engine with 2 jobs as with 1', async () => {
    // 440 cases (400 + 40 metamorphic) make two workers; seed 4 fails at case 22 and again later.
    const args = ['run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--seed', '4', '--runs', '400', '--json'];
    const outs = [outDir(), outDir()];
    const one = await cli(...args, '--jobs', '1', '--out', outs[0] as string);
    const two = await cli(...args, '--jobs', '2', '--out', outs[1] as string);
    expect([1, 3]).toContain(one.code);
    expect(two.code).toBe(one.code);
    expect(comparable(two.stdout)).toEqual(comparable(one.stdout));
    const saved = outs.map((dir) => {
      const name = readdirSync(dir).find((f) => f.endsWith('.case.json'));
      expect(name).toBeDefined();
      return readFileSync(join(dir, name ?? ''), 'utf8');
    });
    expect(saved[1]).toBe(saved[0]);
  });

  it('runs an emulator process in each job (--emulator-cmd) and gives the same report as one job', async () => {
    const args = ['run', '--emulator-cmd', `python3 ${EXAMPLE}`, '--seed', '1', '--runs', '400', '--json'];
    const one = await cli(...args, '--jobs', '1', '--out', outDir());
    const two = await cli(...args, '--jobs', '2', '--out', outDir());
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    // The example announces itself once in the main thread and once per worker.
    expect(two.stderr.match(/ready \(protocol 1\)/g)).toHaveLength(3);
    expect(JSON.stringify(comparable(two.stdout))).toBe(JSON.stringify(comparable(one.stdout)));
  });

  it('refuses a --jobs that is not a positive integer and a malformed --shard', async () => {
    expect((await cli('run', '--jobs', '0', '--out', outDir())).stderr).toContain('--jobs must be a positive integer');
    for (const shard of ['0/3', '4/3', '2', 'a/b']) {
      const r = await cli('run', '--shard', shard, '--out', outDir());
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--shard');
    }
  });
});

describe('run --shard and merge', () => {
  it('merges shards 1/3, 2/3 and 3/3 into the report of the unsharded run', async () => {
    const args = ['run', ...ENGINE, '--seed', '43', '--runs', '150', '--json', '--jobs', '1'];
    const whole = await cli(...args, '--out', outDir());
    const dir = outDir();
    const files: string[] = [];
    for (const i of [3, 1, 2]) {
      const r = await cli(...args, '--shard', `${i}/3`, '--out', outDir());
      const report = JSON.parse(r.stdout) as { shard: { index: number; count: number }; stats: { cases: number } };
      expect(report.shard).toMatchObject({ index: i, count: 3 });
      expect(report.stats.cases).toBe(50);
      const file = join(dir, `shard${i}.json`);
      writeFileSync(file, r.stdout);
      files.push(file);
    }
    const merged = await cli('merge', ...files, '--json');
    expect(merged.code).toBe(whole.code);
    expect(JSON.parse(merged.stdout).mergedFrom).toEqual(['1/3', '2/3', '3/3']);
    expect(comparable(merged.stdout)).toEqual(comparable(whole.stdout));
    expect(JSON.stringify(comparable(merged.stdout))).toBe(JSON.stringify(comparable(whole.stdout)));
    const text = await cli('merge', ...files);
    expect(text.stdout).toContain('3 shards of engine guest-unimplemented-engine');
    expect(text.stdout).toMatch(/differential: 150 cases/);
  });

  it('merges failing shards into the unsharded failure: the first by case index', async () => {
    // Seed 4 fails in both halves (cases 22 and 209): the merge must take shard 1's.
    const args = ['run', '--emulator', fixture('wrong-vmptrld-engine.ts'), '--seed', '4', '--runs', '300', '--json', '--jobs', '1'];
    const whole = await cli(...args, '--out', outDir());
    expect(whole.code).not.toBe(0);
    const dir = outDir();
    const files = [1, 2].map((i) => join(dir, `shard${i}.json`));
    for (const [n, file] of files.entries()) writeFileSync(file, (await cli(...args, '--shard', `${n + 1}/2`, '--out', outDir())).stdout);
    const merged = await cli('merge', ...files, '--json');
    expect(merged.code).toBe(whole.code);
    expect(comparable(merged.stdout)).toEqual(comparable(whole.stdout));
  });
});
