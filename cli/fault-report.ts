/**
 * Reporting an emulator process's fault (cli/engine-fault.ts: a crash, hang, garbage, truncated
 * or oversized output, another protocol version, a broken protocol). A fault is not a divergence
 * (the emulator never gave an answer to judge): the run stops, the case that caused it is saved,
 * and the command exits with {@link EXIT_EMULATOR_FAULT}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pc from 'picocolors';
import { CASE_FORMAT, serializeCase, type ConformanceCase } from '../properties/case.ts';
import type { Operation } from '../spec/operations.ts';
import type { ProfileData } from '../spec/profile-data.ts';
import type { EmulatorFault } from './engine-fault.ts';

/** Exit code of a run or replay stopped by an emulator fault (0 conformant, 1 divergence, 2 usage). */
export const EXIT_EMULATOR_FAULT = 3;

/** Where to report a fault and how to name the saved case. */
export interface FaultReportOptions {
  out: string;
  json?: boolean;
  /** The profile the case ran with: a name or the data. */
  profileRef: string | ProfileData;
  profileName: string;
  seed?: number;
  /** Save the faulted case (run does; replay already has it in a file). */
  save: boolean;
  /** The replay command's engine options (default: `--emulator-cmd '<command>'`). */
  replayWith?: string;
  /**
   * The case as first found, when the faulted case is a shrunk one: saved beside it as
   * `<stem>.original.case.json`, with `shrunk` saying how it was shrunk.
   */
  original?: { operations: Operation[]; shrunk: string };
}

/** Prints the fault, saves its case, and returns {@link EXIT_EMULATOR_FAULT}. */
export function reportFault(fault: EmulatorFault, options: FaultReportOptions): number {
  let casePath: string | undefined;
  let originalPath: string | undefined;
  if (options.save && fault.faultedCase !== undefined) {
    const testCase: ConformanceCase = {
      format: CASE_FORMAT,
      profile: options.profileRef,
      logicalProcessors: fault.faultedCase.logicalProcessors,
      operations: fault.faultedCase.operations,
      origin: { engine: fault.emulator, ...(options.seed === undefined ? {} : { seed: options.seed }), note: `emulator fault (${fault.kind}): ${fault.detail.split('\n')[0]}` },
    };
    mkdirSync(options.out, { recursive: true });
    const stem = `${fault.emulator}-${options.profileName}${options.seed === undefined ? '' : `-seed${options.seed}`}-fault`;
    casePath = join(options.out, `${stem}.case.json`);
    if (options.original !== undefined) {
      originalPath = join(options.out, `${stem}.original.case.json`);
      const original: ConformanceCase = { ...testCase, operations: options.original.operations, origin: { ...testCase.origin, note: `emulator fault (${fault.kind}), the case as first found` } };
      writeFileSync(originalPath, serializeCase(original));
      testCase.origin = { ...testCase.origin, note: `${testCase.origin?.note ?? ''}; ${options.original.shrunk}` };
    }
    writeFileSync(casePath, serializeCase(testCase));
  }
  if (options.json) {
    const original = originalPath === undefined ? {} : { originalCase: originalPath, shrunk: options.original?.shrunk };
    process.stdout.write(`${JSON.stringify({ engine: fault.emulator, fault: { kind: fault.kind, message: fault.message, case: casePath, ...original } }, null, 2)}\n`);
  }
  process.stderr.write(`${pc.red('EMULATOR FAULT')}: ${fault.message}\n`);
  if (casePath !== undefined) {
    const shrunk = originalPath === undefined ? '' : ` (${options.original?.shrunk}; the case as first found is saved to ${relative(process.cwd(), originalPath)})`;
    process.stderr.write(`the case is saved to ${relative(process.cwd(), casePath)}${shrunk}; replay it with: vmx-conformance replay ${relative(process.cwd(), casePath)} ${options.replayWith ?? `--emulator-cmd '${fault.command ?? ''}'`}\n`);
  }
  return EXIT_EMULATOR_FAULT;
}
