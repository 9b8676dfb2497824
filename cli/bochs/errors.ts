/** Errors of the Bochs adapter's set-up (missing tools), as opposed to faults of a running Bochs. */

/** nasm missing or failing, an unusable work directory: the run cannot start. */
export class BochsSetupError extends Error {
  override readonly name = 'BochsSetupError';
}
