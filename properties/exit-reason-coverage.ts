/**
 * Which basic exit reasons (spec/exit-reasons.ts, SDM Vol. 3D Appendix C "VMX Basic Exit
 * Reasons") a run reached, for the run report: a reason is reached when a compared step's engine
 * observation is a VM exit with that reason, or a VM-entry failure whose exit reason has it in
 * bits 15:0. Counted from the engine's observations of steps the model accepted, like the
 * outcome counts.
 */
import { EXIT_REASONS } from '../spec/exit-reasons.ts';
import type { StepRecord } from './differential.ts';

/** Exit reasons reached, with counts, and the ones not reached. */
export interface ExitReasonCoverage {
  /** Basic exit reasons in spec/exit-reasons.ts. */
  total: number;
  /** Hits per reason name (`CPUID`, `IO_INSTRUCTION` ...). */
  reached: Record<string, number>;
  /** Reason names never reached, in numeric order. */
  notReached: string[];
}

/** An empty coverage record. */
export function emptyExitReasonCoverage(): ExitReasonCoverage {
  return { total: EXIT_REASONS.length, reached: {}, notReached: [] };
}

const NAME_OF = new Map(EXIT_REASONS.map((reason) => [reason.number, reason.name]));

/** Adds the exit reasons the steps of one case reached to `coverage`. */
export function recordExitReasons(coverage: ExitReasonCoverage, steps: readonly StepRecord[]): void {
  for (const step of steps) {
    const obs = step.observation;
    if (obs === undefined || step.matched === undefined) continue;
    const reason = obs.kind === 'vmexit' ? obs.reason : obs.kind === 'vmentry-failure' ? obs.exitReason & 0xffff : undefined;
    if (reason === undefined) continue;
    const name = NAME_OF.get(reason) ?? `reason ${reason}`;
    coverage.reached[name] = (coverage.reached[name] ?? 0) + 1;
  }
}

/** Fills in the reasons not reached; call once at the end of a run. */
export function finishExitReasons(coverage: ExitReasonCoverage): void {
  coverage.notReached = EXIT_REASONS.map((reason) => reason.name).filter((name) => coverage.reached[name] === undefined);
}
