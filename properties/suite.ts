/**
 * The conformance suite: the differential property (engine against the model, step by step,
 * over random operation sequences) and the metamorphic properties, run with one seed. On the
 * first failure fast-check shrinks the case to a minimal one, which is returned ready to save.
 */
import fc from 'fast-check';
import { createModelState, RULES, type ModelState } from '../model/index.ts';
import type { EngineConfig, EngineFactory } from '../spec/engine.ts';
import type { Operation } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import { CASE_FORMAT, type ConformanceCase } from './case.ts';
import { runCaseDifferential, runDifferential, type CaseEngine, type CaseOutcome } from './differential.ts';
import { steppingFactory } from './case-engine-steps.ts';
import { minimizeOperations } from './minimize.ts';
import { emptyEntryCheckCoverage, finishEntryChecks, recordEntryChecks, type EntryCheckCoverage } from './entry-check-coverage.ts';
import { emptyExitReasonCoverage, finishExitReasons, recordExitReasons, type ExitReasonCoverage } from './exit-reason-coverage.ts';
import { boundaryPoints, indexPoints, pointsReached, type PointIndex } from './generators/boundary-points.ts';
import { operationSequence } from './generators/operations.ts';
import {
  clearKeepsValuesProperty,
  roundTripProperty,
  setupPossible,
  snapshotRestoreProperty,
  type MetamorphicProperty,
} from './metamorphic.ts';

/** Operation kinds the VMWRITE/VMREAD and VMCLEAR/VMPTRLD relations step through. */
const METAMORPHIC_KINDS = ['write-feature-control', 'write-memory', 'vmxon', 'vmclear', 'vmptrld', 'vmwrite', 'vmread'] as const;

/** What to run. */
export interface SuiteOptions {
  factory: EngineFactory;
  /** Name of the engine, for reports and saved cases. */
  engineName: string;
  profile: Profile;
  /** How the profile is named in saved cases: a profile name, or the data itself. */
  profileRef: string | Profile['data'];
  seed: number;
  /** Random sequences for the differential property. */
  runs: number;
  /** Most random steps per sequence (after the optional set-up). */
  maxSteps: number;
  logicalProcessors: number;
  /** Runs of each metamorphic property; defaults to a tenth of `runs`. */
  metamorphicRuns?: number;
  /**
   * Runs each case whole instead of through `factory` (an emulator process). The metamorphic
   * relations step it through whole cases too; the snapshot property is skipped (no snapshot/restore).
   */
  caseEngine?: CaseEngine;
  /** Called after each case of the initial (not shrinking) phase. */
  onProgress?: (done: number, total: number) => void;
  /** Runs only these case indices (properties/case-index.ts); default: every case of every property. */
  slice?: SuiteSlice;
}

/**
 * A share of a run: per property (`differential` or a metamorphic property's name), the case
 * indices `[from, to)` to run; properties not named are not run. Case `i` of a property is the
 * one a whole run draws `i`-th (fast-check's replay path `i`), so shares run anywhere add up to
 * the whole run. Without `shrink` the first failure is only located (`failedAt`), not shrunk.
 */
export interface SuiteSlice {
  blocks: Record<string, readonly [number, number]>;
  shrink: boolean;
}

/** Counts gathered over the cases run before any failure. */
export interface SuiteStats {
  cases: number;
  steps: number;
  /** Engine observations by outcome, e.g. `VMfailValid(12)`, `#UD`. */
  outcomes: Record<string, number>;
  /** How compared cases ended. */
  endings: { completed: number; undefined: number; 'not-modelled': number; unsupported: number; 'engine-unimplemented': number };
  /** Operation kinds at which cases ended because the engine answered `unimplemented`, with counts. */
  unimplemented: Record<string, number>;
  /** Rules (ids) at which cases ended as not modelled yet, with counts. */
  notModelled: Record<string, number>;
  /** Rules (ids) at which cases ended because the SDM leaves the outcome undefined, with counts. */
  undefinedAt: Record<string, number>;
  /** Hits per decision point (rule id) of the model. */
  rulesHit: Record<string, number>;
  /** Total number of decision points in the model. */
  rulesTotal: number;
  /**
   * Hits per boundary decision point (generators/boundary-points.ts): a rule reached with an
   * operand at a limit it compares with, e.g. `vmptrld.pointer-not-aligned@bit-11`.
   */
  boundariesHit: Record<string, number>;
  /** The boundary decision points no step reached, in the order they are defined. */
  boundariesMissed: string[];
  /** Total number of boundary decision points for the profile. */
  boundariesTotal: number;
  /** VM-entry checks of the catalogue hit failing and passing, and the ones not hit (entry-check-coverage.ts). */
  entryChecks: EntryCheckCoverage;
  /** Basic exit reasons of the VM exits (and VM-entry failures) reached, and the ones not reached (exit-reason-coverage.ts). */
  exitReasons: ExitReasonCoverage;
  /** Runs per metamorphic property. */
  metamorphic: Record<string, number>;
  /** Why the metamorphic properties did not run, when they did not. */
  metamorphicSkipped?: string;
}

