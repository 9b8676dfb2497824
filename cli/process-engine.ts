/**
 * An emulator running as a separate program, driven through the process protocol
 * (spec/protocol/, docs/protocol.md): `--emulator-cmd '<program and args>'`. It is a
 * {@link CaseEngine}: each case goes to the process in one line and its observations come back
 * before the model judges them. Anything the process does wrong (crash, hang, garbage, truncated
 * or oversized output, another protocol version) becomes an {@link EmulatorFault}; after the
 * first fault the process is gone and every further case fails at once with the same fault.
 */
import type { CaseEngine } from '../properties/differential.ts';
import { parseHex } from '../spec/hex.ts';
import type { Engine, EngineFactory } from '../spec/engine.ts';
import type { Operation, OperationKind } from '../spec/operations.ts';
import type { Profile } from '../spec/profile.ts';
import type { ProfileData } from '../spec/profile-data.ts';
import { profileFromJson } from '../spec/profiles.ts';
import { MAX_LINE_BYTES, PROTOCOL_VERSION, type EmulatorHello } from '../spec/protocol/messages.ts';
import { emulatorHelloSchema, emulatorMessageSchema } from '../spec/protocol/schemas.ts';
import { describeIssues } from '../spec/schemas.ts';
import { splitCommand } from './command-line.ts';
import { resolveProfile, type ResolvedProfile } from './load-profile.ts';
import { EmulatorFault, type FaultedCase, type FaultKind } from './engine-fault.ts';
import { ProcessHost } from './process-host.ts';
import { UsageError } from './usage-error.ts';

/** How to start and drive the process. */
export interface ProcessOptions {
  /** Milliseconds the process has to answer the hello. */
  handshakeTimeoutMs: number;
  /** Milliseconds the process may take per line of a case's answer. */
  stepTimeoutMs: number;
  /** Logical processors the run's cases use (checked against what the emulator supports). */
  logicalProcessors?: number;
  /** Receives the process's standard-error lines; by default they go to standard error, prefixed. */
  onLog?: (line: string) => void;
}

