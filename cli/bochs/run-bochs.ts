/**
 * `vmx-conformance run --emulator bochs --bochs-model <cpu>` and `replay ... --emulator bochs`:
 * the suite against Debian's Bochs 2.7 through the guest agent, in batches of cases per boot.
 */
import { relative } from 'node:path';
import pc from 'picocolors';
import type { Worker } from 'node:worker_threads';
import { runCaseDifferential } from '../../properties/differential.ts';
import { createTraceWriter, renderTrace } from '../../properties/trace.ts';
import { CASE_FORMAT, type ConformanceCase } from '../../properties/case.ts';
import { divergenceMessage, type SuiteFailure } from '../../properties/suite.ts';
import { SEQUENCE_MIXES, type SequenceMix } from '../../properties/generators/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import { profileWarningsText, resolveProfile } from '../load-profile.ts';
import { fileNamePart, prepareOutputDir } from '../output-dir.ts';
import { EmulatorFault } from '../engine-fault.ts';
import { reportFault } from '../fault-report.ts';
import { createProgress } from '../progress.ts';
import { renderSummary, rulesMissed } from '../report.ts';
import { EXIT, UsageError } from '../usage-error.ts';
import { decideVerdict } from '../verdict.ts';
import { saveFailure, type RunOptions } from '../commands/run.ts';
import { BochsEngine } from './bochs-engine.ts';
import { runBochsCampaign } from './bochs-campaign.ts';
import { handleInterrupt } from '../interrupt.ts';
import { trackChild } from '../children.ts';
import { defaultJobs } from '../jobs/campaign.ts';
import { parseShard } from '../jobs/plan.ts';
import { matchKnown, readKnownDivergences, type KnownDivergence } from './known-divergences.ts';

/** The Bochs options of `run` and `replay`. */
export interface BochsOptions {
  bochsModel?: string;
  /** Cases per Bochs boot (run). */
  batch?: number;
  knownDivergences?: string;
  /** Milliseconds one Bochs boot may take before it counts as hung (default 120,000). */
  bootTimeout?: number;
  /** The step mix (`all` or `no-guests`; run). */
  mix?: string;
  /** Milliseconds the running agent may print nothing before its Bochs counts as hung (run; default {@link STALL_MS}). */
  silenceTimeout?: number;
}

/**
 * Milliseconds the agent may print nothing, once started, before its Bochs is stopped as hung: it
 * prints a line per case as it goes (a case takes well under a millisecond), so this is long even
 * for a machine shared by twenty processes, and a lost agent costs this instead of `--boot-timeout`.
 */
export const STALL_MS = 10_000;

function openEngine(model: string | undefined, timeoutMs: number | undefined, executeKnownCrashes: boolean, stallMs = STALL_MS): BochsEngine {
  if (model === undefined || !/^[a-z0-9_]+$/.test(model)) throw new UsageError('--emulator bochs needs --bochs-model <cpu>, e.g. corei7_skylake_x, core2_penryn_t9600, tigerlake');
  return BochsEngine.open({ model, timeoutMs: timeoutMs ?? 120_000, executeKnownCrashes, stallMs, onChild: trackChild });
}

