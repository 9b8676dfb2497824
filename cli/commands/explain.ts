/**
 * `vmx-conformance explain <file> [--profile <name|file>] [--json]`: every VM-entry check a VMCS
 * fails, from a KVM or Xen log dump or the JSON form. Exit codes: 0 no check fails, 1 some check
 * fails, 2 the input or options are wrong.
 */
import { readFileSync, statSync } from 'node:fs';
import { formatCitation } from '../../spec/citation.ts';
import type { FieldName } from '../../spec/fields.ts';
import { explain } from '../explain/explain.ts';
import type { ExplainedCheck, Explanation, Reported } from '../explain/explain.ts';
import { readDump } from '../explain/read-dump.ts';
import type { VmcsDump } from '../explain/vmcs-dump.ts';
import { DumpParseError } from '../explain/vmcs-dump.ts';
import { resolveProfile } from '../load-profile.ts';
import { EXIT, UsageError } from '../usage-error.ts';

/** Options of `explain`. */
export interface ExplainOptions {
  profile: string;
  json?: boolean;
}

const FORMAT_NAMES = { json: 'JSON VMCS', kvm: 'KVM dump_vmcs log', xen: 'Xen vmcs_dump_vcpu log' } as const;

/** Runs `explain` on `file`; resolves to the exit code. */
export function explainCommand(file: string, options: ExplainOptions): number {
  const { profile } = resolveProfile(options.profile);
  const dump = readInput(file);
  const explanation = explain(dump, profile);
  process.stdout.write(options.json === true ? `${JSON.stringify(toJson(file, dump, explanation), null, 2)}\n` : toText(file, dump, explanation));
  return explanation.failing.length > 0 ? EXIT.divergence : EXIT.conformant;
}

function readInput(file: string): VmcsDump {
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`${file} is a directory; give the file holding the VMCS dump`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return readDump(text);
  } catch (error) {
    if (error instanceof DumpParseError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

const hex = (value: bigint): string => `0x${value.toString(16)}`;

function values(check: ExplainedCheck, dump: VmcsDump): string {
  if (check.result.kind !== 'fail') return '';
  return [...check.result.values]
    .map(([field, value]) => `${field}=${hex(value)}${lineNote(dump, field)}`)
    .join(', ');
}

function lineNote(dump: VmcsDump, field: FieldName): string {
  const line = dump.lineOf.get(field);
  return line === undefined || dump.format === 'json' ? '' : ` (line ${line})`;
}

function citation(check: ExplainedCheck): string {
  const c = check.check;
  const later = c.december2023Section !== undefined && c.december2023Section !== c.citation.section ? `; December 2023 §${c.december2023Section}` : '';
  return `${formatCitation(c.citation)}${later}`;
}

function consequence(check: ExplainedCheck): string {
  const c = check.check.consequence;
  switch (c.kind) {
    case 'vmfail-valid':
      return check.check.group === 'address-space-size' ? 'VMfailValid(7) or VMfailValid(8)' : `VMfailValid(${c.error})`;
    case 'entry-failure-guest-state':
      return `VM-entry failure, exit reason 0x80000021, qualification ${c.qualification}`;
    case 'entry-failure-msr-load':
      return 'VM-entry failure, exit reason 0x80000022';
    default:
      return c.kind;
  }
}

function describeReported(reported: Reported): string {
  switch (reported.kind) {
    case 'no-failure-found':
      return 'no check judged here fails';
    case 'vmfail-valid':
      return reported.errors.length === 1
        ? `VMfailValid(${reported.errors[0]})`
        : `one of ${reported.errors.map((e) => `VMfailValid(${e})`).join(', ')} (the SDM lets these checks run in any order)`;
    case 'entry-failure':
      return `VM-entry failure, exit reason 0x${reported.exitReason.toString(16)}, exit qualification ${reported.qualifications.join(' or ')}`;
  }
}

function toText(file: string, dump: VmcsDump, e: Explanation): string {
  const out: string[] = [`explain: ${FORMAT_NAMES[dump.format]} ${file}, ${dump.fields.size} fields, profile ${e.profile}`];
  for (const note of dump.notes) out.push(`  note: ${note}`);
  out.push('', `FAILING CHECKS (${e.failing.length})`);
  for (const check of e.failing) {
    out.push(`  ${check.check.id}  ->  ${consequence(check)}`);
    out.push(`      ${check.check.condition}`);
    if (check.check.appliesWhen !== undefined) out.push(`      applies when: ${check.check.appliesWhen}`);
    out.push(`      values: ${values(check, dump)}`);
    out.push(`      ${citation(check)}`);
  }
  out.push('', `UNDECIDED (${e.undecided.length}): the dump does not give what these checks read`);
  for (const check of e.undecided) {
    if (check.result.kind === 'undecided') out.push(`  ${check.check.id}: missing ${check.result.missing.join(', ')}`);
    if (check.result.kind === 'may-fail') out.push(`  ${check.check.id}: may fail, depending on ${check.result.why}`);
  }
  const notModelled = e.notModelled.reduce((n, g) => n + g.checks.length, 0);
  out.push('', `NOT MODELLED YET (${notModelled}): ${e.notModelled.map((g) => `${g.group} (${g.checks.length})`).join(', ') || 'none'}`);
  out.push('', `passed ${e.passed}, not applicable ${e.notApplicable}`);
  out.push(`A processor would report: ${describeReported(e.reported)}`);
  return `${out.join('\n')}\n`;
}

function toJson(file: string, dump: VmcsDump, e: Explanation): unknown {
  const entry = (check: ExplainedCheck): Record<string, unknown> => ({
    id: check.check.id,
    group: check.check.group,
    condition: check.check.condition,
    consequence: consequence(check),
    citation: check.check.citation,
    december2023Section: check.check.december2023Section,
    ...(check.result.kind === 'fail' ? { values: Object.fromEntries([...check.result.values].map(([f, v]) => [f, hex(v)])) } : {}),
    ...(check.result.kind === 'undecided' ? { missing: check.result.missing } : {}),
    ...(check.result.kind === 'may-fail' ? { mayFailBecause: check.result.why } : {}),
  });
  return {
    file,
    format: dump.format,
    profile: e.profile,
    notes: dump.notes,
    failing: e.failing.map(entry),
    undecided: e.undecided.map(entry),
    notModelled: e.notModelled.map((g) => ({ group: g.group, checks: g.checks.map((c) => c.id) })),
    passed: e.passed,
    notApplicable: e.notApplicable,
    reported: e.reported,
  };
}
