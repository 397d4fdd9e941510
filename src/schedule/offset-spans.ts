/**
 * Spans of time in which a timezone keeps one UTC offset, found with Intl and cached per
 * timezone. croner reads a cron expression in a timezone about ten times slower than at a fixed
 * UTC offset (its timezone mode converts times with Intl at every step). Away from a DST change
 * the two give the same runs, so cron-series.ts asks here whether a fire lies inside one span,
 * uses the fast fixed-offset reading when it does, and the timezone reading near a change.
 *
 * A span is checked by sampling the offset: three hours before its start, at its start, then
 * once a day for up to SPAN_DAYS days; it ends at the last sample with the same offset. This
 * assumes a zone never changes its offset and changes it back within one day, which holds for
 * every zone in the IANA database since 1970.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** How far ahead one span is checked, in days; also how often it is checked again. */
const SPAN_DAYS = 35;

/** The largest offset croner's `utcOffset` takes: 14:30. Beyond it, no span. */
const MAX_OFFSET_MS = 870 * 60_000;

/** Spans kept per timezone; older ones are dropped first. */
const SPANS_PER_ZONE = 8;

/**
 * How far, in ms, a run must stay from either end of a span: croner looks up to three hours
 * around a wall-clock time to tell a repeated hour from a single one.
 */
export const SPAN_MARGIN_MS = 3 * HOUR_MS;

export interface OffsetSpan {
  /** The offset, in minutes east of UTC, as croner's `utcOffset` takes it. */
  offsetMinutes: number;
  /** From this instant (ms since the epoch) the fast reading may be used... */
  fromMs: number;
  /** ...for runs up to this instant. */
  untilMs: number;
}

const spansByZone = new Map<string, OffsetSpan[]>();
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The cached span of `timezone` holding `ms`, or one checked now; null near an offset change. */
export function offsetSpanAt(timezone: string, ms: number): OffsetSpan | null {
  const spans = spansByZone.get(timezone) ?? [];
  const known = spans.find((span) => span.fromMs <= ms && ms + SPAN_MARGIN_MS <= span.untilMs);
  if (known) return known;

  const span = checkSpan(timezone, ms);
  if (span) {
    spans.push(span);
    if (spans.length > SPANS_PER_ZONE) spans.shift();
    spansByZone.set(timezone, spans);
  }
  return span;
}

function checkSpan(timezone: string, fromMs: number): OffsetSpan | null {
  const offsetMs = offsetAt(timezone, fromMs);
  const usable = offsetMs % 60_000 === 0 && Math.abs(offsetMs) <= MAX_OFFSET_MS;
  if (!usable || offsetAt(timezone, fromMs - SPAN_MARGIN_MS) !== offsetMs) return null;
  let untilMs = fromMs;
  for (let day = 1; day <= SPAN_DAYS; day++) {
    if (offsetAt(timezone, fromMs + day * DAY_MS) !== offsetMs) break;
    untilMs = fromMs + day * DAY_MS;
  }
  return { offsetMinutes: offsetMs / 60_000, fromMs, untilMs };
}

/** The UTC offset of `timezone` at `ms`, in ms (whole seconds). */
export function offsetAt(timezone: string, ms: number): number {
  const second = Math.floor(ms / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timezone).formatToParts(second)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second: s = 0 } = parts;
  return Date.UTC(year, month - 1, day, hour, minute, s) - second;
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}
