/**
 * One Bochs boot: writes the floppy image (agent + bytecode) and the bochsrc into a work
 * directory, runs Bochs headless with a time limit, and splits what the agent printed on port
 * E9 into the capability report and one line per case. Facts about running Bochs 2.7 headless:
 * ../shared/sdm/bochs-2.7.md (display `term`, `-rc` with `c`, stdin /dev/null, port E9, shutdown
 * through port 8900h).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_MEGS } from './bytecode.ts';
import type { FaultKind } from '../engine-fault.ts';

/** Size of a 1.44 MB floppy image. */
export const FLOPPY_BYTES = 1_474_560;
/** Where the bytecode starts in the image (IMAGE_BYTECODE in bochs/agent/memory-map.inc). */
export const IMAGE_BYTECODE = 0x8000;
/**
 * Where the bytecode is in guest memory (BYTECODE_BASE in bochs/agent/memory-map.inc): Bochs
 * loads it there before the BIOS runs (`optramimage1`), so the boot sector reads only the agent's
 * head-tracks from the floppy. Emulated floppy reads cost about 20 ms of CPU per 9 KB track (the
 * BIOS waits for the controller in emulated time); a 1 MB batch read from the floppy cost 2-3 s.
 */
export const BYTECODE_BASE = 0x10_0000 + IMAGE_BYTECODE;
/** Most bytecode one boot holds (what a floppy image held after the agent: the batches stay as they were). */
export const MAX_BYTECODE = FLOPPY_BYTES - IMAGE_BYTECODE;
const TRACK_BYTES = 18 * 512;
const TRACKS_OFFSET = 0x1f8;

/** How to run Bochs. */
export interface BootOptions {
  /** `cpu: model=` of the bochsrc, e.g. `corei7_skylake_x`. */
  model: string;
  /** The Bochs program (default `bochs`, found on PATH). */
  binary: string;
  /** Milliseconds one boot may take before it counts as hung. */
  timeoutMs: number;
  /** Directory for the image, the bochsrc and Bochs's log. */
  workDir: string;
  /**
   * A triple fault resets the processor and the agent goes on with the next case (a run), instead
   * of stopping Bochs with "3rd (n) exception with no resolution" in its log (a replay, which
   * shows that message).
   */
  resetOnTripleFault?: boolean;
}

/** What one boot produced. */
export interface BootOutput {
  /** How the process ended. */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the agent went silent for this many milliseconds and Bochs was stopped (a hang found early). */
  stalledMs?: number;
  /** The spawn error (e.g. ENOENT), when Bochs could not be started. */
  spawnError?: string;
  /** Everything the agent printed after its start marker, or undefined when it never started. */
  agentOutput?: string;
  /** Whether the agent printed its end marker. */
  ended: boolean;
  /** A `<<VMXB-FATAL ...>>` message from the agent. */
  fatal?: string;
  /** The first 300 characters Bochs printed, for messages. */
  head: string;
  /** The last lines of Bochs's log file, for messages. */
  logTail: string;
}

/** The floppy image: the assembled agent (boot sector first), the track count patched to load just it. */
export function floppyImage(agent: Buffer): Buffer {
  if (agent.length > IMAGE_BYTECODE) throw new Error(`the agent (${agent.length} bytes) overlaps the bytecode at ${IMAGE_BYTECODE}`);
  const image = Buffer.alloc(FLOPPY_BYTES);
  agent.copy(image, 0);
  image.writeUInt16LE(Math.ceil(agent.length / TRACK_BYTES), TRACKS_OFFSET);
  return image;
}

/** Checks that `bytecode` fits the agent's bytecode area. */
export function checkBytecode(bytecode: Buffer): void {
  if (bytecode.length > MAX_BYTECODE) throw new Error(`the bytecode (${bytecode.length} bytes) does not fit into one boot (${MAX_BYTECODE})`);
}

/** The bochsrc for `model` booting `imagePath`. */
export function bochsrc(model: string, imagePath: string, logPath: string, bytecodePath: string, resetOnTripleFault = false): string {
  return [
    `megs: ${GUEST_MEGS}`,
    `cpu: model=${model}, reset_on_triple_fault=${resetOnTripleFault ? 1 : 0}, ignore_bad_msrs=0`,
    // fastboot: no boot-menu delay (the BIOS would wait for F12 in emulated time).
    'romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot',
    'vgaromimage: file=/usr/share/vgabios/vgabios.bin',
    `floppya: 1_44=${imagePath}, status=inserted`,
    `optramimage1: file=${bytecodePath}, address=0x${BYTECODE_BASE.toString(16)}`,
    'boot: floppy',
    'display_library: term',
    'port_e9_hack: enabled=1',
    'sound: driver=dummy',
    'error: action=ignore',
    // A BX_PANIC (e.g. VMCALL in VMX root operation with a clear current VMCS, not implemented in
    // Bochs 2.7) would stop at the debugger prompt and lose the batch: report it and go on, so the
    // outcome is observed (bochs/known-divergences.json).
    'panic: action=report',
    'info: action=ignore',
    'clock: sync=none',
    `log: ${logPath}`,
    '',
  ].join('\n');
}

