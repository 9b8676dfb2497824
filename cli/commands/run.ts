/**
 * `vmx-conformance run`: the conformance suite against an engine. Prints progress and a summary;
 * on a divergence or an emulator fault prints the shrunk case's trace and saves the case (JSON)
 * and trace (text). The output directory is checked before the run starts.
 */
import { join, relative } from 'node:path';
import pc from 'picocolors';
import { serializeCase, type CaseProperty, type ConformanceCase } from '../../properties/case.ts';
import { snapshotPoint } from '../../properties/metamorphic.ts';
import type { SuiteFailure } from '../../properties/suite.ts';
import { renderTrace } from '../../properties/trace.ts';
import { EmulatorFault } from '../engine-fault.ts';
import { loadEngine, type LoadedEngine } from '../load-engine.ts';
import { profileWarningsText, resolveProfile } from '../load-profile.ts';
import { ProcessEngine } from '../process-engine.ts';
import { reportFault } from '../fault-report.ts';
import { reportShrunkProcessFault } from '../process-shrink.ts';
import { fileNamePart, prepareOutputDir, writeAtomically } from '../output-dir.ts';
import { defaultJobs, runCampaign } from '../jobs/campaign.ts';
import { parseShard } from '../jobs/plan.ts';
import { createProgress } from '../progress.ts';
import { renderSummary, rulesMissed } from '../report.ts';
import { UsageError } from '../usage-error.ts';
import { decideVerdict, INCOMPLETE_FRACTION, type Verdict } from '../verdict.ts';
import { runBochs, type BochsOptions } from '../bochs/run-bochs.ts';
import { handleInterrupt } from '../interrupt.ts';
import type { Worker } from 'node:worker_threads';

/** Options of `run`, as parsed from the command line. */
export interface RunOptions extends BochsOptions {
  /** A plug-in module, or `bochs` for Debian's Bochs 2.7 (with `bochsModel`). */
  emulator?: string;
  /** An emulator program speaking the process protocol, with its arguments. */
  emulatorCmd?: string;
  /** Milliseconds a plug-in may take per call before it counts as hung. */
  stepTimeout?: number;
  /** Milliseconds a plug-in may take to load. */
  handshakeTimeout?: number;
  /** Run the plug-in in this thread (no time limit; faster). */
  inProcess?: boolean;
  /** Default: `skylake`, or the profile an `emulatorCmd` process announces. */
  profile?: string;
  seed?: number;
  runs: number;
  maxSteps: number;
  cpus: number;
  out: string;
  json?: boolean;
  /** Worker threads running cases (default: the cores); results do not depend on it. */
  jobs?: number;
  /** `i/n`: run only the i-th of n shares of the cases (cli/jobs/plan.ts). */
  shard?: string;
}

/** Smallest and largest seed accepted: fast-check takes 32 bits, and each of these is one run. */
export const SEED_RANGE = [-0x8000_0000, 0xffff_ffff] as const;

/** Saves a failing case (format /2, with its property) and its trace under `dir`, atomically; returns both paths. */
export function saveFailure(dir: string, stem: string, failure: SuiteFailure, trace: string): { casePath: string; tracePath: string } {
  const testCase = caseWithProperty(failure);
  const casePath = join(dir, `${stem}.case.json`);
  const tracePath = join(dir, `${stem}.trace.txt`);
  writeAtomically(casePath, serializeCase(testCase));
  writeAtomically(tracePath, trace);
  return { casePath, tracePath };
}

/** Checks the numeric options; throws UsageError naming the first bad one. */
export function checkRunOptions(options: RunOptions): void {
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new UsageError('--runs must be a positive integer');
  if (!Number.isInteger(options.maxSteps) || options.maxSteps < 1) throw new UsageError('--max-steps must be a positive integer');
  if (!Number.isInteger(options.cpus) || options.cpus < 1 || options.cpus > 16) throw new UsageError('--cpus must be an integer from 1 to 16');
  const seed = options.seed;
  if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < SEED_RANGE[0] || seed > SEED_RANGE[1])) {
    throw new UsageError(`--seed must be an integer from ${SEED_RANGE[0]} to ${SEED_RANGE[1]} (fast-check seeds are 32 bits)`);
  }
  if (options.jobs !== undefined && (!Number.isInteger(options.jobs) || options.jobs < 1)) throw new UsageError('--jobs must be a positive integer');
  if (options.shard !== undefined) parseShard(options.shard);
  for (const [flag, value] of [['--step-timeout', options.stepTimeout], ['--handshake-timeout', options.handshakeTimeout]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new UsageError(`${flag} must be a positive number of milliseconds`);
  }
}

/** The case as saved: the suite's case plus the property that found it (format /2). */
export function caseWithProperty(failure: SuiteFailure): ConformanceCase {
  const property = failure.property as CaseProperty;
  const ops = failure.testCase.operations;
  const snapshotAt = property === 'snapshot-restore-replays' ? { snapshotAt: snapshotPoint(ops) } : {};
  return { ...failure.testCase, origin: { property, ...snapshotAt, ...failure.testCase.origin } };
}

