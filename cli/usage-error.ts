/** A problem with what the user asked for (arguments, files, modules): reported, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of the command line tool (the README lists them too). */
export const EXIT = {
  /** The engine conformed on everything that was run. */
  conformant: 0,
  /** A divergence from what the SDM allows was found. */
  divergence: 1,
  /** Bad usage or input: options, case files, profiles, plug-in modules, an unwritable --out. */
  usage: 2,
  /** The emulator failed to answer: it crashed, hung, sent garbage or broke the plug-in protocol. */
  fault: 3,
  /** No divergence, but too many cases ended at steps the engine does not implement (see run.ts). */
  incomplete: 4,
  /** Interrupted (Ctrl-C): 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;
