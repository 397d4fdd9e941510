/**
 * A series is the endless list of times a rule names, before any start, end or run limit is
 * applied. Cron expressions and fixed intervals each have one; `rule.ts` works on either.
 * All times are ms since the epoch; a series never reads the clock.
 */
export interface Series {
  /** The first time strictly after `referenceMs`, or null when the series has no more. */
  after(referenceMs: number): number | null;

  /** Up to `n` of the latest times at or before `toMs`, the latest first. */
  latest(toMs: number, n: number): number[];

  /** How many times fall in [fromMs, toMs], counting at most `limit` of them. */
  count(fromMs: number, toMs: number, limit: number): number;
}

/**
 * The times `anchorAt + k * intervalMs` for every integer k: elapsed time, so DST and
 * timezones do not move them. The anchor only aligns the grid; it is not a start time.
 */
export function intervalSeries(intervalMs: number, anchorAt: number): Series {
  const floorTo = (ms: number) => anchorAt + Math.floor((ms - anchorAt) / intervalMs) * intervalMs;
  const after = (referenceMs: number) => floorTo(referenceMs) + intervalMs;

  return {
    after,
    latest(toMs, n) {
      const last = floorTo(toMs);
      return Array.from({ length: Math.max(0, n) }, (_, i) => last - i * intervalMs);
    },
    count(fromMs, toMs, limit) {
      const first = after(fromMs - 1);
      if (first > toMs) return 0;
      return Math.min(limit, Math.floor((toMs - first) / intervalMs) + 1);
    },
  };
}
