/**
 * `vmx-conformance run`: the conformance suite against an engine. Prints progress and a summary;
 * on a divergence prints the shrunk case's trace and saves the case (JSON) and trace (text).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pc from 'picocolors';
import { serializeCase } from '../../properties/case.ts';
import { runSuite, type SuiteFailure } from '../../properties/suite.ts';
import { renderTrace } from '../../properties/trace.ts';
import { loadEngine } from '../load-engine.ts';
import { profileWarningsText, resolveProfile } from '../load-profile.ts';
import { ProcessEngine } from '../process-engine.ts';
import { reportFault } from '../process-fault.ts';
import { createProgress } from '../progress.ts';
import { renderSummary, rulesMissed } from '../report.ts';
import { EXIT, UsageError } from '../usage-error.ts';

/** Options of `run`, as parsed from the command line. */
export interface RunOptions {
  emulator?: string;
  /** An emulator program speaking the process protocol, with its arguments. */
  emulatorCmd?: string;
  /** Milliseconds an `emulatorCmd` process has to answer the hello. */
  handshakeTimeout?: number;
  /** Milliseconds a plug-in may take per call before it counts as hung. */
  stepTimeout?: number;
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
}

/** Saves a failing case and its trace under `dir`; returns both paths. */
export function saveFailure(dir: string, stem: string, failure: SuiteFailure, trace: string): { casePath: string; tracePath: string } {
  mkdirSync(dir, { recursive: true });
  const casePath = join(dir, `${stem}.case.json`);
  const tracePath = join(dir, `${stem}.trace.txt`);
  writeFileSync(casePath, serializeCase(failure.testCase));
  writeFileSync(tracePath, trace);
  return { casePath, tracePath };
}

/** Runs the suite; returns the exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new UsageError('--runs must be a positive integer');
  if (!Number.isInteger(options.maxSteps) || options.maxSteps < 1) throw new UsageError('--max-steps must be a positive integer');
  if (!Number.isInteger(options.cpus) || options.cpus < 1 || options.cpus > 16) throw new UsageError('--cpus must be an integer from 1 to 16');
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fff_ffff);
  if (!Number.isInteger(seed)) throw new UsageError('--seed must be an integer');
  if (options.emulator !== undefined && options.emulatorCmd !== undefined) throw new UsageError('give --emulator or --emulator-cmd, not both');
  const proc = options.emulatorCmd === undefined ? undefined : ProcessEngine.open(options.emulatorCmd, { handshakeTimeoutMs: options.handshakeTimeout ?? 10_000, stepTimeoutMs: options.stepTimeout ?? 10_000, logicalProcessors: options.cpus });
  const { profile, ref } = proc ? proc.chooseProfile(options.profile) : resolveProfile(options.profile ?? 'skylake');
  process.stderr.write(profileWarningsText(profile));
  const engine = proc ?? (await loadEngine(options.emulator, options.stepTimeout, options.inProcess));
  try {
    if (!proc) engine.factory({ profile: profile.data, logicalProcessors: options.cpus });
  } catch (error) {
    throw new UsageError(`creating the engine failed: ${(error as Error).message}`);
  }

  const header = `vmx-conformance run: engine ${engine.name}, profile ${profile.name}, seed ${seed}, ${options.runs} runs, ${options.cpus} logical processors`;
  if (!options.json) process.stdout.write(`${header}\n`);
  const progress = createProgress('conformance', options.json === true);
  const started = Date.now();
  const result = runSuite({
    factory: engine.factory,
    engineName: engine.name,
    profile,
    profileRef: ref,
    seed,
    runs: options.runs,
    maxSteps: options.maxSteps,
    logicalProcessors: options.cpus,
    caseEngine: proc,
    onProgress: (done, total) => progress.update(done, total),
  });
  progress.stop();
  proc?.close();
  if (proc?.fault) return reportFault(proc.fault, { out: options.out, json: options.json, profileRef: ref, profileName: profile.name, seed, save: true });
  const seconds = (Date.now() - started) / 1000;

  let saved: { casePath: string; tracePath: string } | undefined;
  let trace = '';
  if (result.failure) {
    const f = result.failure;
    const title =
      `Divergence found by the ${f.property} property (engine ${engine.name}, profile ${profile.name}, seed ${seed}); ` +
      `shrunk from ${f.originalLength} to ${f.testCase.operations.length} steps in ${f.shrinks} shrinks.\n${f.message}`;
    trace = renderTrace(f.outcome, title);
    saved = saveFailure(options.out, `${engine.name}-${profile.name}-seed${seed}`, f, trace);
  }

  if (options.json) {
    const report = {
      engine: engine.name,
      profile: profile.name,
      profileWarnings: profile.warnings,
      seed,
      runs: options.runs,
      seconds,
      conformant: result.failure === undefined,
      stats: { ...result.stats, rulesMissed: rulesMissed(result.stats) },
      failure: result.failure && saved ? { property: result.failure.property, message: result.failure.message, case: result.failure.testCase, ...saved } : undefined,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderSummary(result.stats)}\n  time: ${seconds.toFixed(1)} s\n`);
    if (result.failure && saved) {
      process.stdout.write(`\n${trace}\n`);
      process.stdout.write(`${pc.red('DIVERGENCE')}: case saved to ${relative(process.cwd(), saved.casePath)}, trace to ${relative(process.cwd(), saved.tracePath)}\n`);
      process.stdout.write(`replay it with: vmx-conformance replay ${relative(process.cwd(), saved.casePath)}${options.emulator ? ` --emulator ${options.emulator}` : ''}${options.emulatorCmd ? ` --emulator-cmd '${options.emulatorCmd}'` : ''}\n`);
    } else {
      process.stdout.write(`${pc.green('CONFORMANT')}: no divergence from what the SDM allows (seed ${seed})\n`);
    }
  }
  return result.failure ? EXIT.divergence : EXIT.conformant;
}
