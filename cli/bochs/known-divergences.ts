/**
 * Known divergences (`run --known-divergences <file>`, bochs/known-divergences.json): where an
 * emulator departs from the SDM in a way already triaged and recorded, or where the model is
 * known to be wrong and the fix is pending. A divergence that matches an entry is acknowledged:
 * counted and listed in the report, not a failure. Each entry carries a minimal replayable case.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CaseOutcome } from '../../properties/differential.ts';
import type { Observation } from '../../spec/observations.ts';
import type { Operation } from '../../spec/operations.ts';
import { UsageError } from '../usage-error.ts';

/** The file's format name. */
export const KNOWN_DIVERGENCES_FORMAT = 'vmx-conformance-known-divergences/1';

const entrySchema = z.object({
  id: z.string().regex(/^[a-z0-9.-]+$/),
  /** `emulator`: the emulator departs from the SDM; `model`: the model is wrong (reported, fix pending). */
  kind: z.enum(['emulator', 'model']),
  summary: z.string(),
  match: z.object({
    /** The operation kind at the divergent step. */
    operation: z.string(),
    /** The start of the engine's outcome there, as the summary labels it (`VMfailValid(7)`, `VMfailInvalid`, `#UD` ...). */
    observed: z.string().optional(),
    /** Rule ids that must all be among the outcomes the SDM allows there. */
    rules: z.array(z.string()).optional(),
    /**
     * For a divergence that stops Bochs (the agent loses control): a regular expression the
     * fault's message matches; `operation` is then an operation kind the case contains.
     */
    fault: z.string().optional(),
  }),
  /** The SDM rule, volume, section and title. */
  sdm: z.string(),
  /** Where the emulator's source does it, if known. */
  source: z.string().optional(),
  /** CPU models it was seen on. */
  models: z.array(z.string()).optional(),
  /**
   * false: the entry documents a divergence a run never executes (the compiler answers
   * `unimplemented` there because it would lose the agent); only its replay shows it.
   */
  runs: z.boolean().optional(),
  /** The minimal replayable case (a case file's content). */
  case: z.record(z.string(), z.unknown()),
});

const fileSchema = z.object({ format: z.literal(KNOWN_DIVERGENCES_FORMAT), emulator: z.string(), divergences: z.array(entrySchema) });

/** One recorded divergence. */
export type KnownDivergence = z.infer<typeof entrySchema>;

/** Reads and checks a known-divergences file; a bad one is a usage error naming the problem. */
export function readKnownDivergences(file: string): KnownDivergence[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--known-divergences ${file}: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) throw new UsageError(`--known-divergences ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.divergences;
}

/** How an observation is labelled for matching (as in the run summary). */
export function observationLabel(obs: Observation | undefined): string {
  if (obs === undefined) return 'nothing';
  switch (obs.kind) {
    case 'fault':
      return `#${obs.vector}`;
    case 'vmfail-valid':
      return `VMfailValid(${obs.error})`;
    case 'vmfail-invalid':
      return 'VMfailInvalid';
    case 'vmsucceed':
      return 'VMsucceed';
    case 'vmexit':
      return `VM exit(${obs.reason})`;
    case 'vmentry':
      return 'VM entry';
    case 'vmentry-failure':
      return `VM-entry failure 0x${obs.exitReason.toString(16)}`;
    case 'ok':
      return 'ok';
    case 'unimplemented':
      return 'unimplemented';
    case 'inactive':
      return `inactive (${obs.activity})`;
  }
}

/** The id of the first entry `outcome`'s divergence matches, if any. */
export function matchKnown(known: readonly KnownDivergence[], outcome: CaseOutcome & { kind: 'divergent' }, operations: readonly Operation[] = []): string | undefined {
  const d = outcome.divergence;
  if (d.kind !== 'mismatch') {
    const detail = d.detail ?? '';
    return known.find(
      (k) => k.runs !== false && k.match.fault !== undefined && new RegExp(k.match.fault).test(detail) && operations.some((op) => k.match.operation.split('|').includes(op.kind)),
    )?.id;
  }
  const label = observationLabel(d.observation);
  const rules = new Set(d.allowed.map((b) => b.rule.id));
  return known.find(
    (k) =>
      k.match.fault === undefined &&
      k.match.operation === d.operation.kind &&
      (k.match.observed === undefined || label.startsWith(k.match.observed)) &&
      (k.match.rules ?? []).every((r) => rules.has(r)),
  )?.id;
}
