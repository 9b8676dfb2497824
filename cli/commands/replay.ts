/**
 * `vmx-conformance replay <case.json>`: runs a saved case on an engine beside the model and
 * prints the trace. Exit 0 when every compared step is allowed, 1 at a divergence.
 */
import { existsSync, readFileSync } from 'node:fs';
import { CaseFileError, parseCase } from '../../properties/case.ts';
import { runCaseDifferential, runDifferential } from '../../properties/differential.ts';
import { renderTrace } from '../../properties/trace.ts';
import { loadEngine } from '../load-engine.ts';
import { profileWarningsText, resolveProfile } from '../load-profile.ts';
import { ProcessEngine } from '../process-engine.ts';
import { reportFault } from '../process-fault.ts';
import { EXIT, UsageError } from '../usage-error.ts';

/** Options of `replay`. */
export interface ReplayOptions {
  emulator?: string;
  /** An emulator program speaking the process protocol, with its arguments. */
  emulatorCmd?: string;
  /** Milliseconds an `emulatorCmd` process has to answer the hello. */
  handshakeTimeout?: number;
  /** Milliseconds a plug-in may take per call before it counts as hung. */
  stepTimeout?: number;
  /** Run the plug-in in this thread (no time limit; faster). */
  inProcess?: boolean;
  json?: boolean;
}

/** Replays one case file; returns the exit code. */
export async function replayCommand(file: string, options: ReplayOptions): Promise<number> {
  if (!existsSync(file)) throw new UsageError(`case file not found: ${file}`);
  let testCase;
  try {
    testCase = parseCase(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if (error instanceof CaseFileError) throw new UsageError(error.message);
    throw error;
  }
  const { profile } = resolveProfile(testCase.profile, `${file}: profile`);
  process.stderr.write(profileWarningsText(profile));
  if (options.emulator !== undefined && options.emulatorCmd !== undefined) throw new UsageError('give --emulator or --emulator-cmd, not both');
  const proc = options.emulatorCmd === undefined ? undefined : ProcessEngine.open(options.emulatorCmd, { handshakeTimeoutMs: options.handshakeTimeout ?? 10_000, stepTimeoutMs: options.stepTimeout ?? 10_000, logicalProcessors: testCase.logicalProcessors });
  proc?.warnIfProfileDiffers(profile.data, `the profile of ${file}`);
  const engine = proc ?? (await loadEngine(options.emulator, options.stepTimeout, options.inProcess));
  const outcome = proc
    ? runCaseDifferential(proc, profile, testCase.logicalProcessors, testCase.operations)
    : runDifferential(engine.factory({ profile: profile.data, logicalProcessors: testCase.logicalProcessors }), profile, testCase.logicalProcessors, testCase.operations);
  proc?.close();
  if (proc?.fault) return reportFault(proc.fault, { out: '', json: options.json, profileRef: testCase.profile, profileName: profile.name, save: false });
  if (options.json) {
    const steps = outcome.steps.map((s) => ({
      operation: s.operation,
      observation: s.observation,
      verdict: s.verdict.kind,
      rule: s.matched?.rule.id ?? (s.verdict.kind === 'defined' ? undefined : s.verdict.rule.id),
    }));
    const divergence = outcome.kind === 'divergent' ? { ...outcome.divergence, allowed: outcome.divergence.allowed.map((b) => ({ expected: b.expected, rule: b.rule })) } : undefined;
    process.stdout.write(`${JSON.stringify({ case: file, engine: engine.name, profileWarnings: profile.warnings, conformant: outcome.kind === 'conformant', steps, divergence }, jsonBigInt, 2)}\n`);
  } else {
    process.stdout.write(renderTrace(outcome, `Replay of ${file} on engine ${engine.name}, profile ${profile.name}, ${testCase.logicalProcessors} logical processors`));
  }
  return outcome.kind === 'conformant' ? EXIT.conformant : EXIT.divergence;
}

function jsonBigInt(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}
