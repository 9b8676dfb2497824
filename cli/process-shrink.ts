/**
 * Shrinking the case an emulator process faulted on (crash, hang, garbage, ...). A faulted process
 * is gone, so each round of candidates (the case with one chunk dropped: halves, quarters, ...
 * single operations) runs on one fresh process, candidate after candidate, until one faults the
 * same way: that one is kept (the largest drop first) and the round ends there. A candidate that
 * faults another way costs a new process for the rest of the round. So a hang costs one step
 * time-out per round, never one per candidate, and a crash costs a process start per round.
 * The fault is first reproduced on a fresh process; one that does not reproduce is not shrunk.
 */
import type { Operation } from '../spec/operations.ts';
import { EmulatorFault } from './engine-fault.ts';
import { reportFault, type FaultReportOptions } from './fault-report.ts';
import { ProcessEngine, type ProcessOptions } from './process-engine.ts';

/** What shrinking found. */
export interface ShrunkFault {
  /** Whether the case faulted the same way again on a fresh process. */
  reproduced: boolean;
  /** The smallest case found that faults the same way (the original when not reproduced). */
  operations: Operation[];
  /** Its fault (the original fault when not reproduced). */
  fault: EmulatorFault;
  rounds: number;
  /** Emulator processes started. */
  processes: number;
}

/** Shrinks `fault`'s case on fresh processes of `command`; see the file header. */
export function shrinkProcessFault(command: string, options: ProcessOptions, fault: EmulatorFault): ShrunkFault {
  const during = fault.faultedCase;
  if (during === undefined) return { reproduced: false, operations: [], fault, rounds: 0, processes: 0 };
  const lp = during.logicalProcessors;
  let processes = 0;
  const quiet: ProcessOptions = { ...options, onLog: () => undefined };

  /** Runs the candidates in order on fresh processes; the first that faults like `fault`, with its fault. */
  const firstFaulting = (candidates: readonly Operation[][]): { operations: Operation[]; fault: EmulatorFault } | undefined => {
    let proc: ProcessEngine | undefined;
    try {
      for (const candidate of candidates) {
        if (proc === undefined) {
          processes += 1;
          try {
            proc = ProcessEngine.open(command, quiet);
          } catch {
            return undefined; // it does not even start now: keep what was found so far
          }
        }
        try {
          proc.runCase(lp, candidate);
        } catch (error) {
          if (!(error instanceof EmulatorFault)) throw error;
          proc.close();
          proc = undefined;
          if (error.kind === fault.kind) return { operations: candidate, fault: error };
        }
      }
      return undefined;
    } finally {
      proc?.close();
    }
  };

  const again = firstFaulting([during.operations]);
  if (again === undefined) return { reproduced: false, operations: during.operations, fault, rounds: 0, processes };
  let current = again;
  let rounds = 0;
  for (;;) {
    const ops = current.operations;
    const candidates: Operation[][] = [];
    for (let size = Math.max(1, Math.floor(ops.length / 2)); ; size = Math.max(1, Math.floor(size / 2))) {
      for (let at = 0; at < ops.length; at += size) candidates.push([...ops.slice(0, at), ...ops.slice(at + size)]);
      if (size === 1) break;
    }
    const usable = candidates.filter((c) => c.length > 0);
    if (usable.length === 0) break;
    rounds += 1;
    const next = firstFaulting(usable);
    if (next === undefined) break;
    current = next;
  }
  return { reproduced: true, operations: current.operations, fault: current.fault, rounds, processes };
}

/**
 * Shrinks `fault`'s case (when it reproduces) and reports the fault of the smallest case found,
 * saving it and the original; returns the exit code of an emulator fault.
 */
export function reportShrunkProcessFault(command: string, fault: EmulatorFault, options: ProcessOptions, report: FaultReportOptions & { json?: boolean }): number {
  if (!report.json) process.stderr.write(`${fault.message.split('\n')[0]}\nshrinking the case on fresh emulator processes...\n`);
  const shrunk = shrinkProcessFault(command, options, fault);
  const original = fault.faultedCase?.operations ?? [];
  const how = shrunk.reproduced
    ? `shrunk from ${original.length} to ${shrunk.operations.length} operations in ${shrunk.rounds} rounds on ${shrunk.processes} fresh processes`
    : 'it did not fault again on a fresh process, so it was not shrunk';
  if (!shrunk.reproduced && !report.json) process.stderr.write(`${how}\n`);
  return reportFault(shrunk.fault, {
    ...report,
    ...(shrunk.reproduced && shrunk.operations.length < original.length ? { original: { operations: original, shrunk: how } } : {}),
  });
}
