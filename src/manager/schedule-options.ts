import { InvalidOptionError } from '../errors.js';
import { checkDurationMs, checkKnownKeys, checkObject } from '../validate/options.js';
import type { Job, JobHandlers, JobPolicy, ResolvedPolicy } from './job-registry.js';
import { resolveHandlers, resolvePolicy } from './job-registry.js';

/** Per-call options of `schedule()`: when to run, and overrides of the job's defaults. */
export interface ScheduleOptions<Result = unknown> extends JobPolicy, JobHandlers<Result> {
  /** Run after this many ms. Default 0 (now). Not together with `at`. */
  delayMs?: number;
  /** Run at this time (a Date or ms since the epoch); a time in the past means now. */
  at?: Date | number;
}

export interface ResolvedScheduleOptions extends ResolvedPolicy {
  dueAt: number;
  handlers: JobHandlers;
}

const SCHEDULE_KEYS = [
  'delayMs',
  'at',
  'priority',
  'timeoutMs',
  'maxRetries',
  'backoff',
  'onComplete',
  'onTerminate',
  'onStateChange',
];

/** Validates `schedule()` options over the job's defaults; throws before anything changes. */
export function resolveScheduleOptions(
  job: Job,
  value: ScheduleOptions | undefined,
  now: number,
): ResolvedScheduleOptions {
  if (value === undefined) {
    const { priority, timeoutMs, maxRetries, backoff, handlers } = job;
    return { priority, timeoutMs, maxRetries, backoff, handlers, dueAt: now };
  }
  const options = checkObject(value, 'options');
  checkKnownKeys(options, SCHEDULE_KEYS, 'options');
  const policy = resolvePolicy(options, 'options', job);
  const handlers = resolveHandlers(options, 'options', job.handlers);
  return { ...policy, dueAt: resolveDueAt(options, now), handlers };
}

function resolveDueAt(options: Record<string, unknown>, now: number): number {
  const { delayMs, at } = options;
  if (delayMs !== undefined && at !== undefined) {
    throw new InvalidOptionError('options.at', 'either delayMs or at, not both', at);
  }
  if (delayMs !== undefined) return now + checkDurationMs(delayMs, 'options.delayMs');
  if (at === undefined) return now;

  const time = at instanceof Date ? at.getTime() : at;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new InvalidOptionError('options.at', 'a valid Date or ms since the epoch', at);
  }
  return Math.max(now, time);
}
