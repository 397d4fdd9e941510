/**
 * Schedule maths: which times a schedule's rule names. Pure functions of a rule and a
 * reference instant (ms since the epoch); nothing here reads the clock or arms a timer.
 *
 * A rule is a series (a cron expression or a fixed interval, see `series.ts` and
 * `cron-series.ts` for how DST is handled) cut to a window: runs at or after `startAt` and
 * strictly before `endAt`. `maxRuns` and jitter are applied by whoever counts the runs; the
 * functions here that take `runsSoFar` stop at `maxRuns`.
 *
 * No drift: a schedule asks for the run after the previous *scheduled* time, never after the
 * time a timer happened to fire, so lateness and jitter never shift later runs.
 */

import { InvalidOptionError } from '../errors.js';
import { checkDurationMs, checkInteger, checkString } from '../validate/options.js';
import { cronSeries } from './cron-series.js';
import { isEveryForm, parseEvery } from './every.js';
import { intervalSeries, type Series } from './series.js';

/** The fields of a schedule definition that make up its rule. */
export interface RuleOptions {
  /**
   * The rule: a cron expression (5, 6 or 7 fields, with `L`, `W`, `#`), a nickname such as
   * `@daily`, or an every form such as `every 5m`, `every 1h30m`, `@every 10s` (a fixed
   * interval, as `intervalMs`). Exactly one of `cron` and `intervalMs` is required.
   */
  cron?: string;
  /** A fixed interval between runs, in ms: an integer of at least 1. */
  intervalMs?: number;
  /**
   * For an interval: a time the runs line up with (runs are `anchorAt + k * intervalMs`), as a
   * Date or ms since the epoch. Default `startAt`, else the time the schedule is created (so the
   * first run is one interval later). Refused for a cron expression.
   */
  anchorAt?: number | Date;
  /** IANA timezone a cron expression is read in. Default: the runner's `defaultTimezone`. */
  timezone?: string;
  /** No run before this time (inclusive), a Date or ms since the epoch. Default none. */
  startAt?: number | Date;
  /** No run at or after this time (exclusive); must be after `startAt`. Default none. */
  endAt?: number | Date;
  /** Stop after creating this many instances: an integer of at least 1. Default unlimited. */
  maxRuns?: number;
  /**
   * Fire each run a random 0 to `jitterMs` ms after it is due, to spread load; the next run
   * is still computed from the due time, so jitter never accumulates. Less than the interval;
   * for cron, keep it below the shortest gap between runs (a fire that goes off after the next
   * run is due counts as late). Default 0.
   */
  jitterMs?: number;
}

/** What a rule needs besides its options. */
export interface RuleContext {
  /** Timezone for a cron expression that names none. */
  defaultTimezone: string;
  /** When the schedule was created, ms since the epoch: an interval's anchor by default. */
  createdAt: number;
  /** Prefix of the paths named in errors. Default `schedule`. */
  path?: string;
}

/** A checked rule, ready for the maths below. */
export interface ScheduleRule {
  readonly type: 'cron' | 'interval';
  /** The interval in ms, for interval rules (also those written as `every 5m`); else null. */
  readonly intervalMs: number | null;
  /** The time an interval's grid is aligned to; null for cron rules. */
  readonly anchorAt: number | null;
  /** IANA timezone the cron expression is read in (canonical name). */
  readonly timezone: string;
  readonly startAt: number | null;
  readonly endAt: number | null;
  readonly maxRuns: number | null;
  readonly jitterMs: number;
  readonly series: Series;
}

/** The keys `parseRule` reads, so option checks can tell them from the rest. */
export const RULE_OPTION_KEYS = [
  'cron',
  'intervalMs',
  'anchorAt',
  'timezone',
  'startAt',
  'endAt',
  'maxRuns',
  'jitterMs',
] as const;

/** Checks rule options; throws InvalidOptionError naming the field, before anything exists. */
export function parseRule(options: RuleOptions, context: RuleContext): ScheduleRule {
  const path = context.path ?? 'schedule';
  const timezone = checkTimezone(options.timezone ?? context.defaultTimezone, `${path}.timezone`);
  const startAt = optionalInstant(options.startAt, `${path}.startAt`);
  const endAt = optionalInstant(options.endAt, `${path}.endAt`);
  if (startAt !== null && endAt !== null && endAt <= startAt) {
    throw new InvalidOptionError(`${path}.endAt`, `a time after startAt (${iso(startAt)})`, endAt);
  }
  const window = {
    timezone,
    startAt,
    endAt,
    maxRuns: options.maxRuns === undefined ? null : checkMaxRuns(options.maxRuns, path),
    jitterMs: options.jitterMs === undefined ? 0 : checkJitter(options.jitterMs, path),
  };

  const intervalMs = intervalOf(options, path);
  if (intervalMs === null) {
    if (options.anchorAt !== undefined) {
      throw new InvalidOptionError(`${path}.anchorAt`, 'no anchor for a cron rule', 'an anchor');
    }
    const series = compileCron(options.cron, timezone, `${path}.cron`);
    return { type: 'cron', intervalMs: null, anchorAt: null, series, ...window };
  }
  if (window.jitterMs >= intervalMs) {
    const expected = `less than the interval (${intervalMs} ms)`;
    throw new InvalidOptionError(`${path}.jitterMs`, expected, window.jitterMs);
  }
  const anchorAt = optionalInstant(options.anchorAt, `${path}.anchorAt`) ?? startAt;
  const anchor = anchorAt ?? context.createdAt;
  const series = intervalSeries(intervalMs, anchor);
  return { type: 'interval', intervalMs, anchorAt: anchor, series, ...window };
}

