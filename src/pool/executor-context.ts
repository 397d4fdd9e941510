import type { LogLevel } from '../types.js';
import type { AttemptTask, HostApi, HostEntry } from './protocol.js';

/** What an executor receives as its second argument. */
export interface ExecutorContextApi {
  /** The instance this attempt belongs to. */
  readonly instanceId: string;
  readonly kind: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Aborted when the attempt times out or its instance is canceled. */
  readonly signal: AbortSignal;
  /** Lines go to the instance's log history, in the order they are written. */
  readonly log: ExecutorLogger;
  /** Reports progress (any cloneable value, such as a fraction or `{ done, total }`). */
  progress(value: unknown): void;
}

export type ExecutorLogger = Record<LogLevel, (message: string, data?: unknown) => void>;

/** The function a worker module exports. Sync or async. */
export type Executor<Args = never, Result = unknown> = (
  args: Args,
  context: ExecutorContextApi,
) => Result | Promise<Result>;

export interface ExecutorContext {
  api: ExecutorContextApi;
  /** Sends what is buffered now; called before the outcome leaves. */
  flush(): void;
  /** How many calls this attempt made to the main thread so far. */
  hostCalls(): number;
}

/** Entries sent in one call at most. */
const MAX_ENTRIES_PER_CALL = 64;
/** A buffer older than this goes out with the next entry, so a long loop's lines stream. */
const MAX_HOLD_MS = 5;

/**
 * Builds an attempt's context. Log lines and progress gather in a buffer that goes to the
 * main thread as one call: at the end of the current turn, when it is full, when it has waited
 * MAX_HOLD_MS, and before the outcome. Calls are posted without waiting for an answer; the
 * outcome carries their count so the main thread can wait for all of them.
 */
export function createContext(
  task: AttemptTask,
  signal: AbortSignal,
  host: HostApi,
): ExecutorContext {
  let calls = 0;
  let buffer: HostEntry[] = [];
  let heldSince = 0;

  const flush = () => {
    if (buffer.length === 0) return;
    const entries = buffer;
    buffer = [];
    calls++;
    const sent = host.report(task.key, entries) as Promise<unknown> | undefined;
    sent?.catch?.(() => {});
  };
  const add = (entry: HostEntry) => {
    if (buffer.length === 0) {
      heldSince = performance.now();
      queueMicrotask(flush);
    }
    buffer.push(entry);
    if (buffer.length >= MAX_ENTRIES_PER_CALL || performance.now() - heldSince >= MAX_HOLD_MS) {
      flush();
    }
  };

  const write = (level: LogLevel) => (message: string, data?: unknown) =>
    add({ type: 'log', level, message: String(message), data: cloneable(data), at: Date.now() });

  const api: ExecutorContextApi = {
    instanceId: task.instanceId,
    kind: task.kind,
    attempt: task.attempt,
    signal,
    log: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
    progress: (value) => add({ type: 'progress', value: cloneable(value), at: Date.now() }),
  };
  return { api, flush, hostCalls: () => calls };
}

/** Log data that cannot be cloned is kept as text rather than failing the executor. */
function cloneable(value: unknown): unknown {
  if (value === undefined || value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  }
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}
