/**
 * `rdmsr`-style listings: one MSR per line, index then value, both hexadecimal, as people paste
 * them from `rdmsr` (msr-tools) or write them by hand:
 *
 *     0x480 0xda0400000000004
 *     480: da0400000000004
 *     0x3a = 0x5
 *
 * The `0x` prefix is optional on both, the separator is spaces, a colon or an equals sign.
 * Blank lines and lines starting with `#` are skipped; any other line is an error naming it.
 */
import { DumpError, recordMsr, type MsrDump } from './dump.ts';

const LINE = /^(?:0x)?([0-9a-f]{1,8})h?\s*(?:[:=]\s*|\s+)(?:0x)?([0-9a-f]{1,16})$/i;

/** Reads an rdmsr-style listing; throws a {@link DumpError} naming the first line it cannot read. */
export function parseRdmsr(text: string): MsrDump {
  const dump: MsrDump = { format: 'rdmsr', msrs: new Map(), remarks: [] };
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) {
      throw new DumpError(
        i + 1,
        `${JSON.stringify(raw)} is not an MSR line; expected the index and the value in hexadecimal, ` +
          'such as "0x480 0xda0400000000004" or "480: da0400000000004"',
      );
    }
    recordMsr(dump, Number.parseInt(match[1] as string, 16), BigInt(`0x${match[2]}`), i + 1);
  }
  if (dump.msrs.size === 0) throw new DumpError(0, 'the file has no MSR lines');
  return dump;
}
