/**
 * The verdict of a run, from what the suite found: a divergence (the engine answered something
 * the SDM does not allow), an emulator fault (it gave no usable answer), an incomplete run (no
 * divergence, but too many cases ended at steps the engine does not implement), or conformant.
 */
import type { SuiteResult } from '../properties/suite.ts';
import type { FaultRecord } from './engine-fault.ts';
import { EXIT } from './usage-error.ts';

/**
 * Share of differential cases that may end at an `unimplemented` answer while the run still
 * counts as conformant; above it the run is INCOMPLETE (exit 4). 5%: an emulator that leaves a
 * whole instruction out fails it, one that reports a rare corner as unimplemented does not.
 */
export const INCOMPLETE_FRACTION = 0.05;

/** What the run concluded, with its exit code. */
export interface Verdict {
  kind: 'conformant' | 'divergence' | 'fault' | 'incomplete';
  code: number;
  /** For faults: the kind (crash, hang, garbage, exception...) and message. */
  fault?: { kind: string; message: string };
}

/** Decides the verdict; `lastFault` is the fault of the engine that ran the shrunk case, if any. */
export function decideVerdict(result: SuiteResult, lastFault: FaultRecord | undefined): Verdict {
  const failure = result.failure;
  if (failure !== undefined) {
    if (lastFault !== undefined) return { kind: 'fault', code: EXIT.fault, fault: lastFault };
    const outcome = failure.outcome;
    if (outcome.kind === 'divergent' && outcome.divergence.kind !== 'mismatch') {
      const kind = outcome.divergence.kind === 'engine-threw' ? 'exception' : 'garbage';
      return { kind: 'fault', code: EXIT.fault, fault: { kind, message: outcome.divergence.detail ?? failure.message } };
    }
    return { kind: 'divergence', code: EXIT.divergence };
  }
  const { cases, endings } = result.stats;
  if (cases > 0 && endings['engine-unimplemented'] > cases * INCOMPLETE_FRACTION) return { kind: 'incomplete', code: EXIT.incomplete };
  return { kind: 'conformant', code: EXIT.conformant };
}
