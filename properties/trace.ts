/**
 * Readable traces of a compared case: one line per step with what the engine did and the SDM
 * rule that decided the outcome, and at the first divergence what the engine did, what the SDM
 * allows, and the rules (section and title) behind each allowed outcome.
 */
import { describeExpected } from '../model/index.ts';
import type { Rule } from '../model/index.ts';
import { formatCitation } from '../spec/citation.ts';
import type { CaseOutcome } from './differential.ts';
import { formatObservation, formatOperation } from './format.ts';

const pad = (text: string, width: number): string => (text.length >= width ? `${text} ` : text.padEnd(width));

function ruleLines(rule: Rule, indent: string): string[] {
  return [`${indent}rule ${rule.id}: ${rule.summary}`, `${indent}${formatCitation(rule.citation)}`];
}

/** The whole trace of `outcome`, with `title` as its first line. */
export function renderTrace(outcome: CaseOutcome, title: string): string {
  const lines = [title, ''];
  const divergenceAt = outcome.kind === 'divergent' ? outcome.divergence.index : -1;
  for (const step of outcome.steps) {
    const head = `  #${String(step.index).padStart(2)}  ${pad(formatOperation(step.operation), 46)}`;
    if (step.index === divergenceAt && outcome.kind === 'divergent') {
      const d = outcome.divergence;
      lines.push(`${head}<-- DIVERGES`);
      const what =
        d.kind === 'mismatch' && d.observation !== undefined
          ? formatObservation(d.observation)
          : d.kind === 'engine-threw'
            ? `threw ${d.detail}`
            : `returned garbage: ${d.detail}`;
      lines.push(`        engine did:   ${what}`);
      if (d.allowed.length === 0) lines.push('        SDM allows:   (nothing to compare at this step)');
      d.allowed.forEach((branch, i) => {
        lines.push(`        ${i === 0 ? 'SDM allows:  ' : 'or:          '} ${describeExpected(branch.expected)}`);
        lines.push(...ruleLines(branch.rule, '                      '));
      });
      continue;
    }
    const seen = step.observation === undefined ? '' : formatObservation(step.observation);
    if (step.verdict.kind === 'defined') {
      lines.push(`${head}${pad(seen, 34)}${step.matched ? step.matched.rule.id : ''}`);
    } else {
      const label = step.verdict.kind === 'undefined' ? 'SDM: undefined, not compared' : 'not modelled yet, not compared';
      lines.push(`${head}${pad(seen, 34)}${label} (${step.verdict.rule.id})`);
      lines.push(...ruleLines(step.verdict.rule, '        '));
    }
  }
  if (outcome.kind === 'divergent' && !outcome.steps.some((s) => s.index === divergenceAt)) {
    lines.push(`  the engine failed before step ${divergenceAt}: ${outcome.divergence.detail ?? outcome.divergence.kind}`);
  }
  if (outcome.kind === 'conformant') {
    lines.push('', outcome.ended === 'completed' ? 'Conformant: every step within what the SDM allows.' : `Conformant up to the step where comparison ended (${outcome.ended}).`);
  }
  return `${lines.join('\n')}\n`;
}
