/**
 * What a processor dump gives `profile import` and `profile capture`: MSR values by index and,
 * when the dump has it, CPUID.80000008H:EAX (whose bits 7:0 are MAXPHYADDR). The parsers of the
 * dump formats (aida64.ts, rdmsr.ts, msr-file.ts) produce one; build.ts turns it into a profile.
 */
import { MSR } from '../../spec/capability-msrs.ts';

/** MSR values read from a dump, and what else the dump said. */
export interface MsrDump {
  /** Which format the values came from, for messages and the profile's `source`. */
  format: 'aida64' | 'rdmsr' | 'msr-file';
  /** MSR index -> value, for every MSR the dump gives (first occurrence when repeated). */
  msrs: Map<number, bigint>;
  /** CPUID.80000008H:EAX when the dump has it. */
  cpuid80000008Eax?: number;
  /** Things a person should know about the dump itself (values that differ between repeats ...). */
  remarks: string[];
}

/** A line of a dump that cannot be read; `line` is 1-based (0 for the file as a whole). */
export class DumpError extends Error {
  override readonly name = 'DumpError';

  constructor(
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `line ${line}: ${message}` : message);
  }
}

/** The MSRs a profile is made of: IA32_FEATURE_CONTROL (3AH) and 480H-493H. */
export const PROFILE_MSR_INDEXES: readonly number[] = Object.values(MSR);

/** `480H`-style spelling of an MSR index. */
export function msrLabel(index: number): string {
  return `${index.toString(16).toUpperCase()}H`;
}

/** Records `value` for `index` unless already there; notes a repeat with a different value. */
export function recordMsr(dump: MsrDump, index: number, value: bigint, line: number): void {
  const seen = dump.msrs.get(index);
  if (seen === undefined) {
    dump.msrs.set(index, value);
  } else if (seen !== value) {
    dump.remarks.push(
      `MSR ${msrLabel(index)} appears again on line ${line} with another value (0x${value.toString(16)}); the first ` +
        `(0x${seen.toString(16)}) is used`,
    );
  }
}
