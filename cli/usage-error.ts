/** A problem with what the user asked for (arguments, files, modules): reported, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of the command line tool. */
export const EXIT = {
  /** The engine conformed on everything that was run. */
  conformant: 0,
  /** A divergence from what the SDM allows was found. */
  divergence: 1,
  /** Bad usage or input: options, case files, profiles, plug-in modules. */
  usage: 2,
} as const;
