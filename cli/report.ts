/**
 * The run summary a person reads at the end of `vmx-conformance run`: steps, cases, outcomes
 * seen, SDM decision points covered, and what was left uncompared.
 */
import pc from 'picocolors';
import { RULES } from '../model/index.ts';
import type { SuiteStats } from '../properties/suite.ts';

const n = (value: number): string => value.toLocaleString('en-US');

/** Decision points of the model that no step of the run reached. */
export function rulesMissed(stats: SuiteStats): string[] {
  return RULES.map((r) => r.id).filter((id) => stats.rulesHit[id] === undefined);
}

/** Multi-line summary of a run's statistics. */
export function renderSummary(stats: SuiteStats): string {
  const lines: string[] = [];
  const meta = Object.entries(stats.metamorphic)
    .map(([name, runs]) => `${name} ${n(runs)}`)
    .join(', ');
  lines.push(`  differential: ${n(stats.cases)} cases, ${n(stats.steps)} steps compared against the model`);
  if (meta !== '') lines.push(`  metamorphic:  ${meta} runs`);
  if (stats.metamorphicSkipped !== undefined) lines.push(`  metamorphic:  skipped ${stats.metamorphicSkipped}`);
  const outcomes = Object.entries(stats.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([label, count]) => `${label} ${n(count)}`);
  lines.push(`  outcomes seen: ${outcomes.join(', ')}`);
  lines.push(
    `  case endings: ${n(stats.endings.completed)} compared to the end, ` +
      `${n(stats.endings.undefined)} stopped where the SDM says undefined, ` +
      `${n(stats.endings['not-modelled'])} stopped at behaviour not modelled yet (see model/README.md)` +
      (stats.endings.unsupported > 0 ? `, ${n(stats.endings.unsupported)} stopped before an operation the engine does not support` : ''),
  );
  const undefinedAt = Object.entries(stats.undefinedAt ?? {}).sort((x, y) => y[1] - x[1]);
  if (undefinedAt.length > 0) {
    lines.push(pc.dim(`    undefined at: ${undefinedAt.map(([id, count]) => `${id} ${n(count)}`).join(', ')}`));
  }
  const notModelled = Object.entries(stats.notModelled ?? {}).sort((x, y) => y[1] - x[1]);
  if (notModelled.length > 0) {
    lines.push(`    not modelled at: ${notModelled.map(([id, count]) => `${id} ${n(count)}`).join(', ')}`);
  }
  if (stats.endings['engine-unimplemented'] > 0) {
    const kinds = Object.entries(stats.unimplemented)
      .sort((x, y) => y[1] - x[1])
      .map(([kind, count]) => `${kind} ${n(count)}`)
      .join(', ');
    lines.push(`  engine unimplemented: ${n(stats.endings['engine-unimplemented'])} cases ended at a step the engine does not implement (${kinds})`);
  }
  const hit = stats.rulesTotal - rulesMissed(stats).length;
  lines.push(`  SDM decision points covered: ${hit} of ${stats.rulesTotal}`);
  const missed = rulesMissed(stats);
  if (missed.length > 0) lines.push(pc.dim(`    not reached: ${missed.join(', ')}`));
  const boundaries = stats.boundariesTotal - stats.boundariesMissed.length;
  lines.push(`  boundary decision points covered: ${boundaries} of ${stats.boundariesTotal} (a check reached with an operand at its limit)`);
  if (stats.boundariesMissed.length > 0) lines.push(pc.dim(`    not reached: ${stats.boundariesMissed.join(', ')}`));
  const entry = stats.entryChecks;
  lines.push(`  VM-entry checks (catalogue): ${entry.total - entry.notHitFailing.length} of ${entry.total} hit failing, ${entry.total - entry.notHitPassing.length} hit passing (passing is known only for checks the model implements)`);
  if (entry.notHitFailing.length > 0) lines.push(pc.dim(`    not hit failing: ${entry.notHitFailing.join(', ')}`));
  if (entry.notHitPassing.length > 0) lines.push(pc.dim(`    not hit passing: ${entry.notHitPassing.join(', ')}`));
  const exits = stats.exitReasons;
  const reached = Object.entries(exits.reached)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${n(count)}`);
  lines.push(`  basic exit reasons reached: ${exits.total - exits.notReached.length} of ${exits.total}${reached.length > 0 ? ` (${reached.join(', ')})` : ''}`);
  if (exits.notReached.length > 0) lines.push(pc.dim(`    not reached: ${exits.notReached.join(', ')}`));
  return lines.join('\n');
}
