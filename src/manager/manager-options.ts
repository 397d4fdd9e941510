import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import { MemoryStore } from '../store/memory-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { checkString } from '../validate/options.js';

export interface JobManagerOptions {
  /**
   * Threads in the pool; change it later with `resize()`. Default: the machine's available
   * parallelism.
   */
  concurrency?: number;
  /** Where instances and history live. Default: a MemoryStore with its default retention. */
  store?: Store;
  /**
   * A SQLite file to keep instances, schedules and history in, so nothing is lost when the
   * process dies; shorthand for `store: new SqliteStore({ path })`. Not together with `store`.
   */
  database?: string;
  /** A pino logger; jobloom logs through child loggers of it. Default: silent. */
  logger?: Logger;
  /** The time source for delays, retries and timeouts. Default: the system clock. */
  clock?: Clock;
  /**
   * Attempts each thread holds at once: one running and the rest waiting behind it, so a thread
   * starts its next attempt without a round trip to the main thread. 1 turns this off. Default 2.
   */
  prefetch?: number;
  /**
   * After a timed-out or canceled attempt's signal is aborted, how long it may take to stop
   * before its thread is terminated, in ms. Default 1000.
   */
  terminateGraceMs?: number;
  /**
   * Memory limits of each thread (Node's `ResourceLimits`); a thread past them fails its
   * attempt.
   */
  resourceLimits?: ResourceLimits;
  /**
   * Node flags for the threads. Default: the process's own, so a TypeScript loader carries
   * over.
   */
  execArgv?: string[];
  /**
   * How long history writes gather before going to the store as one batch, in ms. Default 0
   * for the memory store, 5 otherwise.
   */
  historyBatchDelayMs?: number;
  /** IANA timezone of cron schedules that name none. Default `UTC`. */
  timezone?: string;
  /**
   * How much lower the threads' scheduling priority is than the main thread's, as a nice
   * increment (0 to 19). With every core busy running executors, the main thread still gets a
   * core the moment a timer is due, so delays and schedules fire on time. Default 10; 0 keeps
   * the threads at the process's own priority.
   */
  threadNice?: number;
}

export const MANAGER_OPTION_KEYS = [
  'concurrency',
  'store',
  'database',
  'logger',
  'clock',
  'prefetch',
  'terminateGraceMs',
  'resourceLimits',
  'execArgv',
  'historyBatchDelayMs',
  'timezone',
  'threadNice',
];

/** The store the options ask for: a given one, a SQLite file, or memory. */
export function resolveStore(options: JobManagerOptions, clock: Clock): Store {
  if (options.database === undefined) return options.store ?? new MemoryStore({ clock });
  if (options.store !== undefined) {
    throw new InvalidOptionError(
      'options.database',
      'either store or database, not both',
      options.database,
    );
  }
  const path = checkString(options.database, 'options.database');
  return new SqliteStore({ path, clock });
}
