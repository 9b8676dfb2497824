/**
 * The process protocol, version 1: how the harness talks to an emulator that runs as a separate
 * program (C, C++, Rust, Python ...). Newline-delimited JSON over the program's standard input
 * (harness to emulator) and standard output (emulator to harness); standard error is the
 * emulator's log. docs/protocol.md describes the exchange for people; docs/protocol.schema.json
 * is generated from the schemas in ./schemas.ts, which mirror these types.
 *
 * Operations and observations are exactly those of the engine contract (spec/operations.ts,
 * spec/observations.ts); 64-bit values are hexadecimal strings.
 */
import type { Observation } from '../observations.ts';
import type { Operation, OperationKind } from '../operations.ts';
import type { ProfileData } from '../profile-data.ts';

/** The protocol version this harness speaks. */
export const PROTOCOL_VERSION = 1;

/** Longest line either side may send, in bytes, newline excluded (1 MiB). */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Harness to emulator, first line: which protocol the harness speaks. */
export interface HarnessHello {
  type: 'hello';
  protocol: typeof PROTOCOL_VERSION;
  /** The harness and its version, for the emulator's log (for example `"vmx-conformance 0.1.0"`). */
  harness?: string;
}

/**
 * The profile an emulator announces: the {@link ProfileData} shape, with `name` and
 * `description` optional (the harness names it after the emulator when they are absent).
 */
export type AnnouncedProfile = Omit<ProfileData, 'name' | 'description'> & { name?: string; description?: string };

/** Emulator to harness, first line: who it is and what it implements. */
export interface EmulatorHello {
  type: 'hello';
  /** Must equal the harness's {@link PROTOCOL_VERSION}. */
  protocol: number;
  /** Shown in reports and used in the names of saved cases, for example `"bochs"` (1-64 of `A-Za-z0-9._+-`). */
  name: string;
  /** The emulator's own version, for reports. */
  version?: string;
  /** The capability MSRs and other facts its processors report; the model's profile is built from them. */
  profile: AnnouncedProfile;
  /**
   * The operation kinds it executes. The harness never sends any other kind: a case is cut before
   * its first operation of a kind not listed here.
   */
  operations: OperationKind[];
  /** Most logical processors a case may ask for. */
  logicalProcessors: number;
}

/**
 * Harness to emulator: run `operations` from the initial state (spec/initial-state.ts, memory
 * zeroed) on `logicalProcessors` processors. Each case starts from a fresh machine: the emulator
 * resets (or re-creates) it between cases. The harness may send further cases before this one's
 * `end` arrives; the emulator answers cases in the order they came.
 */
export interface CaseMessage {
  type: 'case';
  /** Case number, unique within the session. */
  id: number;
  logicalProcessors: number;
  operations: Operation[];
}

/** Emulator to harness: what step `index` (0-based) of case `case` did. */
export interface ObservationMessage {
  type: 'observation';
  case: number;
  index: number;
  observation: Observation;
}

/**
 * Emulator to harness: case `case` is finished. After an `unimplemented` observation the emulator
 * may end the case early; otherwise one observation per operation comes before the `end`.
 */
export interface EndMessage {
  type: 'end';
  case: number;
}

/**
 * Emulator to harness: the emulator cannot go on (an internal error, not an architectural
 * outcome). The harness reports it as an emulator fault naming the case.
 */
export interface ErrorMessage {
  type: 'error';
  case?: number;
  message: string;
}

/** Harness to emulator, last line: no more cases; the emulator exits (status 0). */
export interface ByeMessage {
  type: 'bye';
}

/** Any line the harness sends. */
export type HarnessMessage = HarnessHello | CaseMessage | ByeMessage;

/** Any line an emulator sends after its hello. */
export type EmulatorMessage = ObservationMessage | EndMessage | ErrorMessage;