/** Runs the suite; returns the exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  checkRunOptions(options);
  if (options.emulator !== undefined && options.emulatorCmd !== undefined) throw new UsageError('give --emulator or --emulator-cmd, not both');
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fff_ffff);
  if (options.emulatorCmd !== undefined) return runProcess(options, options.emulatorCmd, seed);
  if (options.emulator === 'bochs') return runBochs(options, seed);
  if (options.bochsModel !== undefined || options.knownDivergences !== undefined || options.batch !== undefined || options.silenceTimeout !== undefined || options.mix !== undefined) {
    throw new UsageError('--bochs-model, --batch, --mix, --silence-timeout and --known-divergences go with --emulator bochs');
  }
  const { profile, ref } = resolveProfile(options.profile ?? 'skylake');
  process.stderr.write(profileWarningsText(profile));
  const out = prepareOutputDir(options.out);
  let engine: LoadedEngine;
  try {
    engine = await loadEngine(options.emulator, {
      stepTimeoutMs: options.stepTimeout,
      handshakeTimeoutMs: options.handshakeTimeout,
      inProcess: options.inProcess,
    });
  } catch (error) {
    out.release();
    throw error;
  }
  try {
    return await runLoaded(options, engine, seed, profile, ref, out.path);
  } finally {
    engine.dispose();
    out.release();
  }
}

/** `run --emulator-cmd`: the suite against an emulator process (docs/protocol.md). */
async function runProcess(options: RunOptions, command: string, seed: number): Promise<number> {
  const out = prepareOutputDir(options.out);
  let proc: ProcessEngine | undefined;
  try {
    proc = ProcessEngine.open(command, {
      handshakeTimeoutMs: options.handshakeTimeout ?? 10_000,
      stepTimeoutMs: options.stepTimeout ?? 10_000,
      logicalProcessors: options.cpus,
    });
    const { profile, ref } = proc.chooseProfile(options.profile);
    process.stderr.write(profileWarningsText(profile));
    const engine = { name: proc.name, factory: proc.factory, lastFault: () => undefined, dispose: () => undefined };
    return await runLoaded(options, engine, seed, profile, ref, out.path, proc);
  } finally {
    proc?.close();
    out.release();
  }
}

