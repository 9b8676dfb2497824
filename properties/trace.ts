/**
 * Readable traces of a compared case: one line per step with what the engine did and the SDM
 * rule that decided the outcome, and at the first divergence what the engine did, what the SDM
 * allows, and the rules (section and title) behind each allowed outcome. Traces can be written
 * as a case runs (createTraceWriter), so replaying a long case keeps no step in memory.
 */
import { describeExpected } from '../model/index.ts';
import type { Rule } from '../model/index.ts';
import { formatCitation } from '../spec/citation.ts';
import type { CaseOutcome, Divergence, StepRecord } from './differential.ts';
import { formatObservation, formatOperation } from './format.ts';

const pad = (text: string, width: number): string => (text.length >= width ? `${text} ` : text.padEnd(width));

function ruleLines(rule: Rule, indent: string): string[] {
  return [`${indent}rule ${rule.id}: ${rule.summary}`, `${indent}${formatCitation(rule.citation)}`];
}

/** Lines of one step that did not diverge. */
function stepLines(step: StepRecord): string[] {
  const head = `  #${String(step.index).padStart(2)}  ${pad(formatOperation(step.operation), 46)}`;
  const seen = step.observation === undefined ? '' : formatObservation(step.observation);
  if (step.observation?.kind === 'unimplemented') return [`${head}${pad(seen, 34)}engine unimplemented, comparison ends`];
  if (step.verdict.kind === 'defined') return [`${head}${pad(seen, 34)}${step.matched ? step.matched.rule.id : ''}`];
  const label = step.verdict.kind === 'undefined' ? 'SDM: undefined, not compared' : 'not modelled yet, not compared';
  return [`${head}${pad(seen, 34)}${label} (${step.verdict.rule.id})`, ...ruleLines(step.verdict.rule, '        ')];
}

/** Lines of the step where the engine diverged. */
function divergenceLines(step: StepRecord, d: Divergence): string[] {
  const lines = [`  #${String(step.index).padStart(2)}  ${pad(formatOperation(step.operation), 46)}<-- DIVERGES`];
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
  return lines;
}

/** The closing lines of a trace. */
function endLines(outcome: CaseOutcome, lastIndex: number): string[] {
  if (outcome.kind === 'divergent') {
    return lastIndex === outcome.divergence.index ? [] : [`  the engine failed before step ${outcome.divergence.index}: ${outcome.divergence.detail ?? outcome.divergence.kind}`];
  }
  if (outcome.ended === 'completed') return ['', 'Conformant: every step within what the SDM allows.'];
  if (outcome.ended === 'engine-unimplemented') return ['', 'Compared up to the step the engine does not implement; nothing after it was compared.'];
  return ['', `Conformant up to the step where comparison ended (${outcome.ended}).`];
}

/**
 * A trace written as the steps come (for replaying long cases in bounded memory): pass
 * {@link TraceWriter.step} as runDifferential's `onStep`, then call `finish` with the outcome.
 */
export interface TraceWriter {
  step(record: StepRecord): void;
  finish(outcome: CaseOutcome): void;
}

/** A trace writer sending each line to `write`; the title comes first. */
export function createTraceWriter(title: string, write: (line: string) => void): TraceWriter {
  write(title);
  write('');
  // Each step is written when the next arrives: only the last one can be the divergent one.
  let held: StepRecord | undefined;
  let lastIndex = -1;
  return {
    step(record) {
      if (held !== undefined) for (const line of stepLines(held)) write(line);
      held = record;
      lastIndex = record.index;
    },
    finish(outcome) {
      if (held !== undefined) {
        const diverged = outcome.kind === 'divergent' && outcome.divergence.index === held.index;
        for (const line of diverged ? divergenceLines(held, outcome.divergence) : stepLines(held)) write(line);
      }
      for (const line of endLines(outcome, lastIndex)) write(line);
    },
  };
}

/** The whole trace of `outcome`, with `title` as its first line. */
export function renderTrace(outcome: CaseOutcome, title: string): string {
  const lines: string[] = [];
  const writer = createTraceWriter(title, (line) => lines.push(line));
  for (const step of outcome.steps) writer.step(step);
  writer.finish(outcome);
  return `${lines.join('\n')}\n`;
}