const quote = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}... (first 200 of ${text.length} characters)` : text;
};

/** An emulator process after a successful handshake. */
export class ProcessEngine implements CaseEngine {
  /** Set once the process has faulted; the run then stops with exit code 3. */
  fault: EmulatorFault | undefined;
  /** What the emulator said about itself. */
  readonly hello: EmulatorHello;
  /** The profile built from the capability MSRs it announced. */
  readonly announced: Profile;
  private readonly supported: ReadonlySet<OperationKind>;
  private nextCase = 0;

  private constructor(
    private readonly host: ProcessHost,
    readonly command: string,
    hello: EmulatorHello,
    announced: Profile,
    private readonly options: ProcessOptions,
  ) {
    this.hello = hello;
    this.announced = announced;
    this.supported = new Set(hello.operations);
  }

  /** The emulator's name from its hello. */
  get name(): string {
    return this.hello.name;
  }

  /** Not used for process engines (they run whole cases); present so the engine fits where a loaded engine does. */
  readonly factory: EngineFactory = (): Engine => {
    throw new Error(`${this.name} is an emulator process: it runs whole cases (runCaseDifferential), not single steps`);
  };

  /**
   * Starts `command` and performs the handshake. Throws {@link UsageError} for a command that
   * cannot be started or a processor count the emulator does not support, {@link EmulatorFault}
   * for an emulator that fails the handshake.
   */
  static open(command: string, options: ProcessOptions): ProcessEngine {
    const argv = splitCommand(command);
    const label = argv.map((w) => w.split('/').pop()).join(' ');
    const onLog = options.onLog ?? ((line: string) => process.stderr.write(`[${label}] ${line}\n`));
    const host = new ProcessHost(argv, MAX_LINE_BYTES, onLog);
    const fail = (kind: FaultKind, detail: string): never => {
      host.stop(undefined, 0);
      throw new EmulatorFault(kind, label, detail, { command });
    };
    host.start();
    const reply = host.exchange(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, harness: 'vmx-conformance' }), ['hello', 'error'], options.handshakeTimeoutMs);
    if (reply.fault?.kind === 'spawn') {
      host.stop(undefined, 0);
      throw new UsageError(`the emulator command could not be started (${command}): ${reply.fault.detail}`);
    }
    if (reply.fault !== undefined) return fail(reply.fault.kind, reply.fault.detail);
    const [first, ...rest] = reply.messages;
    const last = reply.messages[reply.messages.length - 1] ?? {};
    if (last.type === 'error') return fail('error', String(last.message));
    if (first === undefined || first.type !== 'hello' || rest.length > 0) return fail('protocol', `its first line must be its hello, not ${quote(first)}`);
    if (typeof first.protocol === 'number' && first.protocol !== PROTOCOL_VERSION) {
      return fail('version', `its hello says protocol ${first.protocol}; this harness speaks protocol ${PROTOCOL_VERSION} (docs/protocol.md)`);
    }
    const parsed = emulatorHelloSchema.safeParse(first);
    if (!parsed.success) return fail('garbage', `its hello ${quote(first)} is malformed: ${describeIssues(parsed.error).join('; ')}`);
    const hello = parsed.data;
    let announced: Profile;
    try {
      const data: ProfileData = { name: hello.name, description: `announced by ${hello.name} ${hello.version ?? ''} in its hello`.replace('  ', ' '), ...hello.profile };
      announced = profileFromJson(data, `the profile ${hello.name} announced`);
    } catch (error) {
      return fail('profile', (error as Error).message);
    }
    if (options.logicalProcessors !== undefined && options.logicalProcessors > hello.logicalProcessors) {
      host.stop(JSON.stringify({ type: 'bye' }), 2_000);
      throw new UsageError(`emulator ${hello.name} supports at most ${hello.logicalProcessors} logical processor(s); use --cpus ${hello.logicalProcessors}`);
    }
    return new ProcessEngine(host, command, hello, announced, options);
  }

  /** Whether the emulator announced this operation kind. */
  supports(kind: OperationKind): boolean {
    return this.supported.has(kind);
  }

  /** Sends one case and returns its observations; throws the {@link EmulatorFault} if the process fails. */
  runCase(logicalProcessors: number, operations: readonly Operation[]): readonly unknown[] {
    if (this.fault !== undefined) throw this.fault;
    const during: FaultedCase = { id: this.nextCase++, logicalProcessors, operations: [...operations] };
    let send: string | undefined = JSON.stringify({ type: 'case', id: during.id, logicalProcessors, operations });
    const messages: Record<string, unknown>[] = [];
    for (;;) {
      const reply = this.host.exchange(send, ['end', 'error'], this.options.stepTimeoutMs);
      send = undefined;
      const checked = messages.length;
      messages.push(...reply.messages);
      const problem = reply.fault ?? this.check(messages, checked, during);
      if (problem !== undefined) {
        if (reply.fault === undefined) this.host.kill();
        this.fault = new EmulatorFault(problem.kind === 'spawn' ? 'crash' : problem.kind, this.name, problem.detail, { command: this.command, faultedCase: during });
        throw this.fault;
      }
      if (reply.finished === true) return messages.slice(0, -1).map((m) => m.observation);
    }
  }

  /**
   * Checks the answer to a case from message `from` on: observations 0, 1, ... of this case, then
   * its end. An answer that has not ended yet is fine so far.
   */
  private check(messages: readonly Record<string, unknown>[], from: number, during: FaultedCase): { kind: FaultKind; detail: string } | undefined {
    const n = during.operations.length;
    for (let i = from; i < messages.length; i++) {
      const message = messages[i];
      const parsed = emulatorMessageSchema.safeParse(message);
      if (!parsed.success) return { kind: 'garbage', detail: `${quote(message)} is not a protocol message: ${describeIssues(parsed.error).join('; ')}` };
      const m = parsed.data;
      if (m.type === 'error') return { kind: 'error', detail: m.message };
      if (m.case !== during.id) return { kind: 'protocol', detail: `it answered for case ${m.case} while case ${during.id} was running: ${quote(message)}` };
      if (m.type === 'end') {
        const last = messages[i - 1]?.observation as { kind?: unknown } | undefined;
        const early = i < n && last?.kind !== 'unimplemented';
        return early ? { kind: 'protocol', detail: `it ended the case after ${i} of ${n} observations without an "unimplemented" one` } : undefined;
      }
      if (m.index !== i || i >= n) return { kind: 'protocol', detail: `observation ${m.index} came where observation ${i} of ${n} was due: ${quote(message)}` };
    }
    return undefined;
  }

  /** Says bye and waits briefly for the process to exit. */
  close(): void {
    if (this.fault === undefined) this.host.stop(JSON.stringify({ type: 'bye' }), 2_000);
    else this.host.stop(undefined, 0);
  }

  /**
   * The profile a run uses: the one the emulator announced, or `--profile` when given (with a
   * warning on standard error listing where the two differ).
   */
  chooseProfile(requested: string | undefined): ResolvedProfile {
    if (requested === undefined) return { profile: this.announced, ref: this.announced.data };
    const resolved = resolveProfile(requested);
    this.warnIfProfileDiffers(resolved.profile.data, `--profile ${requested}`);
    return resolved;
  }

  /** Warns on standard error when `data` (named `what`, which is used) differs from what the emulator announced. */
  warnIfProfileDiffers(data: ProfileData, what: string): void {
    const differences = profileDifferences(data, this.announced.data);
    if (differences.length > 0) {
      process.stderr.write(`warning: ${what} differs from the profile ${this.name} announced (using ${what}):\n  ${differences.join('\n  ')}\n`);
    }
  }
}

/** Where two profiles' facts differ, one line each (names and descriptions do not count). */
export function profileDifferences(ours: ProfileData, theirs: ProfileData): string[] {
  const lines: string[] = [];
  const hex = (v: string | undefined): string => (v === undefined ? 'absent' : `0x${parseHex(v).toString(16)}`);
  if (ours.physicalAddressWidth !== theirs.physicalAddressWidth) lines.push(`physicalAddressWidth: ${ours.physicalAddressWidth} here, ${theirs.physicalAddressWidth} announced`);
  if (hex(ours.featureControl) !== hex(theirs.featureControl)) lines.push(`featureControl: ${hex(ours.featureControl)} here, ${hex(theirs.featureControl)} announced`);
  const names = new Set([...Object.keys(ours.msrs), ...Object.keys(theirs.msrs)]) as Set<keyof ProfileData['msrs']>;
  for (const msr of names) {
    const a = hex(ours.msrs[msr]);
    const b = hex(theirs.msrs[msr]);
    if (a !== b) lines.push(`${msr}: ${a} here, ${b} announced`);
  }
  return lines;
}