/** The first failure found, shrunk. */
export interface SuiteFailure {
  /** `differential` or the name of a metamorphic property. */
  property: string;
  /** The shrunk case, ready to save and replay. */
  testCase: ConformanceCase;
  /** The differential comparison of the shrunk case (also run for metamorphic failures). */
  outcome: CaseOutcome;
  /** What went wrong, in one paragraph. */
  message: string;
  /** Index of the failing case among the property's cases (before shrinking). */
  index?: number;
  /** Steps in the case as first found, before shrinking. */
  originalLength: number;
  shrinks: number;
}

/** What a suite run found. */
export interface SuiteResult {
  stats: SuiteStats;
  failure?: SuiteFailure;
  /** With a slice that does not shrink: the property and case index of the first failure. */
  failedAt?: { property: string; index: number };
}

/** fast-check parameters running a property's cases `[from, to)` of the slice, or all `runs`. */
function sliceParams<T>(slice: SuiteSlice | undefined, property: string, seed: number, runs: number): fc.Parameters<T> | undefined {
  if (slice === undefined) return { seed, numRuns: runs };
  const block = slice.blocks[property];
  if (block === undefined || block[1] <= block[0]) return undefined;
  return { seed, numRuns: block[1] - block[0], path: String(block[0]), endOnFailure: !slice.shrink };
}

/** The case index a counterexample path starts with. */
function caseIndex(path: string | null): number | undefined {
  return path === null ? undefined : Number(path.split(':')[0]);
}

/** Names of the properties a run with these options checks, in the order it checks them. */
export function suitePropertyNames(options: SuiteOptions): string[] {
  return ['differential', ...metamorphicProperties(options, options.caseEngine ? steppingFactory(options.caseEngine) : undefined).map((p) => p.name)];
}

function metamorphicProperties(options: SuiteOptions, stepping: ReturnType<typeof steppingFactory> | undefined): MetamorphicProperty[] {
  const config: EngineConfig = { profile: options.profile.data, logicalProcessors: options.logicalProcessors };
  const caseEngineCanSetUp = METAMORPHIC_KINDS.every((kind) => options.caseEngine?.supports(kind) !== false);
  return stepping
    ? setupPossible(options.profile) && caseEngineCanSetUp
      ? [roundTripProperty(stepping, config, options.profile), clearKeepsValuesProperty(stepping, config, options.profile)]
      : []
    : setupPossible(options.profile)
    ? [
        roundTripProperty(options.factory, config, options.profile),
        clearKeepsValuesProperty(options.factory, config, options.profile),
        snapshotRestoreProperty(options.factory, config, options.profile),
      ]
    : [snapshotRestoreProperty(options.factory, config, options.profile)];
}

/** How an outcome is counted in the summary, e.g. `VMfailValid(12)`. */
export function outcomeLabel(kind: string, detail?: string | number): string {
  return detail === undefined ? kind : `${kind}(${detail})`;
}

/** Empty statistics, before any case. */
export function createSuiteStats(): SuiteStats {
  return {
    cases: 0,
    steps: 0,
    outcomes: {},
    endings: { completed: 0, undefined: 0, 'not-modelled': 0, unsupported: 0, 'engine-unimplemented': 0 },
    unimplemented: {},
    notModelled: {},
    undefinedAt: {},
    rulesHit: {},
    rulesTotal: RULES.length,
    boundariesHit: {},
    boundariesMissed: [],
    boundariesTotal: 0,
    entryChecks: emptyEntryCheckCoverage(),
    exitReasons: emptyExitReasonCoverage(),
    metamorphic: {},
  };
}