const START = '<<VMXB-AGENT 1>>\n';
const END = '<<VMXB-END>>';
/**
 * What Bochs's debugger prints when it stops at a processor reset: where it was (a line or more), "Next at t=...",
 * the reset vector's instruction (and a prompt, when the command came from the terminal).
 */
const DEBUGGER_STOP = /(?:\(0\)\.\[\d+\][^\n]*\n)+Next at t=\d+\n\(0\) \[0x0*fffffff0\][^\n]*\n(?:<bochs:\d+> )*/g;

/** Writes the image, the bochsrc and the debugger script; returns Bochs's arguments and the log path. */
function prepare(agent: Buffer, bytecode: Buffer, options: BootOptions): { args: string[]; logPath: string } {
  const imagePath = join(options.workDir, 'agent.img');
  const bytecodePath = join(options.workDir, 'bytecode.bin');
  const rcPath = join(options.workDir, 'bochsrc');
  const commandsPath = join(options.workDir, 'debugger-commands');
  const logPath = join(options.workDir, 'bochs.log');
  checkBytecode(bytecode);
  writeFileSync(imagePath, floppyImage(agent));
  writeFileSync(bytecodePath, bytecode);
  writeFileSync(rcPath, bochsrc(options.model, imagePath, logPath, bytecodePath, options.resetOnTripleFault));
  // Bochs's debugger stops at every processor reset and reads its next command: one `c` for the
  // start and one for each reset (at most one per case; a case is at least 10 bytes of bytecode).
  writeFileSync(commandsPath, 'c\n'.repeat(options.resetOnTripleFault === true ? 1 + Math.ceil(bytecode.length / 10) : 1));
  writeFileSync(logPath, '');
  return { args: ['-q', '-f', rcPath, '-rc', commandsPath], logPath };
}

/** How a Bochs process ended, before its output is read. */
interface Ended {
  stdout: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stalled?: number;
  spawnError?: string;
}

/** Splits what Bochs printed into the agent's part and the rest; reads the log's last panics. */
function readOutput(ended: Ended, logPath: string): BootOutput {
  const { stdout } = ended;
  let logTail = '';
  try {
    logTail = readFileSync(logPath, 'latin1').split('\n').filter((l) => /PANIC|FATAL/.test(l)).slice(-5).join('\n');
  } catch {
    logTail = '';
  }
  const startAt = stdout.indexOf(START);
  // The debugger's lines at a processor reset (where it stopped, its prompt) are not the agent's:
  // the agent goes on after the prompt.
  let agentOutput = startAt < 0 ? undefined : stdout.slice(startAt + START.length).replace(DEBUGGER_STOP, '');
  // Bochs's own lines (its exit banner, the debugger's) end what the agent printed.
  const bochsAgain = agentOutput === undefined ? -1 : agentOutput.search(/={20}|\(0\)\.\[/);
  if (agentOutput !== undefined && bochsAgain >= 0) agentOutput = agentOutput.slice(0, bochsAgain);
  const endAt = agentOutput?.indexOf(END) ?? -1;
  const fatal = /<<VMXB-FATAL ([^>]*)>>/.exec(agentOutput ?? stdout)?.[1];
  return {
    status: ended.status,
    signal: ended.signal,
    timedOut: ended.timedOut,
    ...(ended.stalled === undefined ? {} : { stalledMs: ended.stalled }),
    ...(ended.spawnError === undefined ? {} : { spawnError: ended.spawnError }),
    agentOutput: agentOutput === undefined ? undefined : endAt < 0 ? agentOutput : agentOutput.slice(0, endAt),
    ended: endAt >= 0,
    ...(fatal === undefined ? {} : { fatal }),
    head: stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').slice(0, 300),
    logTail,
  };
}

/** Boots Bochs once on `bytecode`; never throws for what Bochs does (the caller judges the output). */
export function boot(agent: Buffer, bytecode: Buffer, options: BootOptions): BootOutput {
  const { args, logPath } = prepare(agent, bytecode, options);
  const result = spawnSync(options.binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 29,
    encoding: 'latin1',
  });
  const error = result.error as NodeJS.ErrnoException | undefined;
  const timedOut = error?.code === 'ETIMEDOUT';
  return readOutput(
    { stdout: result.stdout ?? '', status: result.status, signal: result.signal, timedOut, ...(error !== undefined && !timedOut ? { spawnError: error.message } : {}) },
    logPath,
  );
}

