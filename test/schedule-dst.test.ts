import { Cron } from 'croner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cronSeries } from '../src/schedule/cron-series.js';
import { offsetAt } from '../src/schedule/offset-spans.js';
import { nextRunAfter, nextRuns, parseRule, type RuleOptions } from '../src/schedule/rule.js';

// Fixed reference dates around the 2025 DST changes:
// Europe/Berlin   spring 2025-03-30 02:00 CET  -> 03:00 CEST (01:00Z); 02:00-02:59 do not exist
//                 fall   2025-10-26 03:00 CEST -> 02:00 CET  (01:00Z); 02:00-02:59 happen twice
// America/New_York spring 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z)
//                 fall   2025-11-02 02:00 EDT -> 01:00 EST (06:00Z); 01:00-01:59 happen twice

const context = { defaultTimezone: 'UTC', createdAt: Date.UTC(2025, 0, 1) };
const runs = (options: RuleOptions, fromIso: string, n: number) =>
  nextRuns(parseRule(options, context), Date.parse(fromIso), n).map((ms) =>
    new Date(ms).toISOString(),
  );

describe('the skipped hour (spring forward)', () => {
  it('runs a fixed-time job due in the gap at the first valid time after it, once', () => {
    const rule = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(runs(rule, '2025-03-29T12:00:00Z', 3)).toEqual([
      '2025-03-30T01:00:00.000Z', // 03:00 CEST, the end of the gap
      '2025-03-31T00:30:00.000Z', // 02:30 CEST
      '2025-04-01T00:30:00.000Z',
    ]);
  });

  it('does the same in America/New_York, with seconds', () => {
    const rule = { cron: '0 30 2 * * *', timezone: 'America/New_York' };
    expect(runs(rule, '2025-03-08T12:00:00Z', 2)).toEqual([
      '2025-03-09T07:00:00.000Z', // 03:00 EDT
      '2025-03-10T06:30:00.000Z', // 02:30 EDT
    ]);
  });

  it('drops the times inside the gap for an interval job, keeping its cadence', () => {
    const rule = { cron: '*/30 * * * *', timezone: 'Europe/Berlin' };
    expect(runs(rule, '2025-03-30T00:00:00Z', 3)).toEqual([
      '2025-03-30T00:30:00.000Z', // 01:30 CET
      '2025-03-30T01:00:00.000Z', // 03:00 CEST: 02:00 and 02:30 do not exist
      '2025-03-30T01:30:00.000Z', // 03:30 CEST
    ]);
  });

  it('keeps a listed time (jobloom treats lists as fixed-time, unlike croner default)', () => {
    const rule = { cron: '30 2,14 * * *', timezone: 'Europe/Berlin' };
    expect(runs(rule, '2025-03-29T20:00:00Z', 3)).toEqual([
      '2025-03-30T01:00:00.000Z', // 02:30 moved to 03:00 CEST, not dropped
      '2025-03-30T12:30:00.000Z', // 14:30 CEST
      '2025-03-31T00:30:00.000Z',
    ]);
  });
});