/** Runs the suite; never throws for an engine's misbehaviour (that is a failure in the result). */
export function runSuite(options: SuiteOptions): SuiteResult {
  const config: EngineConfig = { profile: options.profile.data, logicalProcessors: options.logicalProcessors };
  const metamorphicRuns = options.metamorphicRuns ?? Math.max(1, Math.floor(options.runs / 10));
  const stats = createSuiteStats();
  const points = boundaryPoints(options.profile);
  stats.boundariesTotal = points.length;
  const coverage: Coverage = { index: indexPoints(points), initial: createModelState(options.profile, options.logicalProcessors) };
  const finish = (result: SuiteResult): SuiteResult => {
    stats.boundariesMissed = points.map((p) => p.id).filter((id) => stats.boundariesHit[id] === undefined);
    finishEntryChecks(stats.entryChecks);
    finishExitReasons(stats.exitReasons);
    return result;
  };
  // A case engine (a process) is stepped through whole cases and has no snapshot/restore.
  const stepping = options.caseEngine ? steppingFactory(options.caseEngine) : undefined;
  const caseEngineCanSetUp = METAMORPHIC_KINDS.every((kind) => options.caseEngine?.supports(kind) !== false);
  if (stepping) {
    stats.metamorphicSkipped = caseEngineCanSetUp
      ? 'snapshot-restore-replays: the engine runs whole cases and has no snapshot/restore'
      : `all: the engine runs whole cases without snapshot/restore and does not execute all of ${METAMORPHIC_KINDS.join(', ')}`;
  }
  const properties = metamorphicProperties(options, stepping);
  const total = options.runs + metamorphicRuns * properties.length;
  let done = 0;
  const progress = (): void => {
    done += 1;
    options.onProgress?.(done, total);
  };

  const makeCase = (operations: Operation[], note: string, path?: string): ConformanceCase => ({
    format: CASE_FORMAT,
    profile: options.profileRef,
    logicalProcessors: options.logicalProcessors,
    operations,
    origin: { engine: options.engineName, seed: options.seed, ...(path === undefined ? {} : { path }), note },
  });

  /** Runs one case on a fresh engine; an engine that cannot even be created diverges at step 0. */
  const compare = (operations: Operation[]): CaseOutcome => {
    if (options.caseEngine) return runCaseDifferential(options.caseEngine, options.profile, options.logicalProcessors, operations);
    let engine;
    try {
      engine = options.factory(config);
    } catch (error) {
      const detail = `creating the engine failed: ${error instanceof Error ? error.message : String(error)}`;
      const operation = operations[0] as Operation;
      return { kind: 'divergent', steps: [], divergence: { kind: 'engine-threw', index: 0, operation, detail, allowed: [] } };
    }
    return runDifferential(engine, options.profile, options.logicalProcessors, operations);
  };

  // --- the differential property
  let failed = false;
  let firstLength = 0;
  const sequences = operationSequence(options.profile, { logicalProcessors: options.logicalProcessors, maxSteps: options.maxSteps });
  const differential = fc.property(sequences, (operations) => {
    const outcome = compare(operations);
    if (!failed) record(stats, outcome, outcomeLabel, coverage);
    if (outcome.kind === 'divergent') {
      if (!failed) firstLength = operations.length;
      failed = true;
      return false;
    }
    if (!failed) progress();
    return true;
  });
  const params = sliceParams<[Operation[]]>(options.slice, 'differential', options.seed, options.runs);
  const details = params ? fc.check(differential, params) : { failed: false, counterexample: null, counterexamplePath: null, numShrinks: 0 };
  if (details.failed && options.slice?.shrink === false) {
    return finish({ stats, failedAt: { property: 'differential', index: caseIndex(details.counterexamplePath) ?? 0 } });
  }
  if (details.failed && details.counterexample !== null) {
    const shrunk = details.counterexample[0];
    const first = compare(shrunk);
    // Operations inside a generated group cannot be shrunk by fast-check: drop them one chunk at a
    // time, keeping the same kind of divergence at the same kind of operation. Only for a plain
    // mismatch: an engine that throws or hangs would make every try slow.
    const same = (outcome: CaseOutcome): boolean =>
      outcome.kind === 'divergent' &&
      first.kind === 'divergent' &&
      outcome.divergence.kind === first.divergence.kind &&
      outcome.divergence.operation.kind === first.divergence.operation.kind;
    const minimized =
      first.kind === 'divergent' && first.divergence.kind === 'mismatch'
        ? minimizeOperations(shrunk.slice(0, first.divergence.index + 1), (candidate) => same(compare([...candidate])))
        : { operations: shrunk, tries: 0, removed: 0 };
    const operations = minimized.operations;
    const outcome = compare(operations);
    const note = outcome.kind === 'divergent' ? `diverges at step ${outcome.divergence.index}` : 'failed';
    return finish({
      stats,
      failure: {
        property: 'differential',
        testCase: makeCase(operations, note, details.counterexamplePath ?? undefined),
        outcome,
        message: divergenceMessage(outcome),
        index: caseIndex(details.counterexamplePath),
        originalLength: firstLength,
        shrinks: details.numShrinks + minimized.removed,
      },
    });
  }

  // --- metamorphic properties
  for (const [i, meta] of properties.entries()) {
    let metaFailed = false;
    let metaLength = 0;
    const wrapped = fc.property(meta.arbitrary, (ops) => {
      try {
        stepping?.expect(ops);
        meta.check(ops);
      } catch (error) {
        if (!metaFailed) metaLength = ops.length;
        metaFailed = true;
        throw error;
      }
      if (!metaFailed) {
        stats.metamorphic[meta.name] = (stats.metamorphic[meta.name] ?? 0) + 1;
        progress();
      }
    });
    const metaParams = sliceParams<[Operation[]]>(options.slice, meta.name, options.seed + i + 1, metamorphicRuns);
    if (metaParams === undefined) continue;
    const metaDetails = fc.check(wrapped, metaParams);
    if (metaDetails.failed && options.slice?.shrink === false) {
      return finish({ stats, failedAt: { property: meta.name, index: caseIndex(metaDetails.counterexamplePath) ?? 0 } });
    }
    if (metaDetails.failed && metaDetails.counterexample !== null) {
      const operations = metaDetails.counterexample[0];
      const outcome = compare(operations);
      const message = metaDetails.errorInstance instanceof Error ? metaDetails.errorInstance.message : 'relation broken';
      return finish({
        stats,
        failure: {
          property: meta.name,
          testCase: makeCase(operations, `${meta.name}: ${message}`, metaDetails.counterexamplePath ?? undefined),
          outcome,
          message,
          index: caseIndex(metaDetails.counterexamplePath),
          originalLength: metaLength,
          shrinks: metaDetails.numShrinks,
        },
      });
    }
  }
  return finish({ stats });
}

