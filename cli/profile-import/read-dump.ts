/**
 * Reads a dump file for `profile import`, telling the formats apart: a file with a NUL byte in
 * its first 64 KB is an MSR image (text dumps have none; an image is mostly zeros); a text file
 * with AIDA64-style `CPUID`/`MSR` lines is an AIDA64 dump; any other text is read as an
 * rdmsr-style listing. `format` overrides the guess.
 */
import { fstatSync, readSync } from 'node:fs';
import { looksLikeAida64, parseAida64 } from './aida64.ts';
import { DumpError, type MsrDump } from './dump.ts';
import { readMsrImage, withFile } from './msr-file.ts';
import { parseRdmsr } from './rdmsr.ts';

/** The dump formats `profile import` reads. */
export const DUMP_FORMATS = ['aida64', 'rdmsr', 'msr-file'] as const;
export type DumpFormat = (typeof DUMP_FORMATS)[number];

const SNIFF_BYTES = 64 * 1024;
/** Largest text dump read (an AIDA64 report of a many-core part is a few hundred KB). */
const MAX_TEXT_BYTES = 32 * 1024 * 1024;

/** Reads `path` as a dump of `format`, or of the format its content shows. */
export function readDump(path: string, format?: DumpFormat): MsrDump {
  return withFile(path, (fd) => {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
    readSync(fd, head, 0, head.length, 0);
    const chosen = format ?? (head.includes(0) ? 'msr-file' : undefined);
    if (chosen === 'msr-file') return readMsrImage(fd);
    if (size > MAX_TEXT_BYTES) throw new DumpError(0, `the file is ${size} bytes of text, more than a dump of MSRs can be`);
    const whole = Buffer.alloc(size);
    readSync(fd, whole, 0, size, 0);
    const text = whole.toString('utf8');
    if (chosen === 'aida64' || (chosen === undefined && looksLikeAida64(text))) return parseAida64(text);
    return parseRdmsr(text);
  });
}
