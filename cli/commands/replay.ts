/**
 * `vmx-conformance replay <case.json>`: runs a saved case on an engine beside the model and
 * prints the trace as it goes (a long case replays in bounded memory: no step is kept). A case
 * found by a metamorphic property (format /2, `origin.property`) is then checked against that
 * property again. Exit codes as for `run`: 0 conformant, 1 divergence or broken relation,
 * 2 bad input, 3 emulator fault, 4 the engine does not implement a step of the case.
 */
import { existsSync, readFileSync } from 'node:fs';
import { CaseFileError, parseCase, type ConformanceCase } from '../../properties/case.ts';
import { runCaseDifferential, runDifferential, type CaseOutcome, type StepRecord } from '../../properties/differential.ts';
import { recheckRelation } from '../../properties/metamorphic.ts';
import { createTraceWriter } from '../../properties/trace.ts';
import type { Engine } from '../../spec/engine.ts';
import type { Profile } from '../../spec/profile.ts';
import { EmulatorFault } from '../engine-fault.ts';
import { loadEngine, type LoadedEngine } from '../load-engine.ts';
import { profileWarningsText, resolveProfile } from '../load-profile.ts';
import { ProcessEngine } from '../process-engine.ts';
import { reportFault } from '../fault-report.ts';
import { EXIT, UsageError } from '../usage-error.ts';
import { replayBochs } from '../bochs/run-bochs.ts';

/** Options of `replay`. */
export interface ReplayOptions {
  /** A plug-in module, or `bochs` (with `bochsModel`). */
  emulator?: string;
  bochsModel?: string;
  bootTimeout?: number;
  /** An emulator program speaking the process protocol, with its arguments. */
  emulatorCmd?: string;
  /** Milliseconds a plug-in may take per call before it counts as hung. */
  stepTimeout?: number;
  /** Milliseconds a plug-in may take to load. */
  handshakeTimeout?: number;
  /** Run the plug-in in this thread (no time limit; faster). */
  inProcess?: boolean;
  json?: boolean;
}

/** Output gathered into blocks, so a million-line trace is not a million writes. */
function bufferedStdout(): { write(text: string): void; flush(): void } {
  let buffer = '';
  return {
    write(text) {
      buffer += text;
      if (buffer.length >= 1 << 16) this.flush();
    },
    flush() {
      if (buffer !== '') process.stdout.write(buffer);
      buffer = '';
    },
  };
}

