/**
 * Emulator faults: the plug-in failed to give an answer at all (it crashed, hung, sent garbage,
 * spoke the wrong protocol or sent too much), as opposed to giving an answer the SDM does not
 * allow (a divergence). Each says which emulator, what it was doing and what went wrong; the run
 * ends with its own exit code (3) so a fault is never read as a divergence or a pass.
 */

/** What kind of fault; a crash is never reported as a hang or the other way round. */
export type FaultKind = 'crash' | 'hang' | 'garbage' | 'protocol' | 'oversized';

const WHAT: Record<FaultKind, string> = {
  crash: 'crashed',
  hang: 'hung',
  garbage: 'sent garbage',
  protocol: 'broke the plug-in protocol',
  oversized: 'sent an oversized answer',
};

/** Thrown by an isolated engine's calls; the message is complete enough to print as is. */
export class EmulatorFault extends Error {
  override readonly name = 'EmulatorFault';

  constructor(
    readonly kind: FaultKind,
    /** The emulator's name (its module's file name). */
    readonly emulator: string,
    /** What it was asked to do: `loading the module`, `step vmxon`, ... */
    readonly during: string,
    /** What happened, in the words of whoever noticed. */
    readonly detail: string,
  ) {
    super(`emulator ${emulator} ${WHAT[kind]} during ${during}: ${detail}`);
  }
}

/** A fault found by an engine during a run, for the report and the exit code. */
export interface FaultRecord {
  kind: FaultKind;
  message: string;
}
