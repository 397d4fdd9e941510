import { type Clock, systemClock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import {
  checkDurationMs,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
  optional,
} from '../validate/options.js';

export interface SqliteStoreOptions {
  /**
   * The database file. It is created, with its schema, when missing; its directory must exist.
   * While a store has it open no other connection can use it (see sqlite-store.ts).
   */
  path: string;
  /**
   * How long opening waits for another connection to release its lock before failing with a
   * StoreError, in ms. Default 2,000. (Once open, the store holds the file's lock itself, so no
   * later call ever waits on it.)
   */
  busyTimeoutMs?: number;
  /**
   * How hard a committed write is pushed to disk. `normal` (the default): a committed batch
   * survives the process crashing or being killed; a power loss or OS crash may lose the
   * batches committed since the last checkpoint, but never corrupts the file. `full`: every
   * committed batch survives a power loss too, at the price of one fsync per batch.
   */
  synchronous?: 'normal' | 'full';
  /**
   * Retention by count: keep at most this many instances in a final state; those that
   * finished first are removed first, with their history and logs. `Infinity` keeps all.
   * Default 100,000 (about 90 MB of file for short jobs without log lines; see below).
   */
  maxFinished?: number;
  /**
   * Retention by age: remove instances that reached a final state more than this long ago,
   * with their history and logs, in ms. `Infinity` keeps them. Default 604,800,000 (7 days).
   */
  maxFinishedAgeMs?: number;
  /**
   * How many log lines to keep per instance, finished or not; past it the oldest are deleted
   * as new ones are written, and counted in the store's `droppedLogLines`. A count, or
   * `Infinity` to keep all. Default 10,000.
   */
  maxLogLinesPerInstance?: number;
  /**
   * Retention runs after a write at most once per this interval, in ms, so its cost is spread
   * over many batches; it also runs when the store opens. Default 1,000.
   */
  pruneIntervalMs?: number;
  /**
   * The largest the database may grow to, in bytes (rounded down to whole pages). A write that
   * needs more fails with a StoreError and changes nothing; what is stored stays readable.
   * Default: no limit but the disk's.
   */
  maxSizeBytes?: number;
  /** Reads the time for retention. Default: the system clock. */
  clock?: Clock;
}

/**
 * Retention is on by default, as in the memory store, so that a service running for months
 * does not fill its disk with history nobody asked to keep (a finished instance takes about
 * 0.9 KB of file, more with log lines: a job a second is 75 MB a day). The limits are a disk's,
 * not memory's: a week, so a batch that ran over a weekend can still be looked at; 100,000
 * instances, so the file stays near 90 MB and a retention pass stays cheap; and 10,000 lines
 * per instance (the memory store keeps 1,000), so one that runs for days logging all the while
 * stays within a few MB. Unfinished instances are never removed, only their oldest lines.
 */
export const SQLITE_STORE_RETENTION = {
  maxFinished: 100_000,
  maxFinishedAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxLogLinesPerInstance: 10_000,
} as const;

export interface ResolvedSqliteStoreOptions {
  path: string;
  busyTimeoutMs: number;
  synchronous: 'normal' | 'full';
  maxFinished: number;
  maxFinishedAgeMs: number;
  maxLogLinesPerInstance: number;
  pruneIntervalMs: number;
  maxSizeBytes: number;
  clock: Clock;
}

/** What the store's own thread needs to open and run the file: everything but the clock. */
export type EngineOptions = Omit<ResolvedSqliteStoreOptions, 'clock'>;

const KEYS = [
  'path',
  'busyTimeoutMs',
  'synchronous',
  'maxFinished',
  'maxFinishedAgeMs',
  'maxLogLinesPerInstance',
  'pruneIntervalMs',
  'maxSizeBytes',
  'clock',
] as const;

/** better-sqlite3 refuses a busy timeout above a signed 32-bit integer. */
const MAX_BUSY_TIMEOUT_MS = 2_147_483_647;

export function resolveSqliteStoreOptions(value: unknown): ResolvedSqliteStoreOptions {
  const options = checkObject(value, 'options');
  checkKnownKeys(options, KEYS, 'options');

  const count = (path: string) => orNone((v) => checkInteger(v, path, { min: 0 }));
  return {
    path: checkString(options.path, 'options.path'),
    busyTimeoutMs: optional(options.busyTimeoutMs, 2_000, (v) =>
      checkInteger(v, 'options.busyTimeoutMs', { min: 0, max: MAX_BUSY_TIMEOUT_MS }),
    ),
    synchronous: optional(options.synchronous, 'normal' as const, (v) =>
      checkOneOf(v, 'options.synchronous', ['normal', 'full'] as const),
    ),
    maxFinished: optional(
      options.maxFinished,
      SQLITE_STORE_RETENTION.maxFinished,
      count('options.maxFinished'),
    ),
    maxFinishedAgeMs: optional(
      options.maxFinishedAgeMs,
      SQLITE_STORE_RETENTION.maxFinishedAgeMs,
      orNone((v) => checkDurationMs(v, 'options.maxFinishedAgeMs')),
    ),
    maxLogLinesPerInstance: optional(
      options.maxLogLinesPerInstance,
      SQLITE_STORE_RETENTION.maxLogLinesPerInstance,
      count('options.maxLogLinesPerInstance'),
    ),
    pruneIntervalMs: optional(options.pruneIntervalMs, 1_000, (v) =>
      checkDurationMs(v, 'options.pruneIntervalMs'),
    ),
    maxSizeBytes: optional(options.maxSizeBytes, Infinity, count('options.maxSizeBytes')),
    clock: optional(options.clock, systemClock, (v) => checkClock(v, 'options.clock')),
  };
}

/** A limit that also accepts Infinity, meaning none. */
function orNone(check: (value: unknown) => number): (value: unknown) => number {
  return (value) => (value === Infinity ? value : check(value));
}

function checkClock(value: unknown, path: string): Clock {
  const clock = value as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new InvalidOptionError(path, 'a Clock with a now() method', value);
  }
  return value as Clock;
}