/** What recording boundary points needs: the points by rule, and the state cases start from. */
export interface Coverage {
  index: PointIndex;
  initial: ModelState;
}

/** Adds one compared case to the statistics. */
export function record(stats: SuiteStats, outcome: CaseOutcome, label: typeof outcomeLabel, coverage: Coverage): void {
  stats.cases += 1;
  for (const step of outcome.steps) {
    stats.steps += 1;
    const obs = step.observation;
    if (obs !== undefined) {
      const key =
        obs.kind === 'fault'
          ? obs.vector === 'GP' ? '#GP(0)' : '#UD'
          : obs.kind === 'vmfail-valid'
            ? label('VMfailValid', obs.error)
            : obs.kind === 'vmexit'
              ? label('VM exit', obs.reason)
              : obs.kind === 'vmentry-failure'
                ? `VM-entry failure 0x${obs.exitReason.toString(16)}`
                : obs.kind === 'inactive'
                  ? `inactive (${obs.activity})`
                  : { vmsucceed: 'VMsucceed', 'vmfail-invalid': 'VMfailInvalid', ok: 'ok', unimplemented: 'unimplemented', vmentry: 'VM entry' }[obs.kind];
      stats.outcomes[key] = (stats.outcomes[key] ?? 0) + 1;
    }
    if (step.matched !== undefined) {
      stats.rulesHit[step.matched.rule.id] = (stats.rulesHit[step.matched.rule.id] ?? 0) + 1;
    } else if (step.verdict.kind !== 'defined') {
      stats.rulesHit[step.verdict.rule.id] = (stats.rulesHit[step.verdict.rule.id] ?? 0) + 1;
    }
  }
  for (const id of pointsReached(coverage.index, outcome.steps, coverage.initial)) {
    stats.boundariesHit[id] = (stats.boundariesHit[id] ?? 0) + 1;
  }
  recordEntryChecks(stats.entryChecks, outcome.steps, coverage.initial);
  recordExitReasons(stats.exitReasons, outcome.steps);
  if (outcome.kind === 'conformant') stats.endings[outcome.ended] += 1;
  if (outcome.kind === 'conformant' && outcome.ended === 'not-modelled' && outcome.endRule !== undefined) {
    stats.notModelled[outcome.endRule.id] = (stats.notModelled[outcome.endRule.id] ?? 0) + 1;
  }
  if (outcome.kind === 'conformant' && outcome.ended === 'undefined' && outcome.endRule !== undefined) {
    stats.undefinedAt[outcome.endRule.id] = (stats.undefinedAt[outcome.endRule.id] ?? 0) + 1;
  }
  const last = outcome.steps[outcome.steps.length - 1];
  if (outcome.kind === 'conformant' && outcome.ended === 'engine-unimplemented' && last !== undefined) {
    stats.unimplemented[last.operation.kind] = (stats.unimplemented[last.operation.kind] ?? 0) + 1;
  }
}

/** One sentence on a differential failure, for the report's heading. */
export function divergenceMessage(outcome: CaseOutcome): string {
  if (outcome.kind !== 'divergent') return 'the shrunk case no longer diverges when run again (the engine is not deterministic)';
  const d = outcome.divergence;
  const what = { mismatch: 'did something the SDM does not allow', 'engine-threw': 'threw an exception', 'malformed-observation': 'returned something that is not an observation' }[d.kind];
  return `At step ${d.index} the engine ${what}.`;
}
