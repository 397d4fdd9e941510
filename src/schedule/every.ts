/**
 * The human form of a fixed interval that gocron and robfig/cron users write: `every 5m`,
 * `every 1h30m`, `@every 1h30m`, `every 10s`, `every 250ms`, `every 1d 12h`.
 *
 * A duration is one or more parts, each a whole number and a unit: `ms`, `s`, `m`, `h`, `d`
 * (a day is 24 h of elapsed time, not a calendar day). Parts may repeat a unit or be separated
 * by spaces; their sum is the interval. Fractions (`1.5h`) and signs are refused.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const EVERY_PREFIX = /^@?every\s+/i;
const PART = /(\d+)\s*(ms|s|m|h|d)\s*/giy;

/** True when `text` is meant as an every form, valid or not: it starts with `every`/`@every`. */
export function isEveryForm(text: string): boolean {
  return EVERY_PREFIX.test(text.trim());
}

/** The interval an every form names, in ms, or null when it is not a valid one. */
export function parseEvery(text: string): number | null {
  const trimmed = text.trim();
  const prefix = EVERY_PREFIX.exec(trimmed);
  if (!prefix) return null;
  return parseDuration(trimmed.slice(prefix[0].length));
}

function parseDuration(text: string): number | null {
  PART.lastIndex = 0;
  let totalMs = 0;
  let consumed = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    totalMs += Number(match[1]) * (UNIT_MS[(match[2] ?? '').toLowerCase()] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length || !Number.isSafeInteger(totalMs)) return null;
  return totalMs;
}
