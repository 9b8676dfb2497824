/**
 * The `vmx-conformance` command line: `run`, `replay` and `spec`. Exit codes: 0 conformant,
 * 1 divergence found, 2 usage or input error.
 */
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { explainCommand } from './commands/explain.ts';
import { replayCommand } from './commands/replay.ts';
import { runCommand } from './commands/run.ts';
import { specCommand, SPEC_TABLES } from './commands/spec.ts';
import { EXIT, UsageError } from './usage-error.ts';

function integer(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError('not an integer');
  return Number(text);
}

function program(resolveExit: (code: number) => void): Command {
  const cli = new Command('vmx-conformance')
    .description('Conformance suite for Intel VMX: checks an engine against an executable model of the SDM')
    .exitOverride()
    .showHelpAfterError('(run vmx-conformance --help for usage)');

  cli
    .command('run')
    .description('run the conformance suite (differential and metamorphic properties) against an engine')
    .option('--emulator <module>', 'plug-in module exporting an engine factory (default: our emulator)')
    .option('--profile <name|file>', 'processor profile: a built-in name or a profile JSON file', 'skylake')
    .option('--seed <n>', 'fast-check seed (default: random, printed)', integer)
    .option('--runs <n>', 'random operation sequences for the differential property', integer, 1000)
    .option('--max-steps <n>', 'most random steps per sequence', integer, 40)
    .option('--cpus <n>', 'logical processors sharing memory', integer, 2)
    .option('--out <dir>', 'where failing cases and traces are saved', 'failures')
    .option('--json', 'print a JSON report on standard output instead of text')
    .option('--step-timeout <ms>', 'time a plug-in may take per call before it counts as hung', integer, 10_000)
    .option('--in-process', 'run the plug-in in the main thread (faster, but a hang cannot be stopped)')
    .action(async (opts) => resolveExit(await runCommand(opts)));

  cli
    .command('replay')
    .description('replay a saved case on an engine beside the model and print its trace')
    .argument('<case.json>', 'case file written by run (or by hand)')
    .option('--emulator <module>', 'plug-in module exporting an engine factory (default: our emulator)')
    .option('--json', 'print the compared steps as JSON')
    .option('--step-timeout <ms>', 'time a plug-in may take per call before it counts as hung', integer, 10_000)
    .option('--in-process', 'run the plug-in in the main thread')
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

  cli.addOption(new Option('--no-color', 'plain output'));
  return cli;
}

/** Runs the command line with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.usage;
  const cli = program((c) => {
    code = c;
  });
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    if (argv.length === 0) {
      cli.outputHelp();
      return EXIT.usage;
    }
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? EXIT.conformant : EXIT.usage;
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
