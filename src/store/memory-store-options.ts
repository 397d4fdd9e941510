import { type Clock, systemClock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import { checkFunction, checkKnownKeys, checkObject, optional } from '../validate/options.js';

export interface MemoryStoreOptions {
  /**
   * How many finished instances (completed, failed, canceled, timed out) to keep, with their
   * history and logs; past it the oldest finished are evicted. A count, or `Infinity` to keep
   * all. Default 10,000.
   */
  maxFinished?: number;
  /**
   * How long a finished instance is kept after it finished (its `finishedAt`, else its
   * `updatedAt`), in ms, or `Infinity` for no age limit. Default 86,400,000 (24 hours).
   */
  maxFinishedAgeMs?: number;
  /**
   * How many log lines to keep per instance; past it the oldest lines are dropped and counted
   * in `droppedLogLines`. A count, or `Infinity` to keep all. Default 1,000.
   */
  maxLogLinesPerInstance?: number;
  /** Where the age limit reads the time. Default `systemClock`. */
  clock?: Clock;
}

export const MEMORY_STORE_DEFAULTS = {
  maxFinished: 10_000,
  maxFinishedAgeMs: 24 * 60 * 60 * 1000,
  maxLogLinesPerInstance: 1_000,
} as const;

const OPTION_KEYS = ['maxFinished', 'maxFinishedAgeMs', 'maxLogLinesPerInstance', 'clock'];

export interface MemoryStoreSettings {
  maxFinished: number;
  maxFinishedAgeMs: number;
  maxLogLinesPerInstance: number;
  clock: Clock;
}

/** Checks the options once, at construction, and fills in the defaults. */
export function resolveMemoryStoreOptions(options: MemoryStoreOptions): MemoryStoreSettings {
  const given = checkObject(options, 'options');
  checkKnownKeys(given, OPTION_KEYS, 'options');
  const defaults = MEMORY_STORE_DEFAULTS;
  return {
    maxFinished: optional(given.maxFinished, defaults.maxFinished, (value) =>
      checkLimit(value, 'options.maxFinished', true),
    ),
    maxFinishedAgeMs: optional(given.maxFinishedAgeMs, defaults.maxFinishedAgeMs, (value) =>
      checkLimit(value, 'options.maxFinishedAgeMs', false),
    ),
    maxLogLinesPerInstance: optional(
      given.maxLogLinesPerInstance,
      defaults.maxLogLinesPerInstance,
      (v) => checkLimit(v, 'options.maxLogLinesPerInstance', true),
    ),
    clock: optional(given.clock, systemClock, checkClock),
  };
}

/** A count (`integer`) or a duration in ms, zero or more, or `Infinity` for no limit. */
function checkLimit(value: unknown, path: string, integer: boolean): number {
  const valid =
    typeof value === 'number' &&
    value >= 0 &&
    (value === Number.POSITIVE_INFINITY || !integer || Number.isInteger(value));
  if (!valid) {
    const expected = integer
      ? 'an integer >= 0, or Infinity'
      : 'a duration in ms >= 0, or Infinity';
    throw new InvalidOptionError(path, expected, value);
  }
  return value;
}

function checkClock(value: unknown): Clock {
  const clock = checkObject(value, 'options.clock');
  checkFunction(clock.now, 'options.clock.now');
  return value as Clock;
}
