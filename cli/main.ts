/**
 * The `vmx-conformance` command line: `run`, `replay`, `merge`, `explain`, `spec` and `profile`. Exit codes:
 * 0 conformant, 1 divergence found, 2 usage or input error, 3 emulator fault (a plug-in or an
 * `--emulator-cmd` process that crashed, hung or broke its protocol), 4 incomplete (see
 * usage-error.ts).
 */
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { addProfileCommand } from './commands/profile-command.ts';
import { explainCommand } from './commands/explain.ts';
import { replayCommand } from './commands/replay.ts';
import { mergeCommand } from './commands/merge.ts';
import { runCommand } from './commands/run.ts';
import { specCommand, SPEC_TABLES } from './commands/spec.ts';
import { EmulatorFault } from './engine-fault.ts';
import { reportFault } from './fault-report.ts';
import { EXIT, UsageError } from './usage-error.ts';

/** The tool's version, from package.json. */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** The commands `help <command>` knows. */
const COMMANDS = ['run', 'replay', 'merge', 'spec', 'help'];

function integer(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError('not an integer');
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('too large to be taken exactly');
  return value;
}

function positive(text: string): number {
  const value = integer(text);
  if (value < 1) throw new InvalidArgumentError('must be a positive number of milliseconds');
  return value;
}

function program(resolveExit: (code: number) => void): Command {
  const cli = new Command('vmx-conformance')
    .description('Conformance suite for Intel VMX: checks an engine against an executable model of the SDM')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError('(run vmx-conformance --help for usage)');

  cli
    .command('run')
    .description('run the conformance suite (differential and metamorphic properties) against an engine')
    .option('--emulator <module>', 'plug-in module exporting an engine factory (default: our emulator)')
    .option('--emulator-cmd <command>', 'emulator program speaking the process protocol (docs/protocol.md), with its arguments')
    .option('--profile <name|file>', 'processor profile: a built-in name or a profile JSON file (default: skylake, or what --emulator-cmd announces)')
    .option('--seed <n>', 'fast-check seed (default: random, printed)', integer)
    .option('--runs <n>', 'random operation sequences for the differential property', integer, 1000)
    .option('--max-steps <n>', 'most random steps per sequence', integer, 40)
    .option('--cpus <n>', 'logical processors sharing memory', integer, 2)
    .option('--out <dir>', 'where failing cases and traces are saved', 'failures')
    .option('--json', 'print a JSON report on standard output instead of text')
    .option('--step-timeout <ms>', 'time a plug-in may take per call before it counts as hung', positive, 10_000)
    .option('--handshake-timeout <ms>', 'time a plug-in may take to load, or an --emulator-cmd process to answer the hello, before it counts as hung', positive, 30_000)
    .option('--in-process', 'run the plug-in in the main thread (faster, but a hang or crash cannot be stopped)')
    .option('--bochs-model <cpu>', 'with --emulator bochs: the Bochs CPU model (corei7_skylake_x, core2_penryn_t9600, tigerlake, ...)')
    .option('--batch <n>', 'with --emulator bochs: cases per Bochs boot', integer)
    .option('--boot-timeout <ms>', 'with --emulator bochs: time one Bochs boot may take before it counts as hung', positive)
    .option('--mix <mix>', 'with --emulator bochs: all (default), or no-guests: leave out the steps that build a guest, and count a VM entry the agent cannot follow as outside the mix')
    .option('--silence-timeout <ms>', 'with --emulator bochs: time the running agent may print nothing before its Bochs counts as hung (default 10000)', positive)
    .option('--known-divergences <file>', 'with --emulator bochs: acknowledge the recorded divergences of this file (still listed)')
    .option('--jobs <n>', 'worker threads running cases in parallel; the results do not depend on it (default: the cores)', integer)
    .option('--shard <i/n>', 'run only the i-th of n shares of the cases, for splitting a run across machines (combine the --json reports with merge)')
    .action(async (opts) => resolveExit(await runCommand(opts)));

  cli
    .command('merge')
    .description('combine the --json reports of the shards of one run (run --shard i/n) into the report of the whole run')
    .argument('<report.json...>', 'the JSON reports of every shard, in any order')
    .option('--json', 'print the merged JSON report (default: a summary)')
    .action((files: string[], opts) => resolveExit(mergeCommand(files, opts)));

  cli
    .command('replay')
    .description('replay a saved case on an engine beside the model and print its trace')
    .argument('<case.json>', 'case file written by run (or by hand)')
    .option('--emulator <module>', 'plug-in module exporting an engine factory (default: our emulator)')
    .option('--emulator-cmd <command>', 'emulator program speaking the process protocol (docs/protocol.md), with its arguments')
    .option('--json', 'print the compared steps as JSON')
    .option('--step-timeout <ms>', 'time a plug-in may take per call before it counts as hung', positive, 10_000)
    .option('--handshake-timeout <ms>', 'time a plug-in may take to load, or an --emulator-cmd process to answer the hello, before it counts as hung', positive, 30_000)
    .option('--in-process', 'run the plug-in in the main thread')
    .option('--bochs-model <cpu>', 'with --emulator bochs: the Bochs CPU model')
    .option('--boot-timeout <ms>', 'with --emulator bochs: time the Bochs boot may take before it counts as hung', positive)
    .action(async (file: string, opts) => resolveExit(await replayCommand(file, opts)));

  cli
    .command('spec')
    .description('print a table of the SDM data in spec/')
    .addArgument(new Argument('<table>', 'table to print').choices(SPEC_TABLES))
    .option('--json', 'print JSON')
    .action((table: string, opts) => resolveExit(specCommand(table, opts)));

  cli
    .command('explain')
    .description('list every VM-entry check a VMCS fails, from a KVM or Xen log dump or the JSON form (exit 1 when one fails)')
    .argument('<file>', 'a kernel or Xen log holding a VMCS dump, or a vmx-conformance-vmcs/1 JSON file')
    .option('--profile <name|file>', 'the processor the VMCS was used on: a built-in profile name or a profile JSON file', 'skylake')
    .option('--json', 'print JSON')
    .action((file: string, opts) => resolveExit(explainCommand(file, opts)));

  addProfileCommand(cli, resolveExit);

  cli.addOption(new Option('--no-color', 'plain output'));
  return cli;
}

let pipeHandled = false;

/**
 * `vmx-conformance run | head -1`: once the reader has gone, writes fail with EPIPE. That is not
 * an error of the run: stop writing quietly and let it end with its own exit code.
 */
function quietOnClosedPipe(): void {
  if (pipeHandled) return;
  pipeHandled = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

/** Runs the command line with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedPipe();
  let code: number = EXIT.usage;
  const cli = program((c) => {
    code = c;
  });
  if (argv[0] === 'help' && argv[1] !== undefined && !COMMANDS.includes(argv[1])) {
    process.stderr.write(`vmx-conformance: no command "${argv[1]}" (commands: ${COMMANDS.join(', ')})\n`);
    return EXIT.usage;
  }
  if (argv.length === 0) {
    cli.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? EXIT.conformant : EXIT.usage;
    }
    if (error instanceof EmulatorFault && error.command !== undefined) return reportFault(error, { out: 'failures', profileRef: '', profileName: '', save: false });
    if (error instanceof EmulatorFault) {
      process.stderr.write(`vmx-conformance: ${error.message}\n`);
      return EXIT.fault;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`vmx-conformance: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof Error && error.name === 'ModelInputError') {
      process.stderr.write(`vmx-conformance: the case is malformed: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}
