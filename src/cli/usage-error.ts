/**
 * A mistake in the command line: a missing or malformed flag, or a value the library refused.
 * The CLI prints its message, which names the flag, and exits with code 2. It is the CLI's
 * own: the library reports the same mistakes as InvalidOptionError, naming the option.
 */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}
