/**
 * Every error jobloom raises. Each carries a stable string `code` that callers can switch on,
 * and the original error, when there is one, as `cause`. Subclasses exist only where a caller
 * acts differently on them.
 */

export type JobloomErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_UNKNOWN_KIND'
  | 'ERR_NOT_CLONEABLE'
  | 'ERR_DUPLICATE_KIND'
  | 'ERR_MANAGER_STATE'
  | 'ERR_EXECUTOR_FAILED'
  | 'ERR_EXECUTOR_NOT_FOUND'
  | 'ERR_THREAD_CRASHED'
  | 'ERR_TIMED_OUT'
  | 'ERR_CANCELED'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_STORE_CORRUPT'
  | 'ERR_NOT_FOUND'
  | 'ERR_INVALID_SCHEDULE';

export class JobloomError extends Error {
  readonly code: JobloomErrorCode;

  constructor(code: JobloomErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option, argument or query that jobloom refuses; `path` names the offending field. */
export class InvalidOptionError extends JobloomError {
  readonly path: string;

  constructor(path: string, expected: string, received: unknown, options?: { cause?: unknown }) {
    super(
      'ERR_INVALID_OPTION',
      `${path}: expected ${expected}, received ${describe(received)}`,
      options,
    );
    this.path = path;
  }
}

export class UnknownKindError extends JobloomError {
  readonly kind: string;

  constructor(kind: string) {
    super('ERR_UNKNOWN_KIND', `unknown job kind "${kind}": register it before scheduling it`);
    this.kind = kind;
  }
}

/** A value that cannot cross into a thread; `path` locates it, like `args.items[2].callback`. */
export class NotCloneableError extends JobloomError {
  readonly path: string;

  constructor(path: string, what: string) {
    super('ERR_NOT_CLONEABLE', `${path}: ${what} cannot be sent to a thread`);
    this.path = path;
  }
}

/** An attempt's executor threw, rejected, or could not be loaded. */
export class ExecutorError extends JobloomError {
  constructor(message: string, options?: { cause?: unknown; code?: JobloomErrorCode }) {
    super(options?.code ?? 'ERR_EXECUTOR_FAILED', message, options);
  }
}

/** The thread running an attempt died: an uncaught error, `process.exit()`, a memory limit. */
export class ThreadCrashedError extends JobloomError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_THREAD_CRASHED', message, options);
  }
}

export class TimeoutError extends JobloomError {
  readonly timeoutMs: number;
  /** Whether the attempt ignored its abort signal and its thread had to be terminated. */
  readonly terminated: boolean;

  constructor(timeoutMs: number, terminated: boolean) {
    const how = terminated ? 'its thread was terminated' : 'it stopped on its abort signal';
    super('ERR_TIMED_OUT', `attempt timed out after ${timeoutMs} ms; ${how}`);
    this.timeoutMs = timeoutMs;
    this.terminated = terminated;
  }
}

export class CanceledError extends JobloomError {
  constructor(reason: string) {
    super('ERR_CANCELED', `instance canceled: ${reason}`);
  }
}

/**
 * Thrown by an executor to fail its instance at once, skipping any retries left. It may be
 * thrown from inside a thread: the runner recognises it by name, since prototypes do not
 * survive the trip back to the main thread.
 */
export class DoNotRetryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DoNotRetryError';
  }
}

export class StoreError extends JobloomError {
  constructor(message: string, options?: { cause?: unknown; code?: JobloomErrorCode }) {
    super(options?.code ?? 'ERR_STORE_UNAVAILABLE', message, options);
  }
}

export class ManagerStateError extends JobloomError {
  constructor(message: string) {
    super('ERR_MANAGER_STATE', message);
  }
}

/** A short, safe description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default: {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
    }
  }
}
