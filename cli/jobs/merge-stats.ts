/**
 * Adds up the statistics of the shares of one run (a job's chunk of cases, or a shard's report)
 * into the statistics the whole run, on one job, would have gathered. A whole run stops at its
 * first failure, so only what comes before that failure counts: the first failure is the one of
 * the earliest property (differential first, then the metamorphic properties in their order) at
 * the lowest case index, and a share's counts are taken for a property only when its block of
 * that property starts before that point. Keys are added in case-index order, so the merged
 * records list their entries in the order a single job would have.
 */
import { ENTRY_CHECKS } from '../../spec/entry-checks/index.ts';
import { EXIT_REASONS } from '../../spec/exit-reasons.ts';
import type { SuiteStats } from '../../properties/suite.ts';

/** Where a share's or a run's first failure is: the property and the case index. */
export interface FailurePoint {
  property: string;
  index: number;
}

/** What one share of a run found. */
export interface ShareResult {
  /** The case indices `[from, to)` it ran, per property. */
  blocks: Record<string, readonly [number, number]>;
  stats: SuiteStats;
  /** Its first failure, if any (it ran nothing of any property after that). */
  failedAt?: FailurePoint;
}

/** The ids each "not reached" list is drawn from, in their order. */
export interface CoverageUniverse {
  boundaries: readonly string[];
}

/** The earlier of two failure points in the order a single job meets them (`order`: property names). */
export function firstFailure(points: readonly (FailurePoint | undefined)[], order: readonly string[]): FailurePoint | undefined {
  let first: FailurePoint | undefined;
  for (const point of points) {
    if (point === undefined) continue;
    const rank = order.indexOf(point.property);
    if (rank < 0) throw new Error(`unknown property ${point.property}`);
    if (first === undefined || rank < order.indexOf(first.property) || (rank === order.indexOf(first.property) && point.index < first.index)) first = point;
  }
  return first;
}

function add(target: Record<string, number>, source: Record<string, number>): void {
  for (const [key, count] of Object.entries(source)) target[key] = (target[key] ?? 0) + count;
}

/** True when a share's block of `property` counts towards the whole run, given its first failure. */
function counts(share: ShareResult, property: string, order: readonly string[], first: FailurePoint | undefined): boolean {
  const block = share.blocks[property];
  if (block === undefined || block[1] <= block[0]) return false;
  if (first === undefined) return true;
  const rank = order.indexOf(property);
  const failedRank = order.indexOf(first.property);
  if (rank !== failedRank) return rank < failedRank;
  return block[0] <= first.index;
}

/** Merges the shares' statistics as one job running all of them would have gathered them. */
export function mergeShares(shares: readonly ShareResult[], order: readonly string[], universe: CoverageUniverse): { stats: SuiteStats; failedAt?: FailurePoint } {
  const template = shares[0]?.stats;
  if (template === undefined) throw new Error('no shares to merge');
  const first = firstFailure(shares.map((s) => s.failedAt), order);
  const stats: SuiteStats = {
    cases: 0,
    steps: 0,
    outcomes: {},
    endings: { completed: 0, undefined: 0, 'not-modelled': 0, unsupported: 0, 'engine-unimplemented': 0 },
    unimplemented: {},
    notModelled: {},
    undefinedAt: {},
    rulesHit: {},
    rulesTotal: template.rulesTotal,
    boundariesHit: {},
    boundariesMissed: [],
    boundariesTotal: template.boundariesTotal,
    entryChecks: { total: template.entryChecks.total, hitFailing: {}, hitPassing: {}, notHitFailing: [], notHitPassing: [] },
    exitReasons: { total: template.exitReasons.total, reached: {}, notReached: [] },
    metamorphic: {},
    ...(template.metamorphicSkipped === undefined ? {} : { metamorphicSkipped: template.metamorphicSkipped }),
  };
  const byStart = (property: string): ShareResult[] =>
    shares.filter((s) => counts(s, property, order, first)).sort((a, b) => (a.blocks[property]?.[0] ?? 0) - (b.blocks[property]?.[0] ?? 0));
  for (const share of byStart('differential')) {
    const s = share.stats;
    stats.cases += s.cases;
    stats.steps += s.steps;
    add(stats.outcomes, s.outcomes);
    add(stats.endings, s.endings);
    add(stats.unimplemented, s.unimplemented);
    add(stats.notModelled, s.notModelled ?? {});
    add(stats.undefinedAt, s.undefinedAt ?? {});
    add(stats.rulesHit, s.rulesHit);
    add(stats.boundariesHit, s.boundariesHit);
    add(stats.entryChecks.hitFailing, s.entryChecks.hitFailing);
    add(stats.entryChecks.hitPassing, s.entryChecks.hitPassing);
    add(stats.exitReasons.reached, s.exitReasons.reached);
  }
  for (const property of order.slice(1)) {
    let runs = 0;
    for (const share of byStart(property)) runs += share.stats.metamorphic[property] ?? 0;
    if (runs > 0) stats.metamorphic[property] = runs;
  }
  stats.boundariesMissed = universe.boundaries.filter((id) => stats.boundariesHit[id] === undefined);
  stats.entryChecks.notHitFailing = ENTRY_CHECKS.map((c) => c.id).filter((id) => stats.entryChecks.hitFailing[id] === undefined);
  stats.entryChecks.notHitPassing = ENTRY_CHECKS.map((c) => c.id).filter((id) => stats.entryChecks.hitPassing[id] === undefined);
  stats.exitReasons.notReached = EXIT_REASONS.map((r) => r.name).filter((name) => stats.exitReasons.reached[name] === undefined);
  return first === undefined ? { stats } : { stats, failedAt: first };
}
