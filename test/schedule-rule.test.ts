import { Cron } from 'croner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { parseEvery } from '../src/schedule/every.js';
import {
  countRuns,
  jittered,
  latestRuns,
  nextRunAfter,
  nextRuns,
  parseRule,
  type RuleOptions,
} from '../src/schedule/rule.js';

const T0 = Date.UTC(2025, 0, 1); // Wednesday 2025-01-01T00:00:00Z
const MINUTE = 60_000;
const HOUR = 3_600_000;
const context = { defaultTimezone: 'UTC', createdAt: T0 };
const rule = (options: RuleOptions) => parseRule(options, context);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const runsOf = (options: RuleOptions, from: number, n: number) =>
  nextRuns(rule(options), from, n).map(iso);

describe('cron rules', () => {
  it('reads 5 fields at minute precision, 6 with seconds first and 7 with a year', () => {
    expect(runsOf({ cron: '*/15 * * * *' }, T0, 2)).toEqual([
      '2025-01-01T00:15:00.000Z',
      '2025-01-01T00:30:00.000Z',
    ]);
    expect(runsOf({ cron: '*/10 * * * * *' }, T0, 2)).toEqual([
      '2025-01-01T00:00:10.000Z',
      '2025-01-01T00:00:20.000Z',
    ]);
    expect(runsOf({ cron: '0 0 12 1 1 * 2027' }, T0, 2)).toEqual(['2027-01-01T12:00:00.000Z']);
  });

  it('supports L, W, # and nicknames', () => {
    expect(runsOf({ cron: '0 9 L * *' }, T0, 2)).toEqual([
      '2025-01-31T09:00:00.000Z',
      '2025-02-28T09:00:00.000Z',
    ]);
    // 2025-02-15 is a Saturday: the nearest weekday is Friday the 14th.
    expect(runsOf({ cron: '0 0 15W * *' }, Date.UTC(2025, 1, 1), 1)).toEqual([
      '2025-02-14T00:00:00.000Z',
    ]);
    expect(runsOf({ cron: '0 0 * * FRI#2' }, T0, 2)).toEqual([
      '2025-01-10T00:00:00.000Z',
      '2025-02-14T00:00:00.000Z',
    ]);
    expect(runsOf({ cron: '@daily' }, T0, 2)).toEqual([
      '2025-01-02T00:00:00.000Z',
      '2025-01-03T00:00:00.000Z',
    ]);
    expect(runsOf({ cron: '@weekly' }, T0, 1)).toEqual(['2025-01-05T00:00:00.000Z']);
  });

  it('reads the expression in the schedule timezone, else the default one', () => {
    expect(runsOf({ cron: '0 9 * * *', timezone: 'Asia/Tokyo' }, T0, 1)).toEqual([
      '2025-01-02T00:00:00.000Z',
    ]);
    const berlin = parseRule(
      { cron: '0 9 * * *' },
      { ...context, defaultTimezone: 'Europe/Berlin' },
    );
    expect(iso(nextRunAfter(berlin, T0))).toBe('2025-01-01T08:00:00.000Z');
    expect(berlin.timezone).toBe('Europe/Berlin');
  });

  it('finds the run strictly after the reference, also when the reference is a run', () => {
    const hourly = rule({ cron: '0 * * * *' });
    expect(iso(nextRunAfter(hourly, T0))).toBe('2025-01-01T01:00:00.000Z');
    expect(iso(nextRunAfter(hourly, T0 - 1))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(nextRunAfter(hourly, T0 + 1))).toBe('2025-01-01T01:00:00.000Z');
  });

  it('returns null when the expression has no more runs', () => {
    expect(nextRunAfter(rule({ cron: '0 0 0 1 1 * 2024' }), T0)).toBeNull();
  });
});

describe('every forms and intervals', () => {
  it('parses every, @every and compound durations', () => {
    expect(parseEvery('every 5m')).toBe(5 * MINUTE);
    expect(parseEvery('every 1h30m')).toBe(90 * MINUTE);
    expect(parseEvery('@every 1h30m')).toBe(90 * MINUTE);
    expect(parseEvery('every 10s')).toBe(10_000);
    expect(parseEvery('Every 1d 2h 250ms')).toBe(26 * HOUR + 250);
    expect(parseEvery('every 1.5h')).toBeNull();
    expect(parseEvery('every 5x')).toBeNull();
    expect(parseEvery('every')).toBeNull();
    expect(parseEvery('5m')).toBeNull();
  });

  it('runs an every form one interval after creation by default', () => {
    const everyFive = rule({ cron: 'every 5m' });
    expect(everyFive).toMatchObject({ type: 'interval', intervalMs: 5 * MINUTE, anchorAt: T0 });
    expect(runsOf({ cron: '@every 1h30m' }, T0, 2)).toEqual([
      '2025-01-01T01:30:00.000Z',
      '2025-01-01T03:00:00.000Z',
    ]);
  });

  it('lines interval runs up with the anchor, on both sides of it', () => {
    const anchorAt = Date.UTC(2025, 0, 1, 0, 7);
    const options = { intervalMs: 10 * MINUTE, anchorAt };
    expect(runsOf(options, T0, 3)).toEqual([
      '2025-01-01T00:07:00.000Z',
      '2025-01-01T00:17:00.000Z',
      '2025-01-01T00:27:00.000Z',
    ]);
    expect(runsOf(options, Date.UTC(2024, 11, 31, 23, 50), 1)).toEqual([
      '2024-12-31T23:57:00.000Z',
    ]);
    expect(rule({ intervalMs: 1000, anchorAt: new Date(anchorAt) }).anchorAt).toBe(anchorAt);
  });

  it('anchors an interval at startAt when no anchor is given', () => {
    const startAt = Date.UTC(2025, 0, 1, 6, 0, 30);
    expect(runsOf({ cron: 'every 1h', startAt }, T0, 2)).toEqual([
      '2025-01-01T06:00:30.000Z',
      '2025-01-01T07:00:30.000Z',
    ]);
  });
});

