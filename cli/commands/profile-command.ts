/**
 * Registers `vmx-conformance profile import|capture` on the command line (the commands are in
 * profile.ts); kept apart so cli/main.ts needs one line.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { DUMP_FORMATS } from '../profile-import/read-dump.ts';
import { captureCommand, importCommand } from './profile.ts';

function integer(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('not a non-negative integer');
  return Number(text);
}

/** Adds the `profile` command and its subcommands to `cli`; `resolveExit` receives exit codes. */
export function addProfileCommand(cli: Command, resolveExit: (code: number) => void): void {
  const profile = cli.command('profile').description('make processor profiles from what real processors report');
  profile
    .command('import')
    .description('write a profile from an AIDA64 CPUID dump, an rdmsr-style listing or an MSR image')
    .argument('<file>', 'the dump')
    .option('--name <id>', 'profile name (default: from the file name)')
    .option('--out <file>', 'write the profile here (default: standard output)')
    .option('--physical-address-width <n>', 'MAXPHYADDR, when the dump has no CPUID 80000008H (default 36)', integer)
    .option('--format <format>', `dump format instead of guessing it: ${DUMP_FORMATS.join(', ')}`)
    .action((file: string, opts) => resolveExit(importCommand(file, opts)));
  profile
    .command('capture')
    .description("write a profile from this machine's /dev/cpu/N/msr (Linux, msr module, root)")
    .option('--cpu <n>', 'logical processor to read', integer, 0)
    .option('--name <id>', 'profile name (default: captured-cpu<n>)')
    .option('--out <file>', 'write the profile here (default: standard output)')
    .option('--physical-address-width <n>', 'MAXPHYADDR, when /dev/cpu/N/cpuid cannot be read (default 36)', integer)
    .option('--msr-file <path>', 'read this file instead of /dev/cpu/N/msr (8 bytes at offset = MSR index)')
    .option('--cpuid-file <path>', 'read this file instead of /dev/cpu/N/cpuid (16 bytes at offset = leaf)')
    .action((opts) => resolveExit(captureCommand(opts)));
}
