/**
 * `vmx-conformance profile import <file>` and `vmx-conformance profile capture`: make a profile
 * file from what a processor reports. `import` reads a dump people already have (AIDA64 CPUID
 * dumps, rdmsr-style listings, MSR images); `capture` reads this machine's `/dev/cpu/N/msr`
 * (Linux, msr module loaded, root). Both write validated profile JSON (to `--out`, else standard
 * output), and say on standard error which MSRs were missing, inferred or dropped and what
 * validation warns about. A dump that cannot be read, or a profile with problems, is exit 2.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { checkProfile } from '../../spec/profile.ts';
import { buildProfile, type BuiltProfile } from '../profile-import/build.ts';
import { DumpError, type MsrDump } from '../profile-import/dump.ts';
import { readCpuid80000008Eax, readMsrImage, withFile } from '../profile-import/msr-file.ts';
import { DUMP_FORMATS, readDump, type DumpFormat } from '../profile-import/read-dump.ts';
import { EXIT, UsageError } from '../usage-error.ts';

/** Options shared by `import` and `capture`. */
interface OutputOptions {
  name?: string;
  out?: string;
  physicalAddressWidth?: number;
}

/** Options of `profile import`. */
export interface ImportOptions extends OutputOptions {
  format?: string;
}

/** Options of `profile capture`. */
export interface CaptureOptions extends OutputOptions {
  cpu: number;
  /** Read this file instead of /dev/cpu/N/msr (laid out the same way). */
  msrFile?: string;
  /** Read this file instead of /dev/cpu/N/cpuid (laid out the same way). */
  cpuidFile?: string;
}

/** A profile name from a file name: lowercase letters, digits and dashes. */
function nameFrom(file: string): string {
  const stem = basename(file, extname(file)).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return stem === '' ? 'imported' : stem;
}

function checkWidth(width: number | undefined): void {
  if (width !== undefined && (!Number.isInteger(width) || width < 32 || width > 52)) {
    throw new UsageError('--physical-address-width must be an integer from 32 to 52 (MAXPHYADDR)');
  }
}

/** Validates the built profile, reports on stderr, writes the JSON; returns the exit code. */
function finish(built: BuiltProfile, out: string | undefined): number {
  const { problems, warnings } = checkProfile(built.data);
  const say = (line: string): void => void process.stderr.write(`vmx-conformance: ${line}\n`);
  for (const note of built.notes) say(`note: ${note}`);
  if (problems.length > 0) {
    throw new UsageError(
      `the values do not make a usable profile (${problems.length} problem(s)); no file written:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  for (const warning of warnings) say(`warning: ${warning}`);
  const json = `${JSON.stringify(built.data, null, 2)}\n`;
  if (out === undefined) {
    process.stdout.write(json);
  } else {
    writeFileSync(out, json);
    say(`profile ${built.data.name} written to ${out}; use it with --profile ${out}`);
  }
  return EXIT.conformant;
}

/** Runs `step`, turning a dump error into a usage error that names the file. */
function readingFile<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof DumpError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** `profile import <file>`; returns the exit code. */
export function importCommand(file: string, options: ImportOptions): number {
  checkWidth(options.physicalAddressWidth);
  if (options.format !== undefined && !(DUMP_FORMATS as readonly string[]).includes(options.format)) {
    throw new UsageError(`--format must be one of ${DUMP_FORMATS.join(', ')}`);
  }
  if (!existsSync(file)) throw new UsageError(`dump file not found: ${file}`);
  const dump = readingFile(file, () => readDump(file, options.format as DumpFormat | undefined));
  const what = `${basename(file)} (${dump.format} dump)`;
  const built = readingFile(file, () =>
    buildProfile(dump, {
      name: options.name ?? nameFrom(file),
      description: `Imported from ${what}`,
      source: `vmx-conformance profile import ${what}`,
      physicalAddressWidth: options.physicalAddressWidth,
    }),
  );
  return finish(built, options.out);
}

/** `profile capture`; returns the exit code. */
export function captureCommand(options: CaptureOptions): number {
  checkWidth(options.physicalAddressWidth);
  if (!Number.isInteger(options.cpu) || options.cpu < 0) throw new UsageError('--cpu must be a logical processor number (0, 1, ...)');
  const msrPath = options.msrFile ?? `/dev/cpu/${options.cpu}/msr`;
  const cpuidPath = options.cpuidFile ?? `/dev/cpu/${options.cpu}/cpuid`;
  let dump: MsrDump;
  try {
    dump = withFile(msrPath, readMsrImage);
  } catch (error) {
    throw new UsageError(
      `cannot read ${msrPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); on Linux load the msr ` +
        'module (modprobe msr) and run as root, or give a file laid out the same way with --msr-file',
    );
  }
  try {
    dump.cpuid80000008Eax = withFile(cpuidPath, readCpuid80000008Eax);
  } catch {
    dump.remarks.push(`${cpuidPath} could not be read (modprobe cpuid), so CPUID.80000008H is not known`);
  }
  const built = readingFile(msrPath, () =>
    buildProfile(dump, {
      name: options.name ?? `captured-cpu${options.cpu}`,
      description: `Captured from ${msrPath}`,
      source: `vmx-conformance profile capture (${msrPath})`,
      physicalAddressWidth: options.physicalAddressWidth,
    }),
  );
  return finish(built, options.out);
}
