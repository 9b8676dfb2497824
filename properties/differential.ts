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
import type { Operation, OperationKind } from '../spec/operations.ts';
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

/**
 * How a case ended. `unsupported`: the comparison stopped before an operation the engine said it
 * does not execute (a {@link CaseEngine} outside its announced operation kinds).
 */
export type CaseOutcome =
  | {
      kind: 'conformant';
      steps: StepRecord[];
      ended: 'completed' | 'undefined' | 'not-modelled' | 'unsupported' | 'engine-unimplemented';
      endRule?: Rule;
    }
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
  return compareSteps(profile, logicalProcessors, operations, (operation) => observe(() => engine.step(operation)), undefined, onStep);
}

/**
 * An engine that runs a whole case at once and reports all its observations afterwards: a
 * separate process speaking the process protocol (docs/protocol.md), a batch-oriented emulator.
 * It has no snapshot/restore.
 */
export interface CaseEngine {
  readonly name: string;
  /** Whether it executes operations of this kind; a case is cut before the first it does not. */
  supports(kind: OperationKind): boolean;
  /**
   * Runs `operations` on a fresh machine; returns one raw observation per operation (checked
   * here), or fewer when it stopped after an `unimplemented` one. Throws when the engine fails.
   */
  runCase(logicalProcessors: number, operations: readonly Operation[]): readonly unknown[];
}

/**
 * {@link runDifferential} for a {@link CaseEngine}: sends the case (up to its first unsupported
 * operation) in one piece, then compares the observations with the model step by step.
 */
export function runCaseDifferential(
  engine: CaseEngine,
  profile: Profile,
  logicalProcessors: number,
  operations: readonly Operation[],
): CaseOutcome {
  const cut = operations.findIndex((op) => !engine.supports(op.kind));
  const sent = cut < 0 ? operations : operations.slice(0, cut);
  let answers: readonly unknown[] = [];
  let failure: Reply | undefined;
  try {
    if (sent.length > 0) answers = engine.runCase(logicalProcessors, sent);
  } catch (error) {
    failure = observe(() => {
      throw error;
    });
  }
  return compareSteps(profile, logicalProcessors, sent, (_operation, index) => {
    if (failure !== undefined) return failure;
    if (index >= answers.length) return { problem: 'malformed-observation', detail: `the engine ended the case after ${answers.length} observation(s), before this step` };
    return observe(() => answers[index]);
  }, cut < 0 ? undefined : operations.length);
}

/**
 * The comparison loop: `answer` gives the engine's reply to each step in turn. `total`, when
 * larger than `operations.length`, means the rest of the case was not sent (ending `unsupported`).
 * `onStep` receives each finished step instead of the outcome keeping it.
 */
function compareSteps(
  profile: Profile,
  logicalProcessors: number,
  operations: readonly Operation[],
  answer: (operation: Operation, index: number) => Reply,
  total?: number,
  onStep?: (record: StepRecord) => void,
): CaseOutcome {
  let state: ModelState = createModelState(profile, logicalProcessors);
  const steps: StepRecord[] = [];
  const keep = onStep ?? ((record: StepRecord) => void steps.push(record));
  for (const [index, operation] of operations.entries()) {
    const verdict = modelStep(state, operation);
    const record: StepRecord = { index, operation, verdict };
    const reply = answer(operation, index);
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
  return { kind: 'conformant', steps, ended: total !== undefined && total > operations.length ? 'unsupported' : 'completed' };
}

type Reply = { observation: Observation } | { problem: 'engine-threw' | 'malformed-observation'; detail: string };

/** Takes the engine's answer to one step, turning a crash or a malformed answer into a reportable problem. */
function observe(get: () => unknown): Reply {
  let raw: unknown;
  try {
    raw = get();
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
