/**
 * `vmx-conformance merge <report.json...>`: combines the `--json` reports of the shards of one run
 * (`run --shard i/n`) into the report the whole run would have printed: counts summed, coverage
 * merged, the first failure by case index and the verdict of the whole. Refuses (exit 2) reports
 * of different runs, a missing or duplicated shard, and anything that is not a shard report.
 * Exits with the merged verdict's code otherwise (0 conformant, 1 divergence, 3 fault, 4 incomplete).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import pc from 'picocolors';
import { boundaryPoints } from '../../properties/generators/boundary-points.ts';
import type { SuiteStats } from '../../properties/suite.ts';
import { mergeShares, type ShareResult } from '../jobs/merge-stats.ts';
import type { Blocks } from '../jobs/plan.ts';
import { resolveProfile } from '../load-profile.ts';
import { renderSummary, rulesMissed } from '../report.ts';
import { UsageError } from '../usage-error.ts';
import { decideVerdict } from '../verdict.ts';

/** The fields of a shard's `run --json` report that merge reads. */
interface ShardReport {
  engine: string;
  emulator: string | null;
  profile: string;
  profileSource: { builtIn: string } | { file: string | null; data: unknown };
  seed: number;
  runs: number;
  maxSteps: number;
  cpus: number;
  seconds: number;
  verdict: string;
  exitCode: number;
  conformant: boolean;
  stats: SuiteStats & { rulesMissed?: string[] };
  fault?: unknown;
  failure?: { property: string; index?: number; casePath?: string };
  shard?: { index: number; count: number; properties: string[]; blocks: Blocks };
  [key: string]: unknown;
}

/** Fields that must be equal in every shard of one run. */
const SAME = ['engine', 'emulator', 'profile', 'profileSource', 'seed', 'runs', 'maxSteps', 'cpus'] as const;

function readReport(file: string): ShardReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let report: ShardReport;
  try {
    report = JSON.parse(text) as ShardReport;
  } catch (error) {
    throw new UsageError(`${file} is not JSON (${(error as Error).message}); give the output of run --json --shard i/n`);
  }
  if (typeof report !== 'object' || report === null || typeof report.stats !== 'object') throw new UsageError(`${file} is not a run --json report`);
  if (report.shard === undefined) throw new UsageError(`${file} is the report of a whole run, not of a shard (run --shard i/n --json)`);
  if (report.failure !== undefined && typeof report.failure.index !== 'number') throw new UsageError(`${file}: its failure has no case index (written by an older version?)`);
  return report;
}

/** Checks that the reports are every shard of one run, once each; returns them in shard order. */
export function checkShards(files: readonly string[], reports: readonly ShardReport[]): ShardReport[] {
  const first = reports[0] as ShardReport;
  const count = first.shard?.count ?? 0;
  for (const [i, report] of reports.entries()) {
    for (const key of SAME) {
      if (JSON.stringify(report[key]) !== JSON.stringify(first[key])) {
        throw new UsageError(`${files[i]} and ${files[0]} are not shards of the same run: ${key} ${JSON.stringify(report[key])} vs ${JSON.stringify(first[key])}`);
      }
    }
    if (report.shard?.count !== count) throw new UsageError(`${files[i]} is shard ${report.shard?.index}/${report.shard?.count}, ${files[0]} is of ${count} shards`);
    if (JSON.stringify(report.shard.properties) !== JSON.stringify(first.shard?.properties)) {
      throw new UsageError(`${files[i]} and ${files[0]} ran different properties (${report.shard.properties.join(', ')} vs ${first.shard?.properties.join(', ')})`);
    }
  }
  const byIndex = new Map<number, ShardReport>();
  for (const [i, report] of reports.entries()) {
    const index = report.shard?.index as number;
    if (byIndex.has(index)) throw new UsageError(`shard ${index}/${count} is given twice (${files[i]})`);
    byIndex.set(index, report);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) throw new UsageError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing: give every shard's report`);
  return missing.length === 0 ? Array.from({ length: count }, (_, i) => byIndex.get(i + 1) as ShardReport) : [];
}

/** Merges shard reports into the report of the whole run. */
export function mergeReports(files: readonly string[], reports: readonly ShardReport[]): Record<string, unknown> {
  if (reports.length === 0) throw new UsageError('merge needs the reports of every shard');
  const shards = checkShards(files, reports);
  const first = shards[0] as ShardReport;
  const properties = first.shard?.properties ?? [];
  const shares: ShareResult[] = shards.map((r) => {
    const { rulesMissed: _missed, ...stats } = r.stats;
    const failedAt = r.failure ? { property: r.failure.property, index: r.failure.index as number } : undefined;
    return { blocks: r.shard?.blocks ?? {}, stats, ...(failedAt ? { failedAt } : {}) };
  });
  const source = first.profileSource;
  const { profile } = resolveProfile('builtIn' in source ? source.builtIn : (source.data as Parameters<typeof resolveProfile>[0]), 'the reports');
  const merged = mergeShares(shares, properties, { boundaries: boundaryPoints(profile).map((p) => p.id) });
  const failing = merged.failedAt
    ? shards.find((r) => r.failure?.property === merged.failedAt?.property && r.failure?.index === merged.failedAt?.index)
    : undefined;
  const verdict = failing
    ? { verdict: failing.verdict, exitCode: failing.exitCode, conformant: false, fault: failing.fault, failure: failing.failure }
    : (() => {
        const v = decideVerdict({ stats: merged.stats }, undefined);
        return { verdict: v.kind, exitCode: v.code, conformant: v.kind === 'conformant', fault: v.fault, failure: undefined };
      })();
  const { shard: _shard, ...rest } = first;
  return {
    ...rest,
    seconds: shards.reduce((sum, r) => sum + r.seconds, 0),
    ...verdict,
    stats: { ...merged.stats, rulesMissed: rulesMissed(merged.stats) },
    mergedFrom: shards.map((r) => `${r.shard?.index}/${r.shard?.count}`),
  };
}

/** `merge`: prints the merged report; returns the exit code. */
export function mergeCommand(files: readonly string[], options: { json?: boolean }): number {
  const report = mergeReports(files, files.map(readReport));
  const w = (text: string): void => void process.stdout.write(`${text}\n`);
  if (options.json) {
    w(JSON.stringify(report, null, 2));
    return report.exitCode as number;
  }
  w(`vmx-conformance merge: ${files.length} shards of engine ${report.engine}, profile ${report.profile}, seed ${report.seed}, ${report.runs} runs`);
  w(renderSummary(report.stats as SuiteStats));
  const failure = report.failure as ShardReport['failure'];
  if (failure) {
    const label = report.verdict === 'fault' ? pc.red('EMULATOR FAULT') : pc.red('DIVERGENCE');
    w(`${label}: first found by the ${failure.property} property at case ${failure.index}; case saved by its shard to ${failure.casePath ? relative(process.cwd(), failure.casePath) : '(not saved)'}`);
  } else if (report.verdict === 'incomplete') {
    w(`${pc.yellow('INCOMPLETE')}: no divergence, but too many cases ended at steps the engine does not implement`);
  } else {
    w(`${pc.green('CONFORMANT')}: no divergence in any shard`);
  }
  return report.exitCode as number;
}