/** `run --emulator bochs`: returns the exit code. */
export async function runBochs(options: RunOptions & BochsOptions, seed: number): Promise<number> {
  const batch = options.batch ?? 2_000;
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError('--batch must be a positive integer');
  const known: KnownDivergence[] = options.knownDivergences === undefined ? [] : readKnownDivergences(options.knownDivergences);
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  const mix = (options.mix ?? 'all') as SequenceMix;
  if (!(SEQUENCE_MIXES as readonly string[]).includes(mix)) throw new UsageError(`--mix must be one of ${SEQUENCE_MIXES.join(', ')} (got "${options.mix}")`);
  const jobs = options.jobs ?? defaultJobs();
  const out = prepareOutputDir(options.out);
  let engine: BochsEngine | undefined;
  let removeHandler: (() => void) | undefined;
  try {
    try {
      engine = openEngine(options.bochsModel, options.bootTimeout, false, options.silenceTimeout);
    } catch (error) {
      if (error instanceof EmulatorFault) return reportFault(error, { out: out.path, json: options.json, profileRef: 'bochs', profileName: 'bochs', seed, save: false });
      throw error;
    }
    let profile: Profile = engine.profile;
    let ref: string | Profile['data'] = engine.profile.data;
    if (options.profile !== undefined) ({ profile, ref } = resolveProfile(options.profile));
    process.stderr.write(profileWarningsText(profile));
    const header =
      `vmx-conformance run: engine ${engine.name} (Bochs 2.7, guest agent), profile ${profile.name} (${options.profile === undefined ? 'read from Bochs' : `--profile ${options.profile}`}), ` +
      `seed ${seed}, ${options.runs} runs, at most ${options.maxSteps} steps, 1 logical processor, ${batch} cases per boot` +
      (mix === 'all' ? '' : `, mix ${mix}`) +
      (shard === undefined ? '' : `; shard ${options.shard}`) +
      (known.length > 0 ? `, ${known.length} known divergences from ${options.knownDivergences}` : '');
    if (!options.json) process.stdout.write(`${header}\n`);
    const progress = createProgress('bochs', options.json === true, seed);
    const started = Date.now();
    const workers: Worker[] = [];
    let seen = { done: 0, total: options.runs };
    removeHandler = handleInterrupt({
      stop: () => {
        progress.stop();
        for (const w of workers) void w.terminate();
      },
      describe: () =>
        `${seen.done} of ${seen.total} cases judged (seed ${seed}${shard === undefined ? '' : `, shard ${options.shard}`}); no new divergence so far ` +
        `(a new one stops the run and is saved); nothing was saved in ${relative(process.cwd(), out.path) || '.'}. Repeat with the same --seed to get the whole run.`,
    });
    const result = await runBochsCampaign({
      engine,
      profile,
      seed,
      runs: options.runs,
      maxSteps: options.maxSteps,
      batchSize: batch,
      jobs,
      ...(shard ? { shard } : {}),
      setup: {
        model: options.bochsModel as string,
        timeoutMs: options.bootTimeout ?? 120_000,
        stallMs: options.silenceTimeout ?? STALL_MS,
        bochsProfile: engine.profile.data,
        profileRef: ref,
        ...(options.knownDivergences === undefined ? {} : { knownDivergences: options.knownDivergences }),
        mix,
      },
      acknowledge: (outcome, operations) => matchKnown(known, outcome, operations),
      onProgress: (done, total) => {
        seen = { done, total };
        progress.update(done, total);
      },
      onWorker: (w) => void workers.push(w),
    });
    progress.stop();
    removeHandler();
    removeHandler = undefined;
    const seconds = (Date.now() - started) / 1000;
    const f = result.failure;
    const replayWith = `--emulator bochs --bochs-model ${options.bochsModel}`;
    const shrunkNote = f === undefined ? '' : f.reproduced ? `shrunk from ${f.original.length} to ${f.shrunk.length} operations in ${f.rounds} batched rounds (one boot each)` : 'it did not fail again when run alone, so it was not shrunk';
    if (f !== undefined && f.outcome.kind === 'divergent' && f.outcome.divergence.kind !== 'mismatch' && engine.fault) {
      return reportFault(engine.fault, {
        out: out.path, json: options.json, profileRef: ref, profileName: profile.name, seed, save: true, replayWith,
        ...(f.reproduced && f.shrunk.length < f.original.length ? { original: { operations: f.original, shrunk: shrunkNote } } : {}),
      });
    }
    const failure: SuiteFailure | undefined =
      f === undefined
        ? undefined
        : {
            property: 'differential',
            testCase: {
              format: CASE_FORMAT,
              profile: ref,
              logicalProcessors: 1,
              operations: f.shrunk,
              origin: { engine: engine.name, seed, note: `case ${f.index} of the run; ${f.outcome.kind === 'divergent' ? `diverges at step ${f.outcome.divergence.index}` : 'failed'}` },
            },
            outcome: f.outcome,
            message: divergenceMessage(f.outcome),
            index: f.index,
            originalLength: f.original.length,
            shrinks: f.original.length - f.shrunk.length,
          };
    const verdict = decideVerdict({ stats: result.stats, ...(failure ? { failure } : {}) }, undefined);
    const speed = {
      jobs: Math.max(1, result.workers),
      boots: result.boots,
      casesPerBoot: result.boots === 0 ? 0 : Math.round(result.bootedCases / result.boots),
      comparedStepsPerSecond: Math.round(result.stats.steps / Math.max(seconds, 0.001)),
      bochsSeconds: result.bochsMs / 1000,
      seconds,
    };
    let saved: { casePath: string; tracePath: string } | undefined;
    let trace = '';
    if (failure) {
      trace = renderTrace(failure.outcome, `Divergence (engine ${engine.name}, profile ${profile.name}, seed ${seed}); ${shrunkNote}.\n${failure.message}`);
      const part = shard ? `-shard${shard.index}of${shard.count}` : '';
      saved = saveFailure(out.path, `${fileNamePart(engine.name)}-${fileNamePart(profile.name)}-seed${seed}${part}`, failure, trace);
    }
    if (options.json) {
      const report = {
        engine: engine.name,
        emulator: 'bochs',
        profile: profile.name,
        profileSource: typeof ref === 'string' ? { builtIn: ref } : { file: options.profile ?? null, data: ref },
        profileData: profile.data,
        seed,
        runs: options.runs,
        maxSteps: options.maxSteps,
        cpus: 1,
        speed,
        verdict: verdict.kind,
        exitCode: verdict.code,
        stats: { ...result.stats, rulesMissed: rulesMissed(result.stats) },
        mix,
        acknowledged: result.acknowledged,
        stoppedAt: result.stoppedAt,
        failure: failure && saved ? { message: failure.message, index: failure.index, case: failure.testCase, ...saved } : undefined,
        ...(shard ? { shard: { ...shard, properties: ['differential'], blocks: { differential: result.block } } } : {}),
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return verdict.code;
    }
    const w = (text: string): void => void process.stdout.write(`${text}\n`);
    w(renderSummary(result.stats));
    w(
      `  time: ${seconds.toFixed(1)} s (${speed.bochsSeconds.toFixed(1)} s in Bochs${speed.jobs > 1 ? `, summed over ${speed.jobs} jobs` : ''}, the rest compiling and judging); ${speed.boots} Bochs boots, ` +
        `${speed.casesPerBoot} cases per boot, ${speed.comparedStepsPerSecond} compared steps per second`,
    );
    const stops = Object.entries(result.stoppedAt).sort((a, b) => b[1] - a[1]);
    if (stops.length > 0) {
      w('  where the agent stopped (cases that ended at a step it answered unimplemented, by operation and reason):');
      for (const [why, count] of stops) w(`    ${count} ${why}`);
      const entries = stops.filter(([why]) => /^vm(launch|resume): /.test(why)).reduce((sum, [, c]) => sum + c, 0);
      if (entries > 0 && mix === 'all') w(`  ${entries} cases ended at a VM entry into a guest the agent cannot run yet (bochs/README.md); --mix no-guests leaves guests out and does not count these towards INCOMPLETE`);
    }
    const acknowledged = Object.entries(result.acknowledged);
    if (acknowledged.length > 0) {
      w(`  known divergences acknowledged (${options.knownDivergences}):`);
      for (const [id, { count }] of acknowledged) {
        const entry = known.find((k) => k.id === id);
        w(`    ${id} (${entry?.kind === 'model' ? 'model wrong, fix pending' : 'Bochs departs from the SDM'}): ${count} cases; ${entry?.summary ?? ''}`);
      }
    }
    if (saved) {
      w(`\n${trace}`);
      w(`${pc.red('DIVERGENCE')}: case saved to ${relative(process.cwd(), saved.casePath)}, trace to ${relative(process.cwd(), saved.tracePath)}`);
      w(`replay it with: vmx-conformance replay ${relative(process.cwd(), saved.casePath)} ${replayWith}`);
    } else if (verdict.kind === 'incomplete') {
      w(`${pc.yellow('INCOMPLETE')}: no new divergence, but ${result.stats.endings['engine-unimplemented']} of ${result.stats.cases} cases ended at steps the agent does not perform (seed ${seed})`);
    } else {
      w(`${pc.green('CONFORMANT')}: no divergence beyond the ${acknowledged.length} known ones (seed ${seed})`);
    }
    return verdict.code;
  } finally {
    removeHandler?.();
    engine?.close();
    out.release();
  }
}

/** `replay <case> --emulator bochs`: one boot, the case compared step by step; returns the exit code. */
export function replayBochs(file: string, testCase: ConformanceCase, profile: Profile, options: BochsOptions & { json?: boolean }): number {
  let engine: BochsEngine;
  try {
    engine = openEngine(options.bochsModel, options.bootTimeout, true);
  } catch (error) {
    if (error instanceof EmulatorFault) return reportFault(error, { out: '', json: options.json, profileRef: testCase.profile, profileName: profile.name, save: false });
    throw error;
  }
  try {
    if (testCase.logicalProcessors !== 1) throw new UsageError(`${file}: the Bochs agent runs cases on 1 logical processor; this case has ${testCase.logicalProcessors}`);
    const outcome = runCaseDifferential(engine, profile, 1, testCase.operations);
    if (engine.fault) return reportFault(engine.fault, { out: '', json: options.json, profileRef: testCase.profile, profileName: profile.name, save: false });
    if (options.json === true) {
      const steps = outcome.steps.map((s) => ({ operation: s.operation, observation: s.observation, verdict: s.verdict.kind, rule: s.matched?.rule.id }));
      process.stdout.write(`${JSON.stringify({ case: file, engine: engine.name, steps, conformant: outcome.kind === 'conformant' }, null, 2)}\n`);
    } else {
      const lines: string[] = [];
      const writer = createTraceWriter(`Replay of ${file} on engine ${engine.name}, profile ${profile.name}, 1 logical processor`, (line) => lines.push(line));
      for (const step of outcome.steps) writer.step(step);
      writer.finish(outcome);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (outcome.kind === 'divergent') return outcome.divergence.kind === 'mismatch' ? EXIT.divergence : EXIT.fault;
    return outcome.ended === 'engine-unimplemented' ? EXIT.incomplete : EXIT.conformant;
  } finally {
    engine.close();
  }
}
