/**
 * Cron expressions, read by croner: 5 fields (minute precision), 6 (seconds first) or 7
 * (seconds and year); `L`, `W`, `#`, `+` (day-of-month AND day-of-week; without it they are
 * OR'd, as in Vixie cron); nicknames `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`.
 * Each expression is read in one IANA timezone.
 *
 * ## Daylight saving time
 *
 * croner sorts expressions into two groups and treats each the way Vixie cron does:
 *
 * - **Fixed-time** expressions name one wall-clock time of day (`30 2 * * *`). When that time
 *   is skipped (spring forward: 02:30 does not exist on 2025-03-30 in Europe/Berlin), the run
 *   happens at the first valid time after the gap on the same day (03:00 CEST). When that time
 *   occurs twice (fall back: 02:30 on 2025-10-26 in Europe/Berlin), it runs once, at the first
 *   occurrence (02:30 CEST).
 * - **Interval** expressions repeat within the day (`*\/15 * * * *`, `0 *\/2 * * *`). They
 *   follow elapsed time: times inside a gap do not happen, and times that occur twice run on
 *   both occurrences, so the cadence continues through the change without a pause or a burst.
 *
 * jobloom keeps croner's rules, with one change: by default croner counts a list or a range of
 * times (`30 2,14 * * *`, `0 1-3 * * *`) as an interval expression, so on spring-forward day it
 * silently drops the 02:30 run and on fall-back day it runs 02:30 twice. jobloom sets croner's
 * `fixedTimeRule: 'no-wildcard'`, so every expression without a `*`, `?` or step in its
 * second, minute and hour fields is fixed-time: a job listed at 02:30 and 14:30 runs twice a
 * day on every day, DST or not. Expressions with a step or wildcard stay interval expressions.
 * Fixed intervals (`intervalMs`, `every 5m`) are elapsed time and never move with DST.
 *
 * croner works in whole seconds: times it returns have no milliseconds. Away from DST changes
 * a timezone is read at its fixed offset, which gives the same runs much faster (see
 * offset-spans.ts).
 */

import { Cron, type CronOptions } from 'croner';
import { offsetSpanAt, SPAN_MARGIN_MS } from './offset-spans.js';
import type { Series } from './series.js';

const CRON_OPTIONS: CronOptions = { paused: true, fixedTimeRule: 'no-wildcard' };

/**
 * Compiled series are shared by every schedule with the same expression and timezone, and
 * each remembers its latest answer: many schedules on one rule fire at the same instant and
 * ask for the same next run, which is then computed once. Series are pure, so sharing is safe.
 */
const compiled = new Map<string, Series>();
/** Distinct expressions kept compiled; past this the cache starts over. */
const MAX_COMPILED = 1_000;

/**
 * A cron expression for `timezone` (an IANA name already checked). Throws croner's own error
 * for an expression it refuses, and a TypeError for a date given instead of a rule.
 */
export function cronSeries(expression: string, timezone: string): Series {
  const key = `${timezone}\u0000${expression}`;
  let series = compiled.get(key);
  if (!series) {
    series = compile(expression, timezone);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, series);
  }
  return series;
}

function compile(expression: string, timezone: string): Series {
  // UTC has no DST, so croner's fixed-offset mode, ten times faster, reads it exactly.
  const zone = timezone === 'UTC' ? { utcOffset: 0 } : { timezone };
  const zoned = new Cron(expression, { ...CRON_OPTIONS, ...zone });
  if (zoned.getPattern() === undefined) {
    throw new TypeError(`schedule: "${expression}" is a single date, not a recurring rule`);
  }
  const zonedAfter = (referenceMs: number) =>
    zoned.nextRun(new Date(referenceMs))?.getTime() ?? null;
  const after = rememberLatest(
    timezone === 'UTC' ? zonedAfter : fastAfter(expression, timezone, zonedAfter),
  );

  return {
    after,
    latest(toMs, n) {
      if (n <= 0) return [];
      // croner looks strictly before its reference, so one ms later includes `toMs` itself.
      return zoned.previousRuns(n, new Date(toMs + 1)).map((date) => date.getTime());
    },
    count(fromMs, toMs, limit) {
      let count = 0;
      for (let at = after(fromMs - 1); at !== null && at <= toMs && count < limit; at = after(at)) {
        count += 1;
      }
      return count;
    },
  };
}

/**
 * The next run read at the timezone's fixed offset while both the reference and the run lie
 * inside one span of that offset (see offset-spans.ts), else read in the timezone.
 */
function fastAfter(
  expression: string,
  timezone: string,
  zonedAfter: (referenceMs: number) => number | null,
): (referenceMs: number) => number | null {
  const byOffset = new Map<number, Cron>();
  const atOffset = (utcOffset: number) => {
    const cron = byOffset.get(utcOffset) ?? new Cron(expression, { ...CRON_OPTIONS, utcOffset });
    byOffset.set(utcOffset, cron);
    return cron;
  };

  return (referenceMs) => {
    const span = offsetSpanAt(timezone, referenceMs);
    if (span) {
      const next = atOffset(span.offsetMinutes).nextRun(new Date(referenceMs));
      if (next && next.getTime() + SPAN_MARGIN_MS <= span.untilMs) return next.getTime();
    }
    return zonedAfter(referenceMs);
  };
}

function rememberLatest(after: (referenceMs: number) => number | null) {
  let lastReference = Number.NaN;
  let lastNext: number | null = null;
  return (referenceMs: number): number | null => {
    if (referenceMs !== lastReference) {
      lastNext = after(referenceMs);
      lastReference = referenceMs;
    }
    return lastNext;
  };
}