describe('start, end and maximum runs', () => {
  it('includes a run at startAt and excludes one at endAt', () => {
    const options = {
      cron: '0 * * * *',
      startAt: Date.UTC(2025, 0, 1, 3),
      endAt: Date.UTC(2025, 0, 1, 6),
    };
    expect(runsOf(options, T0, 10)).toEqual([
      '2025-01-01T03:00:00.000Z',
      '2025-01-01T04:00:00.000Z',
      '2025-01-01T05:00:00.000Z',
    ]);
  });

  it('stops nextRuns at maxRuns, counting the runs already made', () => {
    const limited = rule({ cron: 'every 1m', maxRuns: 3 });
    expect(nextRuns(limited, T0, 10)).toHaveLength(3);
    expect(nextRuns(limited, T0, 10, 2)).toHaveLength(1);
    expect(nextRuns(limited, T0, 10, 3)).toHaveLength(0);
  });

  it('keeps jitter between 0 and jitterMs', () => {
    const withJitter = rule({ cron: 'every 1m', jitterMs: 500 });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
        const at = jittered(withJitter, T0, () => r);
        return at >= T0 && at <= T0 + 500 && Number.isInteger(at);
      }),
    );
    expect(jittered(withJitter, T0, () => 0.999_999_999)).toBe(T0 + 500);
    expect(jittered(rule({ cron: 'every 1m' }), T0, () => 0.7)).toBe(T0);
  });

  it('refuses an end at or before the start', () => {
    const bad = () => rule({ cron: '@daily', startAt: T0, endAt: T0 });
    expect(bad).toThrow(InvalidOptionError);
    expect(bad).toThrow(/^schedule\.endAt: expected a time after startAt/);
  });
});

// Property tests. Each field of a generated expression is a wildcard, a value, a range, a
// step or a list; the oracle below reads only these forms, independently of croner.

type Field = { text: string; values: Set<number> };

/** Values up to `max`; `*` and steps cover up to `wildMax` (31 for days of the month). */
function fieldArb(min: number, max: number, wildMax = max): fc.Arbitrary<Field> {
  const all = (from: number, to: number, step = 1) => {
    const values = new Set<number>();
    for (let v = from; v <= to; v += step) values.add(v);
    return values;
  };
  const value = fc.integer({ min, max });
  return fc.oneof(
    fc.constant({ text: '*', values: all(min, wildMax) }),
    value.map((v) => ({ text: String(v), values: new Set([v]) })),
    fc.tuple(value, value).map(([a, b]) => ({
      text: `${Math.min(a, b)}-${Math.max(a, b)}`,
      values: all(Math.min(a, b), Math.max(a, b)),
    })),
    fc
      .integer({ min: 1, max: Math.max(1, Math.floor((max - min + 1) / 2)) })
      .map((step) => ({ text: `*/${step}`, values: all(min, wildMax, step) })),
    fc.uniqueArray(value, { minLength: 2, maxLength: 4 }).map((vs) => ({
      text: vs.join(','),
      values: new Set(vs),
    })),
  );
}

const cronArb = fc
  .record({
    second: fc.option(fieldArb(0, 59), { nil: undefined }),
    minute: fieldArb(0, 59),
    hour: fieldArb(0, 23),
    day: fieldArb(1, 28, 31),
    month: fieldArb(1, 12),
    weekday: fieldArb(0, 6),
  })
  .map((fields) => {
    const parts = [fields.minute, fields.hour, fields.day, fields.month, fields.weekday];
    const all = fields.second ? [fields.second, ...parts] : parts;
    return { ...fields, text: all.map((f) => f.text).join(' ') };
  });

