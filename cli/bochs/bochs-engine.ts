/**
 * Debian's Bochs 2.7 as a {@link CaseEngine}: cases are compiled into the guest agent's bytecode,
 * many per boot, and their observations read back from what the agent printed. Opening the
 * engine boots Bochs once with no cases to read the capability MSRs (the profile). A Bochs that
 * is missing, crashes, hangs past the time limit or prints garbage is an {@link EmulatorFault}
 * naming the case it was running; the cases of a batch that completed before it keep their
 * answers, and the ones after it run in a new boot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseEngine } from '../../properties/differential.ts';
import type { Operation, OperationKind } from '../../spec/operations.ts';
import type { Profile } from '../../spec/profile.ts';
import type { ProfileData } from '../../spec/profile-data.ts';
import { profileFromJson } from '../../spec/profiles.ts';
import { parseHex } from '../../spec/hex.ts';
import { EmulatorFault, type FaultKind } from '../engine-fault.ts';
import { buildAgent } from './agent-build.ts';
import { boot, bootAsync, bootProblem, MAX_BYTECODE, type BootOptions, type BootOutput } from './boot.ts';
import { BatchCompiler, BOCHS_OPERATIONS, BYTECODE_VERSION, type CompiledPiece } from './bytecode.ts';
import { caseLines, parseCapabilities, parseRecords } from './results.ts';

/** How to open the engine. */
export interface BochsEngineOptions {
  /** Bochs CPU model (`cpu: model=`). */
  model: string;
  /** Milliseconds one boot may take (default 120,000). */
  timeoutMs?: number;
  /** Bochs program (default: `$VMX_CONFORMANCE_BOCHS`, else `bochs` on PATH). */
  binary?: string;
  /** Most cases per boot (default 4,000; fewer when the bytecode fills the floppy). */
  casesPerBoot?: number;
  /** Execute what is known to stop Bochs (replaying a recorded divergence) instead of answering `unimplemented`. */
  executeKnownCrashes?: boolean;
  /**
   * Milliseconds the agent may stay silent, once started, in a boot run by {@link BochsEngine.prefetchAsync}
   * before Bochs is stopped as hung (default 10,000): a lost agent costs this, not `timeoutMs`.
   */
  stallMs?: number;
  /** Told each Bochs child process's pid when it starts (`running` true) and ends, so an interrupted run can stop it. */
  onChild?: (pid: number, running: boolean) => void;
  /** The profile an earlier open read from the same model: skips the probe boot (a `--jobs` worker). */
  knownProfile?: ProfileData;
}

/** A case for a batch. */
export interface BatchCase {
  logicalProcessors: number;
  operations: readonly Operation[];
}

/** The options with their defaults filled in. */
type Settings = Required<Omit<BochsEngineOptions, 'knownProfile'>>;

type Answer = readonly unknown[] | EmulatorFault;

const key = (logicalProcessors: number, operations: readonly Operation[]): string => `${logicalProcessors}:${JSON.stringify(operations)}`;

