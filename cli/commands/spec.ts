/**
 * `vmx-conformance spec <table>`: prints the SDM data of spec/ as a text table or as JSON, so a
 * user can check our reading of the SDM, or feed it to their own tools.
 */
import { formatCitation } from '../../spec/citation.ts';
import { CONTROL_SET_NAMES, CONTROL_SETS, PRIMARY_CONTROL } from '../../spec/controls.ts';
import { VM_ERRORS, VM_ERRORS_CITATION } from '../../spec/errors.ts';
import { ENTRY_CHECKS } from '../../spec/entry-checks/index.ts';
import type { EntryCheck } from '../../spec/entry-checks/index.ts';
import { EXIT_REASONS, EXIT_REASONS_CITATION } from '../../spec/exit-reasons.ts';
import { FIELDS_CITATION, isControlRequirement, VMCS_FIELDS, type FieldRequirement } from '../../spec/fields.ts';
import { loadProfile, PROFILE_NAMES } from '../../spec/profiles.ts';
import { EXIT } from '../usage-error.ts';

/** Tables `spec` can print. */
export const SPEC_TABLES = ['fields', 'errors', 'exit-reasons', 'controls', 'profiles', 'checks'] as const;

const hex = (n: number | bigint, digits = 4): string => `0x${n.toString(16).toUpperCase().padStart(digits, '0')}`;

function requirement(r: FieldRequirement): string {
  return isControlRequirement(r) ? `${r.controls} control bit ${r.bit}` : `never here: ${r.unsupported}`;
}

/**
 * The named profiles. As JSON each row is the profile's data exactly as a profile file holds it
 * (so a row saved to a file loads with `--profile <file>`); as text, a summary with what follows
 * from the MSRs and how many warnings validation printed.
 */
function profileRows(json: boolean): Record<string, unknown>[] {
  return PROFILE_NAMES.map((name) => {
    const p = loadProfile(name);
    if (json) return { ...p.data };
    return {
      name,
      revisionId: p.revisionId,
      physicalAddressWidth: p.data.physicalAddressWidth,
      vmwriteAnyField: p.vmwriteAnyField,
      secondaryControls: p.supportsControl('primary', PRIMARY_CONTROL.ACTIVATE_SECONDARY_CONTROLS),
      warnings: p.warnings.length,
      description: p.data.description,
    };
  });
}

/** A check's consequence in a few words. */
function consequenceOf(check: EntryCheck): string {
  const c = check.consequence;
  switch (c.kind) {
    case 'fault':
      return c.vector === 'UD' ? '#UD' : '#GP(0)';
    case 'vm-exit':
      return `VM exit (${c.reasons.join(' or ')})`;
    case 'vmfail-invalid':
      return 'VMfailInvalid';
    case 'vmfail-valid':
      return `VMfailValid(${c.error})`;
    case 'entry-failure-guest-state':
      return `exit reason 33, qualification ${c.qualification}`;
    case 'entry-failure-msr-load':
      return 'exit reason 34, qualification = entry index';
  }
}

/** Rows of a table as plain objects (the JSON form). */
function rows(table: string, json: boolean): { citation?: string; rows: Record<string, unknown>[] } {
  switch (table) {
    case 'checks':
      return {
        citation: 'VM-entry checks of SDM Vol. 3C "VM Entries", each verified in the edition its citation names',
        rows: ENTRY_CHECKS.map((check) =>
          json
            ? { ...check, outcome: consequenceOf(check) }
            : {
                id: check.id,
                outcome: consequenceOf(check),
                section: `§${check.citation.section} (${/\d{4}(?:-\d{4})?/.exec(check.citation.edition)?.[0] ?? check.citation.edition}${check.december2023Section === undefined ? '' : `; 2023 §${check.december2023Section}`})`,
                verification: check.verification,
              },
        ),
      };
    case 'fields':
      return {
        citation: formatCitation(FIELDS_CITATION),
        rows: VMCS_FIELDS.map((f) => ({
          encoding: hex(f.encoding),
          name: f.name,
          width: f.width,
          type: f.type,
          exists: f.requires.length === 0 ? 'always' : f.requires.map(requirement).join(' or '),
        })),
      };
    case 'errors':
      return { citation: formatCitation(VM_ERRORS_CITATION), rows: VM_ERRORS.map((e) => ({ number: e.number, name: e.name, meaning: e.meaning })) };
    case 'exit-reasons':
      return {
        citation: formatCitation(EXIT_REASONS_CITATION),
        rows: EXIT_REASONS.map((r) => ({ number: r.number, name: r.name, title: r.title, entryFailure: r.entryFailure })),
      };
    case 'controls':
      return {
        rows: CONTROL_SET_NAMES.flatMap((set) => {
          const info = CONTROL_SETS[set];
          return info.bits.map((b) => ({
            set,
            field: hex(info.field),
            bit: b.bit,
            name: b.name,
            default1: ((info.default1 >> BigInt(b.bit)) & 1n) === 1n,
            citation: formatCitation(info.citation),
          }));
        }),
      };
    default:
      return { rows: profileRows(json) };
  }
}

function textTable(items: Record<string, unknown>[]): string {
  if (items.length === 0) return '';
  const columns = Object.keys(items[0] ?? {}).filter((c) => c !== 'msrs' && c !== 'citation');
  const cell = (v: unknown): string => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...items.map((r) => cell(r[c]).length))));
  const line = (values: string[]): string => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...items.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

/** Prints one table; returns the exit code. */
export function specCommand(table: string, options: { json?: boolean }): number {
  const { citation, rows: items } = rows(table, options.json === true);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ table, citation, rows: items }, null, 2)}\n`);
  } else {
    process.stdout.write(`${citation ? `${citation}\n\n` : ''}${textTable(items)}\n`);
  }
  return EXIT.conformant;
}
