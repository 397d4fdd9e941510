import type { LogLevel } from '../types.js';
import type { AttemptTask, HostApi } from './protocol.js';

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
  /** How many calls this attempt made to the main thread so far. */
  hostCalls(): number;
}

/**
 * Builds an attempt's context. Its calls to the main thread are posted without waiting for
 * an answer; the outcome carries their count so the main thread can wait for all of them.
 */
export function createContext(
  task: AttemptTask,
  signal: AbortSignal,
  host: HostApi,
): ExecutorContext {
  let calls = 0;
  const call = (send: () => unknown) => {
    calls++;
    const sent = send() as Promise<unknown> | undefined;
    sent?.catch?.(() => {});
  };

  const write = (level: LogLevel) => (message: string, data?: unknown) =>
    call(() => host.log(task.key, level, String(message), cloneable(data), Date.now()));

  const api: ExecutorContextApi = {
    instanceId: task.instanceId,
    kind: task.kind,
    attempt: task.attempt,
    signal,
    log: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
    progress: (value) => call(() => host.progress(task.key, cloneable(value), Date.now())),
  };
  return { api, hostCalls: () => calls };
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