async function runLoaded(
  options: RunOptions,
  engine: LoadedEngine,
  seed: number,
  profile: ReturnType<typeof resolveProfile>['profile'],
  ref: ReturnType<typeof resolveProfile>['ref'],
  outDir: string,
  proc?: ProcessEngine,
): Promise<number> {
  try {
    if (proc === undefined) engine.factory({ profile: profile.data, logicalProcessors: options.cpus });
  } catch (error) {
    if (error instanceof EmulatorFault || error instanceof UsageError) throw error;
    throw new UsageError(`creating the engine failed: ${(error as Error).message}`);
  }
  const profileSource = typeof ref === 'string' ? 'built-in' : proc !== undefined && options.profile === undefined ? 'announced by the emulator' : `file ${options.profile}`;
  const header =
    `vmx-conformance run: engine ${engine.name}, profile ${profile.name} (${profileSource}), seed ${seed}, ` +
    `${options.runs} runs, at most ${options.maxSteps} steps, ${options.cpus} logical processors` +
    (options.shard === undefined ? '' : `; shard ${options.shard}`);
  if (!options.json) process.stdout.write(`${header}\n`);
  const progress = createProgress('conformance', options.json === true, seed);
  const started = Date.now();
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  const jobs = options.jobs ?? defaultJobs();
  const setup = {
    emulator: options.emulator,
    emulatorCmd: options.emulatorCmd,
    stepTimeoutMs: options.stepTimeout,
    handshakeTimeoutMs: options.handshakeTimeout,
    inProcess: options.inProcess,
    profile: ref,
    seed,
    runs: options.runs,
    maxSteps: options.maxSteps,
    cpus: options.cpus,
  };
  let seen = { done: 0, total: 0 };
  let removeHandler: (() => void) | undefined;
  // Ctrl-C is heard only while workers run the cases (this thread waits for them); a run on one
  // job runs synchronously here, where Node's default ending applies (cli/interrupt.ts).
  const onWorkers = (running: boolean, workers: readonly Worker[]): void => {
    removeHandler?.();
    removeHandler = running
      ? handleInterrupt({
          stop: () => {
            progress.stop();
            for (const w of workers) void w.terminate();
          },
          describe: () =>
            `${seen.done} of ${seen.total} cases run (seed ${seed}${options.shard === undefined ? '' : `, shard ${options.shard}`}); no divergence or fault found so far ` +
            `(the first one stops the run and is saved in ${relative(process.cwd(), outDir) || '.'}). Repeat with the same --seed to get the whole run.`,
        })
      : undefined;
  };
  const result = await runCampaign({
    factory: engine.factory,
    engineName: engine.name,
    profile,
    profileRef: ref,
    seed,
    runs: options.runs,
    maxSteps: options.maxSteps,
    logicalProcessors: options.cpus,
    caseEngine: proc,
    onProgress: (done, total) => {
      seen = { done, total };
      progress.update(done, total);
    },
  }, { jobs, setup, onWorkers, ...(shard ? { shard } : {}) });
  progress.stop();
  proc?.close();
  if (proc?.fault) {
    removeHandler?.();
    const fault = proc.fault;
    if (options.emulatorCmd === undefined) return reportFault(fault, { out: outDir, json: options.json, profileRef: ref, profileName: profile.name, seed, save: true });
    return reportShrunkProcessFault(options.emulatorCmd, fault, {
      handshakeTimeoutMs: options.handshakeTimeout ?? 10_000,
      stepTimeoutMs: options.stepTimeout ?? 10_000,
      logicalProcessors: options.cpus,
    }, { out: outDir, json: options.json, profileRef: ref, profileName: profile.name, seed, save: true });
  }
  const seconds = (Date.now() - started) / 1000;
  const verdict = decideVerdict(result, engine.lastFault());

  let saved: { casePath: string; tracePath: string } | undefined;
  let trace = '';
  let testCase: ConformanceCase | undefined;
  if (result.failure) {
    const f = result.failure;
    testCase = caseWithProperty(f);
    const what = verdict.kind === 'fault' ? `Emulator fault (${verdict.fault?.kind})` : 'Divergence';
    const message = verdict.kind === 'fault' ? (verdict.fault?.message ?? f.message) : f.message;
    const title =
      `${what} found by the ${f.property} property (engine ${engine.name}, profile ${profile.name}, seed ${seed}); ` +
      `shrunk from ${f.originalLength} to ${f.testCase.operations.length} steps in ${f.shrinks} shrinks.\n${message}`;
    trace = renderTrace(f.outcome, title);
    const part = shard ? `-shard${shard.index}of${shard.count}` : '';
    saved = saveFailure(outDir, `${fileNamePart(engine.name)}-${fileNamePart(profile.name)}-seed${seed}${part}`, f, trace);
  }

  if (options.json) {
    const report = {
      engine: engine.name,
      emulator: options.emulator ?? null,
      profile: profile.name,
      profileSource: typeof ref === 'string' ? { builtIn: ref } : { file: options.profile ?? null, data: ref },
      profileWarnings: profile.warnings,
      seed,
      runs: options.runs,
      maxSteps: options.maxSteps,
      cpus: options.cpus,
      seconds,
      verdict: verdict.kind,
      exitCode: verdict.code,
      conformant: verdict.kind === 'conformant',
      stats: { ...result.stats, rulesMissed: rulesMissed(result.stats) },
      fault: verdict.fault,
      failure: result.failure && saved ? { property: result.failure.property, index: result.failure.index, message: result.failure.message, case: testCase, ...saved } : undefined,
      ...(shard ? { shard: { ...shard, properties: result.properties, blocks: result.blocks } } : {}),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderSummary(result.stats)}\n  time: ${seconds.toFixed(1)} s\n`);
    writeConclusion(options, verdict, seed, trace, saved, result.stats.endings['engine-unimplemented'], result.stats.cases);
  }
  return verdict.code;
}

function writeConclusion(
  options: RunOptions,
  verdict: Verdict,
  seed: number,
  trace: string,
  saved: { casePath: string; tracePath: string } | undefined,
  unimplemented: number,
  cases: number,
): void {
  const w = (text: string): void => void process.stdout.write(`${text}\n`);
  if (saved) {
    w(`\n${trace}`);
    const label = verdict.kind === 'fault' ? pc.red(`EMULATOR FAULT (${verdict.fault?.kind})`) : pc.red('DIVERGENCE');
    if (verdict.kind === 'fault') w(`${label}: ${verdict.fault?.message}`);
    w(`${label}: case saved to ${relative(process.cwd(), saved.casePath)}, trace to ${relative(process.cwd(), saved.tracePath)}`);
    const plugIn = `${options.emulator ? ` --emulator ${options.emulator}` : ''}${options.emulatorCmd ? ` --emulator-cmd '${options.emulatorCmd}'` : ''}`;
    w(`replay it with: vmx-conformance replay ${relative(process.cwd(), saved.casePath)}${plugIn}`);
  } else if (verdict.kind === 'incomplete') {
    w(
      `${pc.yellow('INCOMPLETE')}: no divergence, but ${unimplemented} of ${cases} cases ended at steps the engine does not implement ` +
        `(more than ${INCOMPLETE_FRACTION * 100}%; seed ${seed})`,
    );
  } else {
    w(`${pc.green('CONFORMANT')}: no divergence from what the SDM allows (seed ${seed})`);
  }
}