/** Reads and checks a case file; every problem becomes a UsageError. */
export function readCase(file: string): ConformanceCase {
  if (!existsSync(file)) throw new UsageError(`case file not found: ${file}`);
  try {
    return parseCase(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if (error instanceof CaseFileError) throw new UsageError(error.message);
    throw new UsageError(`cannot read case file ${file}: ${(error as Error).message}`);
  }
}

/** Replays one case file; returns the exit code. */
export async function replayCommand(file: string, options: ReplayOptions): Promise<number> {
  for (const [flag, value] of [['--step-timeout', options.stepTimeout], ['--handshake-timeout', options.handshakeTimeout]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new UsageError(`${flag} must be a positive number of milliseconds`);
  }
  if (options.emulator !== undefined && options.emulatorCmd !== undefined) throw new UsageError('give --emulator or --emulator-cmd, not both');
  const testCase = readCase(file);
  const { profile } = resolveProfile(testCase.profile, `${file}: profile`);
  process.stderr.write(profileWarningsText(profile));
  if (options.emulatorCmd !== undefined) return replayProcess(file, testCase, profile, options.emulatorCmd, options);
  if (options.emulator === 'bochs') return replayBochs(file, testCase, profile, options);
  const engine = await loadEngine(options.emulator, {
    stepTimeoutMs: options.stepTimeout,
    handshakeTimeoutMs: options.handshakeTimeout,
    inProcess: options.inProcess,
  });
  try {
    return replayLoaded(file, testCase, profile, engine, options.json === true);
  } finally {
    engine.dispose();
  }
}

function replayLoaded(file: string, testCase: ConformanceCase, profile: Profile, engine: LoadedEngine, json: boolean): number {
  const config = { profile: profile.data, logicalProcessors: testCase.logicalProcessors };
  let instance: Engine;
  try {
    instance = engine.factory(config);
  } catch (error) {
    if (error instanceof EmulatorFault || error instanceof UsageError) throw error;
    throw new UsageError(`creating the engine failed: ${(error as Error).message}`);
  }
  const out = bufferedStdout();
  const property = testCase.origin?.property ?? 'differential';
  let outcome: CaseOutcome;
  if (json) {
    out.write(
      `{\n  "case": ${JSON.stringify(file)},\n  "engine": ${JSON.stringify(engine.name)},\n  "property": ${JSON.stringify(property)},\n` +
        `  "profileWarnings": ${JSON.stringify(profile.warnings)},\n  "steps": [`,
    );
    let first = true;
    outcome = runDifferential(instance, profile, testCase.logicalProcessors, testCase.operations, (s) => {
      out.write(`${first ? '' : ','}\n    ${JSON.stringify(stepJson(s), jsonBigInt)}`);
      first = false;
    });
  } else {
    const title = `Replay of ${file} on engine ${engine.name}, profile ${profile.name}, ${testCase.logicalProcessors} logical processors`;
    const writer = createTraceWriter(title, (line) => out.write(`${line}\n`));
    outcome = runDifferential(instance, profile, testCase.logicalProcessors, testCase.operations, (s) => writer.step(s));
    writer.finish(outcome);
  }
  let relationBroken: string | undefined;
  let relationFault: string | undefined;
  if (property !== 'differential' && outcome.kind === 'conformant') {
    try {
      relationBroken = recheckRelation(property, engine.factory, config, profile, testCase.operations, testCase.origin?.snapshotAt);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      relationFault = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  const code = relationFault !== undefined ? EXIT.fault : exitCode(outcome, relationBroken, engine);
  if (json) {
    const divergence =
      outcome.kind === 'divergent' ? { ...outcome.divergence, allowed: outcome.divergence.allowed.map((b) => ({ expected: b.expected, rule: b.rule })) } : undefined;
    const tail = { conformant: code === EXIT.conformant, exitCode: code, ended: outcome.kind === 'conformant' ? outcome.ended : undefined, divergence, relationBroken, fault: engine.lastFault() ?? relationFault };
    out.write(`\n  ],\n${JSON.stringify(tail, jsonBigInt, 2).slice(2)}\n`);
  } else if (relationBroken !== undefined) {
    out.write(`\nThe ${property} relation is broken: ${relationBroken}\n`);
  } else if (property !== 'differential' && outcome.kind === 'conformant') {
    out.write(`\nThe ${property} relation holds.\n`);
  }
  const fault = engine.lastFault()?.message ?? relationFault;
  if (!json && fault !== undefined) out.write(`EMULATOR FAULT: ${fault}\n`);
  out.flush();
  return code;
}

/**
 * `replay --emulator-cmd`: the case sent whole to an emulator process, then compared with the
 * model step by step (a process has no snapshot/restore, so a metamorphic case is replayed as
 * its differential part only).
 */
function replayProcess(file: string, testCase: ConformanceCase, profile: Profile, command: string, options: ReplayOptions): number {
  const proc = ProcessEngine.open(command, {
    handshakeTimeoutMs: options.handshakeTimeout ?? 10_000,
    stepTimeoutMs: options.stepTimeout ?? 10_000,
    logicalProcessors: testCase.logicalProcessors,
  });
  try {
    proc.warnIfProfileDiffers(profile.data, `the profile of ${file}`);
    const outcome = runCaseDifferential(proc, profile, testCase.logicalProcessors, testCase.operations);
    proc.close();
    if (proc.fault) return reportFault(proc.fault, { out: '', json: options.json, profileRef: testCase.profile, profileName: profile.name, save: false });
    if (options.json === true) {
      const divergence =
        outcome.kind === 'divergent' ? { ...outcome.divergence, allowed: outcome.divergence.allowed.map((b) => ({ expected: b.expected, rule: b.rule })) } : undefined;
      const report = { case: file, engine: proc.name, property: 'differential', profileWarnings: profile.warnings, steps: outcome.steps.map(stepJson), conformant: outcome.kind === 'conformant', divergence };
      process.stdout.write(`${JSON.stringify(report, jsonBigInt, 2)}\n`);
    } else {
      const lines: string[] = [];
      const writer = createTraceWriter(`Replay of ${file} on engine ${proc.name}, profile ${profile.name}, ${testCase.logicalProcessors} logical processors`, (line) => lines.push(line));
      for (const step of outcome.steps) writer.step(step);
      writer.finish(outcome);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (outcome.kind === 'divergent') return outcome.divergence.kind === 'mismatch' ? EXIT.divergence : EXIT.fault;
    return EXIT.conformant;
  } finally {
    proc.close();
  }
}

function exitCode(outcome: CaseOutcome, relationBroken: string | undefined, engine: LoadedEngine): number {
  if (engine.lastFault() !== undefined) return EXIT.fault;
  if (outcome.kind === 'divergent') return outcome.divergence.kind === 'mismatch' ? EXIT.divergence : EXIT.fault;
  if (relationBroken !== undefined) return EXIT.divergence;
  return outcome.ended === 'engine-unimplemented' ? EXIT.incomplete : EXIT.conformant;
}

function stepJson(s: StepRecord): Record<string, unknown> {
  return {
    operation: s.operation,
    observation: s.observation,
    verdict: s.verdict.kind,
    rule: s.matched?.rule.id ?? (s.verdict.kind === 'defined' ? undefined : s.verdict.rule.id),
  };
}

function jsonBigInt(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}
