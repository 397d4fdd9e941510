/**
 * The records jobloom keeps about instances, shared by the manager and every store.
 *
 * Instance state machine (one instance, any number of attempts):
 *
 *   created ─► scheduled ─► queued ─► running ─► completed
 *                 ▲                      │  ├──► failed      (no retries left, or DoNotRetryError)
 *                 └──── retry backoff ◄──┘  ├──► timed_out   (last attempt ran past its timeout)
 *                                           └──► canceled
 *   canceled is also reachable from scheduled and queued.
 *
 * `scheduled` means waiting for its due time (a delay, a date, or a retry's backoff); `queued`
 * means due and waiting in the ready queue for a free slot; `running` means an attempt is on a
 * thread. A retry shows as a new `scheduled` transition whose `attempt` is the next attempt.
 */

export const INSTANCE_STATES = [
  'created',
  'scheduled',
  'queued',
  'running',
  'completed',
  'failed',
  'canceled',
  'timed_out',
] as const;

export type InstanceState = (typeof INSTANCE_STATES)[number];

export const FINAL_STATES: ReadonlySet<InstanceState> = new Set([
  'completed',
  'failed',
  'canceled',
  'timed_out',
]);

export const ACTIVE_STATES: ReadonlySet<InstanceState> = new Set([
  'created',
  'scheduled',
  'queued',
  'running',
]);

export function isFinalState(state: InstanceState): boolean {
  return FINAL_STATES.has(state);
}

/**
 * Priorities: a lower number runs first, as in go-job. Equal priorities run first-in,
 * first-out.
 */
export const Priority = {
  HIGHEST: 0,
  HIGH: 2,
  DEFAULT: 5,
  LOW: 8,
  LOWEST: 10,
} as const;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** An error as it travels between threads and into a store: plain data, causes kept. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: SerializedError;
}

export interface BackoffPolicy {
  /** `fixed` waits `delayMs` before every retry; `exponential` doubles it (times `factor`). */
  type: 'fixed' | 'exponential';
  /** Base delay before the first retry, in ms. */
  delayMs: number;
  /** Growth per retry for `exponential`. */
  factor: number;
  /** Upper bound of any one delay, in ms. */
  maxDelayMs: number;
  /** Spread applied to each delay as a fraction: 0.2 means ±20%. */
  jitter: number;
}

/** One instance as a store holds it. Every per-call option needed to run it again is here. */
export interface InstanceRecord {
  id: string;
  kind: string;
  args: unknown;
  /** Lower runs first. */
  priority: number;
  state: InstanceState;
  /** Attempts started so far (0 until the first attempt runs). */
  attempt: number;
  /** Retries allowed after the first attempt; `Infinity` for unlimited. */
  maxRetries: number;
  /** Per-attempt timeout in ms, or null for none. */
  timeoutMs: number | null;
  backoff: BackoffPolicy;
  /** When the instance was accepted, ms since the epoch. */
  createdAt: number;
  /** When its next attempt becomes due, ms since the epoch. */
  dueAt: number;
  updatedAt: number;
  /** When its latest attempt started. */
  startedAt: number | null;
  /** When it reached its final state. */
  finishedAt: number | null;
  result?: unknown;
  error?: SerializedError;
  /** The latest progress its executor reported. */
  progress?: unknown;
  /** The schedule that created it, the time it was due for, and whether it is a catch-up run. */
  scheduleId?: string;
  dueFor?: number;
  catchUp?: boolean;
  /** Which process holds it and until when (stores shared by many processes). */
  owner?: string | null;
  leaseUntil?: number | null;
}

/** One entry of an instance's state history. */
export interface StateTransition {
  instanceId: string;
  kind: string;
  state: InstanceState;
  attempt: number;
  at: number;
  /** Orders entries written in the same millisecond. Assigned by the writer, increasing. */
  seq: number;
  error?: SerializedError;
  result?: unknown;
  /** Why this transition happened, in words: "retry in 400 ms", "canceled by query". */
  reason?: string;
}

/** One line of an instance's log history. */
export interface LogLine {
  instanceId: string;
  kind: string;
  attempt: number;
  level: LogLevel;
  message: string;
  data?: unknown;
  at: number;
  seq: number;
}

/** A recurring rule as a store holds it; the scheduler owns the meaning of `spec`. */
export interface ScheduleRecord {
  id: string;
  kind: string;
  spec: Record<string, unknown>;
  paused: boolean;
  nextRunAt: number | null;
  lastRunAt: number | null;
  runCount: number;
  createdAt: number;
  updatedAt: number;
}

type OneOrMany<T> = T | readonly T[];

/**
 * Which instances to list. Bounds on time are half-open: `after` is exclusive, `before` is
 * exclusive. Results come ordered by `createdAt`, then `id`, ascending unless `order` is
 * `desc`, so the same query over the same data always returns the same list.
 */
export interface InstanceQuery {
  ids?: readonly string[];
  kind?: OneOrMany<string>;
  state?: OneOrMany<InstanceState>;
  scheduleId?: string;
  /** Created strictly after this time, ms since the epoch. */
  createdAfter?: number;
  /** Created strictly before this time, ms since the epoch. */
  createdBefore?: number;
  limit?: number;
  offset?: number;
  order?: 'asc' | 'desc';
}

/** Which state history entries to list, ordered by `at`, then `seq`. */
export interface HistoryQuery {
  instanceId?: string;
  kind?: OneOrMany<string>;
  state?: OneOrMany<InstanceState>;
  after?: number;
  before?: number;
  limit?: number;
  offset?: number;
  order?: 'asc' | 'desc';
}

/** Which log lines to list, ordered by `at`, then `seq`. `minLevel` keeps that level and above. */
export interface LogQuery {
  instanceId?: string;
  kind?: OneOrMany<string>;
  level?: OneOrMany<LogLevel>;
  minLevel?: LogLevel;
  after?: number;
  before?: number;
  limit?: number;
  offset?: number;
  order?: 'asc' | 'desc';
}

/**
 * What a clean-up removes. `finishedBefore` is required: there is no filter that silently
 * matches everything. Only instances in a final state are removed, with their history and logs.
 */
export interface ClearFilter {
  finishedBefore: number;
  kind?: OneOrMany<string>;
  state?: OneOrMany<InstanceState>;
}

export interface LogClearFilter {
  before: number;
  kind?: OneOrMany<string>;
  instanceId?: string;
}
