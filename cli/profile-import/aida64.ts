/**
 * AIDA64 / EVEREST CPUID dumps (the format of the InstLatx64 collection): among report text,
 * lines such as
 *
 *     CPUID 80000008: 00003027-00000000-00000000-00000000
 *     MSR 00000480: 00DA-0400-0000-0004
 *
 * A CPUID line gives EAX-EBX-ECX-EDX of a leaf; an MSR line gives the 64-bit value as four
 * groups of 16 bits, high first; either may end in a bracketed remark (`[PlatID = 7]`). An MSR
 * the processor refused to read is listed as `MSR 00000602: < FAILED >` and left out. Lines
 * that start with neither are report text and skipped; a CPUID or MSR line that does not read
 * as one is an error naming the line. Recent dumps repeat leaves and MSRs per logical processor;
 * the first logical processor's values are used, and a later one that differs (a hybrid part's
 * other core type) is remarked on.
 */
import { DumpError, recordMsr, type MsrDump } from './dump.ts';

const MSR_LINE = /^MSR\s+([0-9A-F]{8})\s*:\s*([0-9A-F]{4})-([0-9A-F]{4})-([0-9A-F]{4})-([0-9A-F]{4})\s*(\[.*\])?$/i;
const FAILED_MSR_LINE = /^MSR\s+([0-9A-F]{8})\s*:\s*<\s*FAILED\s*>\s*$/i;
const CPUID_LINE = /^CPUID\s+([0-9A-F]{8})\s*:\s*([0-9A-F]{8})-([0-9A-F]{8})-([0-9A-F]{8})-([0-9A-F]{8})\s*(\[.*\])?$/i;
/** A line that is meant as a CPUID or MSR line (so a malformed one is an error, not text). */
const LOOKS_LIKE_DATA = /^(MSR|CPUID)\s+[0-9A-F]/i;

/** True when `text` has at least one AIDA64-style CPUID or MSR line. */
export function looksLikeAida64(text: string): boolean {
  return text.split(/\r?\n/).some((line) => LOOKS_LIKE_DATA.test(line.trim()));
}

/** Reads an AIDA64-style dump; throws a {@link DumpError} naming the first malformed data line. */
export function parseAida64(text: string): MsrDump {
  const dump: MsrDump = { format: 'aida64', msrs: new Map(), remarks: [] };
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!LOOKS_LIKE_DATA.test(line)) continue;
    const msr = MSR_LINE.exec(line);
    if (msr) {
      const index = Number.parseInt(msr[1] as string, 16);
      const value = BigInt(`0x${msr.slice(2, 6).join('')}`);
      recordMsr(dump, index, value, i + 1);
      continue;
    }
    if (FAILED_MSR_LINE.test(line)) continue;
    const cpuid = CPUID_LINE.exec(line);
    if (cpuid) {
      if (Number.parseInt(cpuid[1] as string, 16) === 0x8000_0008 && dump.cpuid80000008Eax === undefined) {
        dump.cpuid80000008Eax = Number.parseInt(cpuid[2] as string, 16);
      }
      continue;
    }
    throw new DumpError(
      i + 1,
      `${JSON.stringify(raw)} is not an AIDA64 CPUID or MSR line; expected "MSR 00000480: 00DA-0400-0000-0004" ` +
        'or "CPUID 80000008: 00003027-00000000-00000000-00000000"',
    );
  }
  return dump;
}