/** The first run strictly after `referenceMs` inside the rule's window, or null if none. */
export function nextRunAfter(rule: ScheduleRule, referenceMs: number): number | null {
  const from = rule.startAt === null ? referenceMs : Math.max(referenceMs, rule.startAt - 1);
  const next = rule.series.after(from);
  if (next === null || (rule.endAt !== null && next >= rule.endAt)) return null;
  return next;
}

/**
 * Up to `n` runs strictly after `fromMs`, each found from the one before it, so the list is
 * strictly increasing. Stops at `maxRuns` counting `runsSoFar` runs already made.
 */
export function nextRuns(rule: ScheduleRule, fromMs: number, n: number, runsSoFar = 0): number[] {
  const left = rule.maxRuns === null ? n : Math.min(n, rule.maxRuns - runsSoFar);
  const runs: number[] = [];
  for (let at = nextRunAfter(rule, fromMs); at !== null && runs.length < left; ) {
    runs.push(at);
    at = nextRunAfter(rule, at);
  }
  return runs;
}

/** Up to `n` of the latest runs in [fromMs, toMs] inside the window, oldest first. */
export function latestRuns(rule: ScheduleRule, fromMs: number, toMs: number, n: number): number[] {
  const from = rule.startAt === null ? fromMs : Math.max(fromMs, rule.startAt);
  const to = rule.endAt === null ? toMs : Math.min(toMs, rule.endAt - 1);
  if (to < from || n <= 0) return [];
  return rule.series
    .latest(to, n)
    .filter((at) => at >= from)
    .reverse();
}

/** How many runs fall in [fromMs, toMs] inside the window, counting at most `limit`. */
export function countRuns(rule: ScheduleRule, fromMs: number, toMs: number, limit: number): number {
  const from = rule.startAt === null ? fromMs : Math.max(fromMs, rule.startAt);
  const to = rule.endAt === null ? toMs : Math.min(toMs, rule.endAt - 1);
  return to < from ? 0 : rule.series.count(from, to, limit);
}

/** When to fire for a run due at `dueMs`: up to `jitterMs` later, drawn with `random` in [0, 1). */
export function jittered(rule: ScheduleRule, dueMs: number, random: () => number): number {
  if (rule.jitterMs === 0) return dueMs;
  return dueMs + Math.min(rule.jitterMs, Math.floor(random() * (rule.jitterMs + 1)));
}

/** Refuses a rule that would never fire, naming the field most likely at fault. */
export function checkHasFutureRun(rule: ScheduleRule, nowMs: number): void {
  if (nextRunAfter(rule, nowMs) !== null) return;
  const now = new Date(nowMs).toISOString();
  if (rule.endAt !== null && rule.endAt <= nowMs) {
    throw new InvalidOptionError('schedule.endAt', `a time after now (${now})`, rule.endAt);
  }
  throw new InvalidOptionError('schedule.cron', `a rule with a run after now (${now})`, 'none');
}

/** The canonical name of an IANA timezone; InvalidOptionError for one Node does not know. */
export function checkTimezone(value: unknown, path: string): string {
  checkString(value, path);
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value as string }).resolvedOptions()
      .timeZone;
  } catch (cause) {
    throw new InvalidOptionError(path, 'an IANA timezone such as Europe/Berlin', value, { cause });
  }
}

function intervalOf(options: RuleOptions, path: string): number | null {
  const { cron, intervalMs } = options;
  if (cron !== undefined && intervalMs !== undefined) {
    throw new InvalidOptionError(
      `${path}.intervalMs`,
      'no intervalMs when cron is set',
      intervalMs,
    );
  }
  if (intervalMs !== undefined) return checkInteger(intervalMs, `${path}.intervalMs`, { min: 1 });
  if (cron === undefined) {
    const expected = 'a cron expression or every form (or intervalMs)';
    throw new InvalidOptionError(`${path}.cron`, expected, undefined);
  }
  checkString(cron, `${path}.cron`);
  if (!isEveryForm(cron)) return null;

  const everyMs = parseEvery(cron);
  if (everyMs === null || everyMs <= 0) {
    throw new InvalidOptionError(`${path}.cron`, 'an every form such as "every 1h30m"', cron);
  }
  return everyMs;
}

function compileCron(expression: string | undefined, timezone: string, path: string): Series {
  try {
    return cronSeries(expression ?? '', timezone);
  } catch (cause) {
    const expected = `a cron expression (${cause instanceof Error ? cause.message : cause})`;
    throw new InvalidOptionError(path, expected, expression, { cause });
  }
}

function optionalInstant(value: unknown, path: string): number | null {
  if (value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) {
    throw new InvalidOptionError(path, 'a Date or integer ms since the epoch', value);
  }
  return ms;
}

function checkMaxRuns(value: unknown, path: string): number {
  return checkInteger(value, `${path}.maxRuns`, { min: 1 });
}

function checkJitter(value: unknown, path: string): number {
  return Math.floor(checkDurationMs(value, `${path}.jitterMs`));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
