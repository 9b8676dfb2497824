/**
 * The differential check: run one operation sequence on an engine and on the reference model
 * side by side. At every step the engine's observation must be one the model allows; the model
 * then continues along the branch the engine took. A step the SDM leaves undefined, or that the
 * model does not cover yet, or that the engine says it does not implement, ends the comparison
 * for that case.
 */
import { createModelState, matches, step as modelStep } from '../model/index.ts';
import type { Branch, ModelState, Rule, Verdict } from '../model/index.ts';
import type { Engine } from '../spec/engine.ts';
import type { Observation } from '../spec/observations.ts';
import type { Operation } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import { describeIssues, observationSchema } from '../spec/schemas.ts';

/** One compared step. */
export interface StepRecord {
  index: number;
  operation: Operation;
  verdict: Verdict;
  /** What the engine reported (absent when it threw or returned garbage). */
  observation?: Observation;
  /** The model branch the observation matched. */
  matched?: Branch;
}

/** Why a step diverged. */
export type DivergenceKind = 'mismatch' | 'engine-threw' | 'malformed-observation';

/** The first step where the engine left what the SDM allows. */
export interface Divergence {
  kind: DivergenceKind;
  index: number;
  operation: Operation;
  /** The engine's observation for `mismatch`. */
  observation?: Observation;
  /** The error message or the list of problems with the returned value. */
  detail?: string;
  /** What the model allows at this step. */
  allowed: readonly Branch[];
}

/** How a case ended. */
export type CaseOutcome =
  | { kind: 'conformant'; steps: StepRecord[]; ended: 'completed' | 'undefined' | 'not-modelled' | 'engine-unimplemented'; endRule?: Rule }
  | { kind: 'divergent'; steps: StepRecord[]; divergence: Divergence };

/**
 * Runs `operations` on `engine` (fresh, or restored to the initial state) and on a fresh model
 * state for `profile`, comparing step by step. An `unimplemented` observation ends the
 * comparison (`engine-unimplemented`). With `onStep`, each finished step is handed over instead
 * of kept (the outcome's `steps` stay empty), so a long case runs in bounded memory.
 */
export function runDifferential(
  engine: Engine,
  profile: Profile,
  logicalProcessors: number,
  operations: readonly Operation[],
  onStep?: (record: StepRecord) => void,
): CaseOutcome {
  let state: ModelState = createModelState(profile, logicalProcessors);
  const steps: StepRecord[] = [];
  const keep = onStep ?? ((record: StepRecord) => void steps.push(record));
  for (const [index, operation] of operations.entries()) {
    const verdict = modelStep(state, operation);
    const record: StepRecord = { index, operation, verdict };
    const reply = observe(engine, operation);
    if ('problem' in reply) {
      keep(record);
      const allowed = verdict.kind === 'defined' ? verdict.branches : [];
      return { kind: 'divergent', steps, divergence: { kind: reply.problem, index, operation, detail: reply.detail, allowed } };
    }
    record.observation = reply.observation;
    if (verdict.kind !== 'defined') {
      keep(record);
      return { kind: 'conformant', steps, ended: verdict.kind, endRule: verdict.rule };
    }
    if (reply.observation.kind === 'unimplemented') {
      keep(record);
      return { kind: 'conformant', steps, ended: 'engine-unimplemented' };
    }
    const branch = verdict.branches.find((b) => matches(b.expected, reply.observation));
    if (branch === undefined) {
      keep(record);
      return {
        kind: 'divergent',
        steps,
        divergence: { kind: 'mismatch', index, operation, observation: reply.observation, allowed: verdict.branches },
      };
    }
    record.matched = branch;
    keep(record);
    state = branch.next(reply.observation);
  }
  return { kind: 'conformant', steps, ended: 'completed' };
}

type Reply = { observation: Observation } | { problem: 'engine-threw' | 'malformed-observation'; detail: string };

/** Asks the engine for one step, turning a crash or a malformed answer into a reportable problem. */
function observe(engine: Engine, operation: Operation): Reply {
  let raw: unknown;
  try {
    raw = engine.step(operation);
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { problem: 'engine-threw', detail };
  }
  const parsed = observationSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      problem: 'malformed-observation',
      detail: `${safeJson(raw)} is not an observation: ${describeIssues(parsed.error).join('; ')}`,
    };
  }
  return { observation: parsed.data };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