describe('the repeated hour (fall back)', () => {
  it('runs a fixed-time job once, at the first occurrence', () => {
    const rule = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(runs(rule, '2025-10-25T12:00:00Z', 2)).toEqual([
      '2025-10-26T00:30:00.000Z', // 02:30 CEST; 02:30 CET an hour later does not run
      '2025-10-27T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('does not run it again from a reference inside the second pass', () => {
    const rule = parseRule({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, context);
    const secondPass = Date.parse('2025-10-26T01:10:00Z'); // 02:10 CET
    expect(new Date(nextRunAfter(rule, secondPass) as number).toISOString()).toBe(
      '2025-10-27T01:30:00.000Z',
    );
  });

  it('runs a fixed-time job once in America/New_York', () => {
    const rule = { cron: '30 1 * * *', timezone: 'America/New_York' };
    expect(runs(rule, '2025-11-01T12:00:00Z', 2)).toEqual([
      '2025-11-02T05:30:00.000Z', // 01:30 EDT
      '2025-11-03T06:30:00.000Z', // 01:30 EST
    ]);
  });

  it('runs an interval job on both passes, so it keeps running through the hour', () => {
    const rule = { cron: '*/30 * * * *', timezone: 'Europe/Berlin' };
    expect(runs(rule, '2025-10-25T23:45:00Z', 5)).toEqual([
      '2025-10-26T00:00:00.000Z', // 02:00 CEST
      '2025-10-26T00:30:00.000Z', // 02:30 CEST
      '2025-10-26T01:00:00.000Z', // 02:00 CET
      '2025-10-26T01:30:00.000Z', // 02:30 CET
      '2025-10-26T02:00:00.000Z', // 03:00 CET
    ]);
  });

  it('runs a listed time once (jobloom treats lists as fixed-time)', () => {
    const rule = { cron: '30 2,14 * * *', timezone: 'Europe/Berlin' };
    expect(runs(rule, '2025-10-25T20:00:00Z', 2)).toEqual([
      '2025-10-26T00:30:00.000Z',
      '2025-10-26T13:30:00.000Z',
    ]);
  });
});

describe('fixed intervals', () => {
  it('are elapsed time: an hour apart across both changes, whatever the timezone', () => {
    for (const fromIso of ['2025-03-29T23:30:00Z', '2025-10-25T23:30:00Z']) {
      const rule = { cron: 'every 1h', timezone: 'Europe/Berlin', anchorAt: Date.parse(fromIso) };
      const times = runs(rule, fromIso, 4).map(Date.parse);
      expect(times.slice(1).map((t, i) => t - (times[i] as number))).toEqual([
        3_600_000, 3_600_000, 3_600_000,
      ]);
    }
  });
});

describe('the fast fixed-offset reading of a timezone', () => {
  const zones = [
    'Europe/Berlin',
    'America/New_York',
    'Australia/Sydney',
    'Australia/Lord_Howe', // DST of 30 minutes
    'America/Santiago',
    'Asia/Kolkata', // no DST
  ];

  /** Instants where a zone changes its offset, 2024 to 2026, found with offsetAt. */
  function transitions(timezone: string): number[] {
    const found: number[] = [];
    const HOUR = 3_600_000;
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2027, 0, 1); t += HOUR) {
      if (offsetAt(timezone, t) !== offsetAt(timezone, t + HOUR)) found.push(t + HOUR);
    }
    return found;
  }

  it('gives the same next run as croner timezone mode, also around DST changes', () => {
    const changes = zones.flatMap((zone) => transitions(zone).map((at) => ({ zone, at })));
    expect(changes.length).toBeGreaterThanOrEqual(5 * 6);
    const expressions = [
      '30 2 * * *',
      '0 2 * * *',
      '0 30 1 * * *',
      '30 2,14 * * *',
      '0 1-3 * * *',
      '*/30 * * * *',
      '*/7 2 * * *',
      '0 */15 * * * *',
      '* * * * * *',
      '15 3 * * SUN',
      '45 23 L * *',
      '@hourly',
      '@daily',
    ];
    const nearChange = fc
      .tuple(fc.constantFrom(...changes), fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }))
      .map(([change, offsetMs]) => ({ zone: change.zone, reference: change.at + offsetMs }));
    const anywhere = fc.record({
      zone: fc.constantFrom(...zones),
      reference: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
    });

    fc.assert(
      fc.property(
        fc.constantFrom(...expressions),
        fc.oneof(nearChange, anywhere),
        (expression, { zone, reference }) => {
          const oracle = new Cron(expression, {
            timezone: zone,
            paused: true,
            fixedTimeRule: 'no-wildcard',
          });
          const series = cronSeries(expression, zone);
          let at: number | null = reference;
          for (let i = 0; i < 3 && at !== null; i++) {
            const expected: number | null = oracle.nextRun(new Date(at))?.getTime() ?? null;
            at = series.after(at);
            expect(at).toBe(expected);
          }
        },
      ),
      { numRuns: 1_500 },
    );
  });
});