/** Bochs, booted on demand with batches of cases. */
export class BochsEngine implements CaseEngine {
  /** The fault of the last case that faulted (each such case throws it; later cases still run). */
  fault: EmulatorFault | undefined;
  readonly name: string;
  /** The profile Bochs reported (capability MSRs read by the agent). */
  readonly profile: Profile;
  /** Boots so far and cases they ran, for the report. */
  readonly stats = { boots: 0, cases: 0, bootMs: 0 };
  private readonly answers = new Map<string, Answer>();
  /** Cases compiled for a boot that did not answer them (it stopped before): not compiled again. */
  private readonly pieces = new Map<string, CompiledPiece>();
  private readonly workDir: string;
  private readonly agent: Buffer;
  private readonly supported: ReadonlySet<OperationKind> = new Set(BOCHS_OPERATIONS);
  private caseCounter = 0;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: Settings,
    agent: Buffer,
    workDir: string,
    profile: Profile,
  ) {
    this.agent = agent;
    this.workDir = workDir;
    this.profile = profile;
    this.name = `bochs-${options.model}`;
  }

  /** Builds the agent, boots Bochs once to read its capability MSRs, and returns the engine. */
  static open(options: BochsEngineOptions): BochsEngine {
    const full: Settings = {
      model: options.model,
      timeoutMs: options.timeoutMs ?? 120_000,
      binary: options.binary ?? process.env.VMX_CONFORMANCE_BOCHS ?? 'bochs',
      casesPerBoot: options.casesPerBoot ?? 4_000,
      executeKnownCrashes: options.executeKnownCrashes ?? false,
      stallMs: options.stallMs ?? 10_000,
      onChild: options.onChild ?? (() => undefined),
    };
    const agent = buildAgent();
    const workDir = mkdtempSync(join(tmpdir(), 'vmx-conformance-bochs-'));
    const name = `bochs-${full.model}`;
    if (options.knownProfile !== undefined) return new BochsEngine(full, agent, workDir, profileFromJson(options.knownProfile, `the profile Bochs (${full.model}) reported`));
    const output = boot(agent, emptyBatch(), { model: full.model, binary: full.binary, timeoutMs: full.timeoutMs, workDir });
    const problem = bootProblem(output, full.binary);
    const command = commandText(full);
    if (problem !== undefined) {
      rmSync(workDir, { recursive: true, force: true });
      throw new EmulatorFault(problem.kind, name, `reading the capability MSRs: ${problem.detail}`, { command });
    }
    let data: ProfileData;
    let profile: Profile;
    try {
      data = parseCapabilities(output.agentOutput ?? '', name, `Bochs 2.7, cpu model ${full.model}: capability MSRs read by the guest agent`);
      profile = profileFromJson(data, `the profile Bochs (${full.model}) reported`);
    } catch (error) {
      rmSync(workDir, { recursive: true, force: true });
      throw new EmulatorFault('profile', name, (error as Error).message, { command });
    }
    return new BochsEngine(full, agent, workDir, profile);
  }

  /** Whether the agent executes this operation kind. */
  supports(kind: OperationKind): boolean {
    return this.supported.has(kind);
  }

  /** Runs the cases not answered yet, as few boots as the floppy allows, and keeps their answers. */
  prefetch(cases: readonly BatchCase[]): void {
    let pending = this.todo(cases);
    while (pending.length > 0) pending = this.bootOnce(pending);
  }

  /** Runs one case (from the answers of an earlier batch when there are any). */
  runCase(logicalProcessors: number, operations: readonly Operation[]): readonly unknown[] {
    const k = key(logicalProcessors, operations);
    if (!this.answers.has(k)) this.prefetch([{ logicalProcessors, operations }]);
    const answer = this.answers.get(k);
    if (answer instanceof EmulatorFault) {
      this.fault = answer;
      throw answer;
    }
    return answer ?? [];
  }

  /** Forgets kept answers, of `cases` (except those also in `keep`) or of every case (between batches of a run, to bound memory). */
  forget(cases?: readonly BatchCase[], keep: readonly BatchCase[] = []): void {
    if (cases === undefined) {
      this.pieces.clear();
      return this.answers.clear();
    }
    const kept = new Set(keep.map((c) => key(c.logicalProcessors, this.cut(c.operations))));
    for (const c of cases) {
      const k = key(c.logicalProcessors, this.cut(c.operations));
      if (!kept.has(k)) {
        this.answers.delete(k);
        this.pieces.delete(k);
      }
    }
  }

  /** Removes the work directory. */
  close(): void {
    if (process.env.VMX_CONFORMANCE_BOCHS_KEEP) {
      process.stderr.write(`kept the Bochs work directory ${this.workDir}\n`);
      return;
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** {@link prefetch} without blocking the thread (boots run as child processes). */
  async prefetchAsync(cases: readonly BatchCase[], options: { stopAtFault?: boolean } = {}): Promise<void> {
    // One boot at a time: boots share the work directory (the image, the bochsrc, the log).
    const previous = this.queue;
    let release = (): void => undefined;
    this.queue = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      await this.prefetchNow(cases, options);
    } finally {
      release();
    }
  }

  private async prefetchNow(cases: readonly BatchCase[], options: { stopAtFault?: boolean }): Promise<void> {
    let pending = this.todo(cases);
    while (pending.length > 0) {
      const compileStart = Date.now();
      const { compiler, taken } = this.compile(pending);
      if (process.env.VMX_CONFORMANCE_BOCHS_TIMING) process.stderr.write(`timing: compiled ${taken.length} cases in ${Date.now() - compileStart} ms\n`);
      const started = Date.now();
      const output = await bootAsync(this.agent, compiler.finish(), { ...this.bootOptions(), stallMs: this.options.stallMs, onChild: this.options.onChild });
      const rest = this.absorb(output, compiler, taken, pending, started);
      if (options.stopAtFault === true && taken.some((c) => this.answers.get(key(c.logicalProcessors, c.operations)) instanceof EmulatorFault)) return;
      pending = rest;
    }
  }

  /** Whether the case (cut before its first unsupported operation) has an answer already. */
  answered(logicalProcessors: number, operations: readonly Operation[]): boolean {
    const sent = this.cut(operations);
    return sent.length === 0 || this.answers.has(key(logicalProcessors, sent));
  }

  /** The kind of fault the case's answer is, if it is one. */
  faultKind(logicalProcessors: number, operations: readonly Operation[]): string | undefined {
    const answer = this.answers.get(key(logicalProcessors, this.cut(operations)));
    return answer instanceof EmulatorFault ? answer.kind : undefined;
  }

  /** The operations the engine is sent: up to the first it does not support (as runCaseDifferential cuts them). */
  private cut(operations: readonly Operation[]): readonly Operation[] {
    const at = operations.findIndex((op) => !this.supports(op.kind));
    return at < 0 ? operations : operations.slice(0, at);
  }

  /** The cases of `cases` (each cut before its first unsupported operation) not answered yet. */
  private todo(cases: readonly BatchCase[]): BatchCase[] {
    const todo = new Map<string, BatchCase>();
    for (const c of cases) {
      const operations = this.cut(c.operations);
      const k = key(c.logicalProcessors, operations);
      if (!this.answers.has(k) && operations.length > 0) todo.set(k, { logicalProcessors: c.logicalProcessors, operations });
    }
    return [...todo.values()];
  }

  private bootOptions(): BootOptions {
    return { model: this.options.model, binary: this.options.binary, timeoutMs: this.options.timeoutMs, workDir: this.workDir, resetOnTripleFault: !this.options.executeKnownCrashes };
  }

  /** One boot over as many of `cases` as fit; returns the ones still to run. */
  private bootOnce(cases: readonly BatchCase[]): BatchCase[] {
    const { compiler, taken } = this.compile(cases);
    const started = Date.now();
    const output = boot(this.agent, compiler.finish(), this.bootOptions());
    return this.absorb(output, compiler, taken, cases, started);
  }

  /** Compiles as many of `cases` as one floppy holds. */
  private compile(cases: readonly BatchCase[]): { compiler: BatchCompiler; taken: BatchCase[] } {
    const compiler = new BatchCompiler(this.profile, (parseHex(this.profile.data.featureControl) & 1n) === 1n, { executeKnownCrashes: this.options.executeKnownCrashes });
    const taken: BatchCase[] = [];
    for (const c of cases) {
      if (taken.length >= this.options.casesPerBoot) break;
      const before = compiler.size;
      const k = key(c.logicalProcessors, c.operations);
      const piece = this.pieces.get(k);
      if (piece === undefined) {
        const index = compiler.add(c.logicalProcessors, c.operations);
        this.pieces.set(k, compiler.piece(index));
      } else {
        compiler.append(piece);
      }
      if (compiler.size + 1 > MAX_BYTECODE) {
        compiler.undo(before);
        break;
      }
      taken.push(c);
    }
    if (taken.length === 0) throw new Error('a single case does not fit into a boot image');
    return { compiler, taken };
  }

  /** Keeps the answers of one boot over `taken` (the first cases of `cases`); returns the cases still to run. */
  private absorb(output: BootOutput, compiler: BatchCompiler, taken: readonly BatchCase[], cases: readonly BatchCase[], started: number): BatchCase[] {
    this.stats.boots += 1;
    this.stats.bootMs += Date.now() - started;
    const lines = output.agentOutput === undefined ? { done: new Map<number, string>(), lost: new Set<number>() } : caseLines(output.agentOutput);
    const problem = bootProblem(output, this.options.binary);
    let firstMissing = taken.length;
    for (const [index, c] of taken.entries()) {
      if (lines.lost.has(index)) {
        const k = key(c.logicalProcessors, c.operations);
        this.pieces.delete(k);
        this.answers.set(k, this.faultFor('crash', c, LOST_DETAIL));
        continue;
      }
      const body = lines.done.get(index);
      if (body === undefined) {
        firstMissing = Math.min(firstMissing, index);
        continue;
      }
      const k = key(c.logicalProcessors, c.operations);
      this.pieces.delete(k);
      try {
        this.answers.set(k, parseRecords(body, compiler.cases[index]!));
        this.stats.cases += 1;
      } catch (error) {
        this.answers.set(k, this.faultFor('garbage', c, `its results ${(error as Error).message}`));
      }
    }
    // A case the agent found damaged after a reset ended the batch: it and the rest run again.
    if (lines.damaged !== undefined && lines.damaged <= firstMissing && output.ended) return [...taken.slice(lines.damaged), ...cases.slice(taken.length)];
    if (firstMissing === taken.length) return cases.slice(taken.length);
    // The boot stopped at case `firstMissing` (or never ran it): that case gets the fault.
    const culprit = taken[firstMissing]!;
    const what = problem ?? { kind: 'truncated' as FaultKind, detail: `the agent printed no result for case ${firstMissing} of the batch` };
    this.pieces.delete(key(culprit.logicalProcessors, culprit.operations));
    this.answers.set(key(culprit.logicalProcessors, culprit.operations), this.faultFor(what.kind, culprit, what.detail));
    return [...taken.slice(firstMissing + 1), ...cases.slice(taken.length)];
  }

  private faultFor(kind: FaultKind, c: BatchCase, detail: string): EmulatorFault {
    return new EmulatorFault(kind, this.name, detail, {
      command: commandText(this.options),
      faultedCase: { id: this.caseCounter++, logicalProcessors: c.logicalProcessors, operations: [...c.operations] },
    });
  }
}

/**
 * A case in which Bochs reset the processor: the same loss of the agent that stops a Bochs run
 * without the reset with "3rd (n) exception with no resolution" (bochs/known-divergences.json).
 */
const LOST_DETAIL =
  'Bochs reset the processor in this case after a triple fault (3rd exception with no resolution: the guest agent lost control, a VM entry or a triple fault); the agent booted again and went on with the next case of the batch';

function commandText(options: Settings): string {
  return `${options.binary} (cpu model ${options.model})`;
}

/** The bytecode of an empty batch: the header and the end record (bochs/agent/interp.asm). */
function emptyBatch(): Buffer {
  const bytes = Buffer.alloc(13);
  bytes.write('VMXB', 0, 'latin1');
  bytes.writeUInt32LE(BYTECODE_VERSION, 4);
  return bytes;
}
