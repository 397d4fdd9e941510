import type { Logger } from 'pino';
import type { LiveInstance } from './live-instance.js';

/** pino's number for the debug level. */
const DEBUG_LEVEL = 20;

/**
 * Child loggers bound to what a line is about: one per kind, kept; one per instance and
 * attempt, made only when a line is about to be written, so routine work costs nothing
 * while its level is off.
 */
export class Loggers {
  readonly root: Logger;
  readonly #byKind = new Map<string, Logger>();

  constructor(root: Logger) {
    this.root = root;
  }

  forKind(kind: string): Logger {
    let logger = this.#byKind.get(kind);
    if (!logger) {
      logger = this.root.child({ kind });
      this.#byKind.set(kind, logger);
    }
    return logger;
  }

  forInstance(live: LiveInstance): Logger {
    return this.forKind(live.job.kind).child({ instanceId: live.id, attempt: live.attempt });
  }

  /** Whether a debug line would be written; checked before building one, so kept cheap. */
  get debug(): boolean {
    return this.root.levelVal <= DEBUG_LEVEL;
  }
}
