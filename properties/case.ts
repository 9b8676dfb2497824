/**
 * Conformance case files: a replayable JSON record of one operation sequence, the profile and
 * processor count it ran with, and where it came from. `vmx-conformance replay` reads them;
 * every divergence the suite finds is written as one, and regressions/ keeps them.
 */
import { z } from 'zod';
import type { Operation } from '../spec/operations.ts';
import type { ProfileData } from '../spec/profile-data.ts';
import { describeIssues, operationSchema } from '../spec/schemas.ts';
import { FORMAT_4_GUEST_OPERATION_KINDS, needsFormat5 } from '../spec/guest-operations.ts';
import { upgradeMovSsBlocking } from './case-upgrade.ts';

/**
 * Identifies the file format; bumped when the format changes. `/2` added `origin.property` (and
 * `origin.snapshotAt`), so that replay re-checks the property that found the case. `/3`: MOV-SS
 * blocking lasts for one instruction (spec/operations.ts). `/4` added the guest operations
 * (spec/guest-operations.ts), `gpr` on MOV to CR0/CR4, and observations that carry more (a fault's
 * vector beyond #UD/#GP and error code, an `ok` value, the event a VM entry injected). `/5` added
 * the guest operations of spec/system-instruction-operations.ts (RDRAND, RDSEED, INVPCID, the
 * descriptor-table instructions, GETSEC, XSAVES, XRSTORS) and WBNOINVD (`wbinvd` with a
 * `variant`). Files of the earlier formats still parse: they are upgraded on reading so that they
 * keep their meaning (case-upgrade.ts), and come back as `/5` cases; an operation newer than the
 * file's format is refused, naming the format it needs.
 */
export const CASE_FORMAT = 'vmx-conformance-case/5';
/** Earlier formats that still parse (upgraded on reading). */
export const OLDER_CASE_FORMATS = ['vmx-conformance-case/1', 'vmx-conformance-case/2', 'vmx-conformance-case/3', 'vmx-conformance-case/4'] as const;

/** The property a case was found by: `differential`, or a metamorphic property's name. */
export type CaseProperty = 'differential' | 'vmwrite-vmread-round-trip' | 'vmclear-vmptrld-keeps-values' | 'snapshot-restore-replays';
const PROPERTIES = ['differential', 'vmwrite-vmread-round-trip', 'vmclear-vmptrld-keeps-values', 'snapshot-restore-replays'] as const;

/** A replayable conformance case. */
export interface ConformanceCase {
  format: typeof CASE_FORMAT | (typeof OLDER_CASE_FORMATS)[number];
  /** A named profile (`"skylake"`) or the profile data itself. */
  profile: string | ProfileData;
  logicalProcessors: number;
  operations: Operation[];
  /** Where the case came from: engine name, seed and fast-check path, a note. */
  origin?: {
    /** The property that found it (absent: differential). */
    property?: CaseProperty;
    /** For `snapshot-restore-replays`: how many operations run before the snapshot. */
    snapshotAt?: number;
    engine?: string;
    seed?: number;
    path?: string;
    note?: string;
  };
}

const caseSchema = z
  .object({
    format: z.enum([CASE_FORMAT, ...OLDER_CASE_FORMATS]),
    profile: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    logicalProcessors: z.number().int().min(1).max(256),
    operations: z.array(operationSchema),
    origin: z
      .object({
        property: z.enum(PROPERTIES).optional(),
        snapshotAt: z.number().int().min(0).optional(),
        engine: z.string().optional(),
        seed: z.number().int().optional(),
        path: z.string().optional(),
        note: z.string().optional(),
      })
      .optional(),
  })
  .strict();

/** Thrown for a case file that cannot be read; the message says what is wrong and where. */
export class CaseFileError extends Error {
  override readonly name = 'CaseFileError';
}

/**
 * Parses the text of a case file. Throws {@link CaseFileError} listing every problem (JSON syntax,
 * missing or malformed fields, operations a processor count does not allow).
 */
export function parseCase(text: string, source = 'case file'): ConformanceCase {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CaseFileError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = caseSchema.safeParse(json);
  if (!parsed.success) {
    throw new CaseFileError(
      `${source}: not a ${CASE_FORMAT} (or ${OLDER_CASE_FORMATS.join(', ')}) case:\n  ${describeIssues(parsed.error).join('\n  ')}`,
    );
  }
  const value = parsed.data;
  if (value.format === 'vmx-conformance-case/1' && value.origin?.property !== undefined) {
    throw new CaseFileError(`${source}: origin.property needs format vmx-conformance-case/2 or later (this file says ${value.format})`);
  }
  const snapshotAt = value.origin?.snapshotAt;
  if (snapshotAt !== undefined && snapshotAt > value.operations.length) {
    throw new CaseFileError(`${source}: origin.snapshotAt is ${snapshotAt} but the case has only ${value.operations.length} operations`);
  }
  const badCpu = value.operations.findIndex((op) => op.cpu >= value.logicalProcessors);
  if (badCpu >= 0) {
    throw new CaseFileError(
      `${source}: operations.${badCpu}.cpu is ${value.operations[badCpu]?.cpu} but the case has only ${value.logicalProcessors} logical processor(s)`,
    );
  }
  if (value.format === CASE_FORMAT) return value as ConformanceCase;
  const format5 = value.operations.findIndex((op) => needsFormat5(op));
  if (format5 >= 0) {
    throw new CaseFileError(`${source}: operations.${format5} (${value.operations[format5]?.kind}) needs format vmx-conformance-case/5 (this file says ${value.format})`);
  }
  if (value.format === 'vmx-conformance-case/4') return { ...(value as Omit<ConformanceCase, 'format'>), format: CASE_FORMAT };
  const newer = value.operations.findIndex((op) => (FORMAT_4_GUEST_OPERATION_KINDS as readonly string[]).includes(op.kind) || ('gpr' in op && (op.kind === 'mov-cr0' || op.kind === 'mov-cr4')));
  if (newer >= 0) {
    throw new CaseFileError(`${source}: operations.${newer} (${value.operations[newer]?.kind}) needs format vmx-conformance-case/4 (this file says ${value.format})`);
  }
  const operations = value.format === 'vmx-conformance-case/3' ? (value.operations as Operation[]) : upgradeMovSsBlocking(value.operations as Operation[]);
  return { ...(value as Omit<ConformanceCase, 'format'>), format: CASE_FORMAT, operations };
}

/** The text of a case file: pretty JSON with one operation per line, for diffs and reading. */
export function serializeCase(testCase: ConformanceCase): string {
  const { operations, ...rest } = testCase;
  const head = JSON.stringify(rest, null, 2).replace(/\n}$/, '');
  const body = operations.map((op) => `    ${JSON.stringify(op)}`).join(',\n');
  return `${head},\n  "operations": [\n${body}\n  ]\n}\n`;
}
