/**
 * A VMCS as `explain` reads it from a file: the field values a dump states, where each came from,
 * and what the dump could not say. Dumps omit fields (KVM and Xen print what their authors needed,
 * some only under conditions), so every consumer must treat an absent field as unknown, never as 0.
 */
import type { FieldName } from '../../spec/fields.ts';

/** The input formats `explain` understands. */
export type DumpFormat = 'json' | 'kvm' | 'xen';

/** One entry of a VM-entry MSR-load area, as a dump lists it. */
export interface MsrLoadEntry {
  /** 0-based position in the area (the SDM's exit qualification counts from 1). */
  position: number;
  msr: bigint;
  value: bigint;
}

/** What a dump says about one VMCS. */
export interface VmcsDump {
  format: DumpFormat;
  /** Field values the dump states, by field name (keys of `FIELD`). */
  fields: Map<FieldName, bigint>;
  /** The input line (1-based) each field value was read from. */
  lineOf: Map<FieldName, number>;
  /** The VM-entry MSR-load area's entries, when the dump lists them. */
  msrLoadArea?: MsrLoadEntry[];
  /** What the reader should know about the input: values shown but not from the VMCS, and so on. */
  notes: string[];
}

/** A dump that cannot be read; the message names the line. */
export class DumpParseError extends Error {
  override readonly name = 'DumpParseError';

  constructor(
    readonly line: number | undefined,
    message: string,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

/** An empty dump of the given format, to be filled by a reader. */
export function emptyDump(format: DumpFormat): VmcsDump {
  return { format, fields: new Map(), lineOf: new Map(), notes: [] };
}

/** Records `value` for `field`, read on `line`; a second, different value for a field is an error. */
export function setDumpField(dump: VmcsDump, field: FieldName, value: bigint, line: number): void {
  const earlier = dump.fields.get(field);
  if (earlier !== undefined && earlier !== value) {
    throw new DumpParseError(
      line,
      `${field} is 0x${value.toString(16)} here but was 0x${earlier.toString(16)} on line ${dump.lineOf.get(field)}; a dump must describe one VMCS`,
    );
  }
  dump.fields.set(field, value);
  dump.lineOf.set(field, line);
}