/** Vixie cron matching in UTC: day-of-month and day-of-week are OR'd when both are set. */
function matchesUtc(cron: typeof cronArb extends fc.Arbitrary<infer C> ? C : never, ms: number) {
  const d = new Date(ms);
  const second = cron.second ? cron.second.values.has(d.getUTCSeconds()) : d.getUTCSeconds() === 0;
  const dom = cron.day.values.has(d.getUTCDate());
  const dow = cron.weekday.values.has(d.getUTCDay());
  const bothSet = cron.day.text !== '*' && cron.weekday.text !== '*';
  return (
    d.getUTCMilliseconds() === 0 &&
    second &&
    cron.minute.values.has(d.getUTCMinutes()) &&
    cron.hour.values.has(d.getUTCHours()) &&
    cron.month.values.has(d.getUTCMonth() + 1) &&
    (bothSet ? dom || dow : dom && dow)
  );
}

const referenceArb = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) });

describe('schedule maths, property tests', () => {
  it('the next cron run is after the reference, matches the rule, and none is skipped', () => {
    fc.assert(
      fc.property(cronArb, referenceArb, (cron, reference) => {
        const next = nextRunAfter(rule({ cron: cron.text }), reference);
        expect(next).not.toBeNull();
        const at = next as number;
        expect(at).toBeGreaterThan(reference);
        expect(matchesUtc(cron, at)).toBe(true);

        // Nothing in between matches: walk every candidate second (or minute) when close.
        const stepMs = cron.second ? 1000 : MINUTE;
        if (at - reference > 2000 * stepMs) return;
        for (let t = Math.ceil((reference + 1) / stepMs) * stepMs; t < at; t += stepMs) {
          expect(matchesUtc(cron, t)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('cron runs match in any timezone, by croner own match, and nextRuns increases', () => {
    // Zones without DST since 2000, where every run is a wall-clock match.
    const zones = ['UTC', 'Asia/Tokyo', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Eucla'];
    const extras = fc.constantFrom('0 0 L * *', '0 30 9 15W * *', '0 0 * * 5#2', '0 0 12 * * 1L');
    const text = fc.oneof(
      cronArb.map((c) => c.text),
      extras,
    );
    fc.assert(
      fc.property(text, fc.constantFrom(...zones), referenceArb, (cron, timezone, reference) => {
        const runs = nextRuns(rule({ cron, timezone }), reference, 5);
        const oracle = new Cron(cron, { timezone, paused: true, fixedTimeRule: 'no-wildcard' });
        expect(runs).toHaveLength(5);
        runs.forEach((at, i) => {
          expect(at).toBeGreaterThan(i === 0 ? reference : (runs[i - 1] as number));
          expect(oracle.match(new Date(at))).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('the next interval run is after the reference, on the grid, and the first after it', () => {
    const intervalArb = fc.integer({ min: 1, max: 30 * 86_400_000 });
    fc.assert(
      fc.property(intervalArb, referenceArb, referenceArb, (intervalMs, anchorAt, reference) => {
        const at = nextRunAfter(rule({ intervalMs, anchorAt }), reference) as number;
        expect(at).toBeGreaterThan(reference);
        expect(at - intervalMs).toBeLessThanOrEqual(reference);
        expect((((at - anchorAt) % intervalMs) + intervalMs) % intervalMs).toBe(0);
      }),
    );
  });

  it('every run lies in [startAt, endAt), and nextRuns is strictly increasing', () => {
    const ruleArb = fc.oneof(
      cronArb.map((c): RuleOptions => ({ cron: c.text })),
      fc.integer({ min: 1000, max: 6 * HOUR }).map((intervalMs): RuleOptions => ({ intervalMs })),
    );
    const windowArb = fc
      .tuple(referenceArb, fc.integer({ min: 1, max: 90 * 86_400_000 }))
      .map(([startAt, lengthMs]) => ({ startAt, endAt: startAt + lengthMs }));
    fc.assert(
      fc.property(ruleArb, windowArb, referenceArb, (options, window, reference) => {
        const runs = nextRuns(rule({ ...options, ...window }), reference, 20);
        runs.forEach((at, i) => {
          expect(at).toBeGreaterThanOrEqual(window.startAt);
          expect(at).toBeLessThan(window.endAt);
          if (i > 0) expect(at).toBeGreaterThan(runs[i - 1] as number);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('latestRuns and countRuns agree with walking the runs forward', () => {
    const ruleArb = fc.oneof(
      cronArb.map((c): RuleOptions => ({ cron: c.text })),
      fc.integer({ min: 1000, max: HOUR }).map((intervalMs): RuleOptions => ({ intervalMs })),
    );
    const spanArb = fc.integer({ min: 0, max: 20 * MINUTE });
    const nArb = fc.integer({ min: 1, max: 5 });
    fc.assert(
      fc.property(ruleArb, referenceArb, spanArb, nArb, (options, from, span, n) => {
        const r = rule(options);
        const to = from + span;
        const forward: number[] = [];
        for (let at = nextRunAfter(r, from - 1); at !== null && at <= to; ) {
          forward.push(at);
          at = nextRunAfter(r, at);
        }
        expect(countRuns(r, from, to, 10_000)).toBe(forward.length);
        expect(latestRuns(r, from, to, n)).toEqual(forward.slice(-n));
      }),
      { numRuns: 200 },
    );
  });
});
