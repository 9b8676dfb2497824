/**
 * Emulator faults: the engine failed to give an answer at all (it crashed, hung, sent garbage,
 * spoke another protocol version or broke the protocol, sent too much), as opposed to giving an
 * answer the SDM does not allow (a divergence). One class for both kinds of plug-in: a module
 * (isolated in a worker, cli/isolated-engine.ts) and an emulator process (cli/process-engine.ts,
 * Bochs). Each fault names the emulator, where it was (the call a module was making; the command
 * line and case of a process) and what went wrong; the run ends with its own exit code (3), so a
 * fault is never read as a divergence or a pass.
 */
import type { Operation } from '../spec/operations.ts';

/** What kind of fault; a crash is never reported as a hang or the other way round. */
export type FaultKind = 'crash' | 'hang' | 'garbage' | 'truncated' | 'oversized' | 'version' | 'protocol' | 'error' | 'profile' | 'harness';

/** The case an emulator process was running when it faulted. */
export interface FaultedCase {
  id: number;
  logicalProcessors: number;
  operations: Operation[];
}

/**
 * Where a fault happened: the call a plug-in module was making (`loading the module`,
 * `step vmxon (cpu0)`), or the command line of an emulator process and the case it was running
 * (none: the handshake).
 */
export type FaultPlace = { call: string } | { command: string; faultedCase?: FaultedCase };

/** The words for each kind: a module returns answers, a process prints lines (docs/protocol.md). */
const HEADLINES: Record<'module' | 'process', Record<FaultKind, string>> = {
  module: {
    crash: 'crashed',
    hang: 'hung',
    garbage: 'sent garbage',
    truncated: 'sent a truncated answer',
    oversized: 'sent an oversized answer',
    version: 'speaks another protocol version',
    protocol: 'broke the plug-in protocol',
    error: 'reported an internal error',
    profile: 'announced an inconsistent profile',
    harness: 'could not be driven (harness problem)',
  },
  process: {
    crash: 'crashed',
    hang: 'hung (no answer in time)',
    garbage: 'printed garbage',
    truncated: 'stopped in the middle of its answer (truncated output)',
    oversized: 'printed an oversized line',
    version: 'speaks another protocol version',
    protocol: 'broke the protocol',
    error: 'reported an internal error',
    profile: 'announced an inconsistent profile',
    harness: 'could not be driven (harness problem)',
  },
};

/** Thrown by an engine that failed to answer; the message is complete enough to print as is. */
export class EmulatorFault extends Error {
  override readonly name = 'EmulatorFault';
  /** The call a plug-in module was making. */
  readonly call: string | undefined;
  /** The command line of an emulator process. */
  readonly command: string | undefined;
  /** The case an emulator process was running (undefined: the handshake, or a module). */
  readonly faultedCase: FaultedCase | undefined;

  constructor(
    readonly kind: FaultKind,
    /** The emulator's name (a module's file name, the name a process announced). */
    readonly emulator: string,
    /** What happened, in the words of whoever noticed. */
    readonly detail: string,
    place: FaultPlace,
  ) {
    super(faultMessage(kind, emulator, detail, place));
    this.call = 'call' in place ? place.call : undefined;
    this.command = 'command' in place ? place.command : undefined;
    this.faultedCase = 'command' in place ? place.faultedCase : undefined;
  }
}

function faultMessage(kind: FaultKind, emulator: string, detail: string, place: FaultPlace): string {
  if ('call' in place) return `emulator ${emulator} ${HEADLINES.module[kind]} during ${place.call}: ${detail}`;
  const c = place.faultedCase;
  const where = c === undefined ? 'during the handshake' : `in case ${c.id} (${c.operations.length} operations)`;
  return `emulator ${emulator} (${place.command}) ${HEADLINES.process[kind]} ${where}: ${detail}`;
}

/** A fault found by an engine during a run, for the report and the exit code. */
export interface FaultRecord {
  kind: FaultKind;
  message: string;
}