/**
 * {@link boot} without blocking the thread, and with a second, shorter limit: once the agent has
 * started, a Bochs that prints nothing for `stallMs` is stopped as hung (the agent prints a line
 * per case as it goes, each byte at once, so a silent agent is a lost one). A hang then costs
 * `stallMs`, not the whole boot's time limit. The child's pid goes to `onChild` while it runs.
 */
export function bootAsync(agent: Buffer, bytecode: Buffer, options: BootOptions & { stallMs?: number; onChild?: (pid: number, running: boolean) => void }): Promise<BootOutput> {
  const { args, logPath } = prepare(agent, bytecode, options);
  return new Promise((resolve) => {
    const chunks: string[] = [];
    let size = 0;
    let started = false;
    let timedOut = false;
    let stalled: number | undefined;
    let spawnError: string | undefined;
    const spawnedAt = Date.now();
    const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    let agentAt = 0;
    if (pid !== undefined) options.onChild?.(pid, true);
    const kill = (): void => void child.kill('SIGKILL');
    const whole = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    let quiet: NodeJS.Timeout | undefined;
    const arm = (): void => {
      if (options.stallMs === undefined) return;
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        timedOut = true;
        stalled = options.stallMs;
        kill();
      }, options.stallMs);
    };
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      if (size < 1 << 29) chunks.push(chunk);
      size += chunk.length;
      if (!started && chunks.join('').includes(START)) {
        started = true;
        agentAt = Date.now();
      }
      if (started) arm();
    });
    child.stderr.resume();
    let done = false;
    child.on('error', (error) => {
      spawnError = error.message;
      if (pid === undefined) finish(null, null);
    });
    const finish = (status: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(whole);
      clearTimeout(quiet);
      if (pid !== undefined) options.onChild?.(pid, false);
      if (process.env.VMX_CONFORMANCE_BOCHS_TIMING) {
        const agent = agentAt === 0 ? 'the agent never started' : `${agentAt - spawnedAt} ms to the agent's start, ${Date.now() - agentAt} ms running it`;
        process.stderr.write(`timing: Bochs boot: ${agent}; ${size} bytes printed\n`);
      }
      resolve(readOutput({ stdout: chunks.join(''), status, signal, timedOut, ...(stalled === undefined ? {} : { stalled }), ...(spawnError === undefined ? {} : { spawnError }) }, logPath));
    };
    child.on('close', finish);
  });
}

/** What went wrong in a boot, if anything: the fault's kind and a sentence. */
export function bootProblem(output: BootOutput, binary: string): { kind: FaultKind; detail: string } | undefined {
  const tail = [output.head ? `its output began: ${JSON.stringify(output.head.slice(0, 200))}` : 'it printed nothing', output.logTail ? `its log ends:\n${output.logTail}` : ''].filter(Boolean).join('; ');
  if (output.spawnError !== undefined) {
    return { kind: 'crash', detail: `${binary} could not be started (${output.spawnError}); install Bochs: apt-get install -y --no-install-recommends bochs bochs-term bochsbios vgabios nasm` };
  }
  if (output.stalledMs !== undefined) return { kind: 'hang', detail: `the guest agent printed nothing for ${output.stalledMs} ms (it lost control, or Bochs stopped), so Bochs was stopped; ${tail}` };
  if (output.timedOut) return { kind: 'hang', detail: `Bochs did not finish within the time limit; ${tail}` };
  if (output.fatal !== undefined) return { kind: 'error', detail: `the guest agent stopped: ${output.fatal}` };
  if (output.agentOutput === undefined) {
    const how = output.signal !== null ? `was killed by ${output.signal}` : `exited with status ${output.status}`;
    return { kind: output.signal !== null || output.head === '' ? 'crash' : 'garbage', detail: `Bochs ${how} before the guest agent started (no agent marker in its output); ${tail}` };
  }
  if (!output.ended) {
    const how = output.signal !== null ? `was killed by ${output.signal}` : `exited with status ${output.status}`;
    return { kind: 'crash', detail: `Bochs ${how} before the guest agent finished the batch (a Bochs panic, or the agent lost control: a VM entry or a triple fault); ${tail}` };
  }
  return undefined;
}
