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
import { createProgress } from '../progress.ts';
import { renderSummary, rulesMissed } from '../report.ts';
import { EXIT, UsageError } from '../usage-error.ts';

/** Options of `run`, as parsed from the command line. */
export interface RunOptions {
  emulator?: string;
  /** Milliseconds a plug-in may take per call before it counts as hung. */
  stepTimeout?: number;
  /** Run the plug-in in this thread (no time limit; faster). */
  inProcess?: boolean;
  profile: string;
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
  const { profile, ref } = resolveProfile(options.profile);
  process.stderr.write(profileWarningsText(profile));
  const engine = await loadEngine(options.emulator, options.stepTimeout, options.inProcess);
  try {
    engine.factory({ profile: profile.data, logicalProcessors: options.cpus });
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
    onProgress: (done, total) => progress.update(done, total),
  });
  progress.stop();
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
      process.stdout.write(`replay it with: vmx-conformance replay ${relative(process.cwd(), saved.casePath)}${options.emulator ? ` --emulator ${options.emulator}` : ''}\n`);
    } else {
      process.stdout.write(`${pc.green('CONFORMANT')}: no divergence from what the SDM allows (seed ${seed})\n`);
    }
  }
  return result.failure ? EXIT.divergence : EXIT.conformant;
}
