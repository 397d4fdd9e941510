import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, NotCloneableError, UnknownKindError } from '../src/errors.js';
import type { ScheduleDefinition } from '../src/schedule/schedule-definition.js';
import { ScheduleRunner } from '../src/schedule/schedule-runner.js';
import type { ScheduleTarget } from '../src/schedule/schedule-target.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { FakeClock } from './support/fake-clock.js';

const T0 = Date.UTC(2025, 0, 1);

let clock: FakeClock;
let store: MemoryStore;
let created: number;
let target: ScheduleTarget;
let runner: ScheduleRunner;

beforeEach(async () => {
  clock = new FakeClock(T0);
  store = new MemoryStore({ clock });
  await store.open();
  created = 0;
  target = {
    hasKind: (kind) => kind === 'report',
    checkInstance: (_kind, args) => {
      if (typeof args === 'function') throw new NotCloneableError('args', 'a function');
    },
    createInstance: () => ({ id: `i${++created}` }),
    isActive: () => false,
    cancel: () => undefined,
  };
  runner = new ScheduleRunner({ store, target, clock });
  await runner.start();
});

/** Creating with `fields` fails with an error whose path is `path`; nothing exists after. */
async function refused(fields: Record<string, unknown>, path: string): Promise<InvalidOptionError> {
  const definition = { kind: 'report', cron: '@hourly', ...fields } as ScheduleDefinition;
  const error = await runner.create(definition).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidOptionError);
  expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', path });
  expect((error as Error).message.startsWith(`${path}: expected `)).toBe(true);
  expect(runner.list()).toEqual([]);
  expect(await store.listSchedules()).toEqual([]);
  expect(clock.pending()).toEqual([]);
  expect(created).toBe(0);
  return error as InvalidOptionError;
}

describe('a schedule that is refused is not created', () => {
  it('an invalid cron expression, with croner error as cause', async () => {
    const error = await refused({ cron: '61 * * * *' }, 'schedule.cron');
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toContain('minute');
    await refused({ cron: '* * *' }, 'schedule.cron');
    await refused({ cron: '@reboot' }, 'schedule.cron');
    await refused({ cron: '2025-06-01T00:00:00' }, 'schedule.cron');
    await refused({ cron: '' }, 'schedule.cron');
    await refused({ cron: 42 }, 'schedule.cron');
  });

  it('an invalid every form', async () => {
    await refused({ cron: 'every 0s' }, 'schedule.cron');
    await refused({ cron: 'every 5x' }, 'schedule.cron');
    await refused({ cron: '@every 1.5h' }, 'schedule.cron');
  });

  it('a cron expression that never runs again', async () => {
    await refused({ cron: '0 0 0 1 1 * 2024' }, 'schedule.cron');
  });

  it('an unknown timezone, with the RangeError as cause', async () => {
    const error = await refused({ timezone: 'Mars/Olympus_Mons' }, 'schedule.timezone');
    expect(error.cause).toBeInstanceOf(RangeError);
    await refused({ timezone: '+02:00' }, 'schedule.timezone');
  });

  it('an interval that is not a positive integer of ms', async () => {
    for (const intervalMs of [0, -1_000, 1.5, Number.NaN, '5m']) {
      await refused({ cron: undefined, intervalMs }, 'schedule.intervalMs');
    }
  });

  it('both a cron expression and an interval, or neither', async () => {
    await refused({ intervalMs: 1_000 }, 'schedule.intervalMs');
    await refused({ cron: undefined }, 'schedule.cron');
  });

  it('an end before the start, or in the past', async () => {
    await refused({ startAt: T0 + 10_000, endAt: T0 + 5_000 }, 'schedule.endAt');
    await refused({ startAt: T0 + 10_000, endAt: T0 + 10_000 }, 'schedule.endAt');
    await refused({ endAt: T0 - 1 }, 'schedule.endAt');
    await refused({ startAt: new Date('not a date') }, 'schedule.startAt');
    await refused({ startAt: '2025-02-01' }, 'schedule.startAt');
  });

  it('maxRuns below 1 or not an integer', async () => {
    await refused({ maxRuns: 0 }, 'schedule.maxRuns');
    await refused({ maxRuns: 2.5 }, 'schedule.maxRuns');
  });

  it('bad jitter, anchor and policies', async () => {
    await refused({ jitterMs: -1 }, 'schedule.jitterMs');
    await refused({ cron: 'every 1m', jitterMs: 60_000 }, 'schedule.jitterMs');
    await refused({ anchorAt: T0 }, 'schedule.anchorAt');
    await refused({ overlap: 'never' }, 'schedule.overlap');
    await refused({ missed: 'sometimes' }, 'schedule.missed');
    await refused({ maxCatchUp: 0 }, 'schedule.maxCatchUp');
    await refused({ missedGraceMs: -5 }, 'schedule.missedGraceMs');
    await refused({ paused: 'yes' }, 'schedule.paused');
  });

  it('bad overrides', async () => {
    await refused({ priority: 11 }, 'schedule.priority');
    await refused({ priority: 'high' }, 'schedule.priority');
    await refused({ timeoutMs: 0 }, 'schedule.timeoutMs');
    await refused({ maxRetries: -1 }, 'schedule.maxRetries');
    await refused({ maxRetries: 1.5 }, 'schedule.maxRetries');
  });

  it('an unknown option, and a taken id', async () => {
    await refused({ cronn: '@daily' }, 'schedule.cronn');
    await runner.create({ kind: 'report', cron: '@daily', id: 'nightly' });
    await expect(runner.create({ kind: 'report', cron: '@hourly', id: 'nightly' })).rejects.toThrow(
      /^schedule\.id: expected an id no other schedule has/,
    );
    expect(runner.list()).toHaveLength(1);
  });

  it('an unknown kind, and arguments the manager refuses', async () => {
    await expect(runner.create({ kind: 'nope', cron: '@daily' })).rejects.toBeInstanceOf(
      UnknownKindError,
    );
    await expect(runner.create({ kind: 'report', cron: '@daily', args: () => 1 })).rejects.toThrow(
      NotCloneableError,
    );
    expect(await store.listSchedules()).toEqual([]);
  });

  it('a definition that is not an object', async () => {
    await expect(runner.create(null as unknown as ScheduleDefinition)).rejects.toMatchObject({
      path: 'schedule',
    });
  });
});

describe('runner options', () => {
  it('are checked when the runner is made', () => {
    const make = (extra: Record<string, unknown>) => () =>
      new ScheduleRunner({ store, target, ...extra } as ConstructorParameters<
        typeof ScheduleRunner
      >[0]);
    expect(make({ defaultTimezone: 'Atlantis/Capital' })).toThrow(/^options\.defaultTimezone:/);
    expect(make({ lateToleranceMs: -1 })).toThrow(/^options\.lateToleranceMs:/);
    expect(make({ target: { hasKind: () => true } })).toThrow(/^options\.target\.createInstance:/);
    expect(make({ clock: {} })).toThrow(/^options\.clock\.now:/);
    expect(make({ tick: 5 })).toThrow(/^options\.tick:/);
  });

  it('give a schedule without a timezone the default one', async () => {
    const berlin = new ScheduleRunner({ store, target, clock, defaultTimezone: 'europe/berlin' });
    await berlin.start();
    const schedule = await berlin.create({ kind: 'report', cron: '0 9 * * *' });
    expect(schedule.timezone).toBe('Europe/Berlin');
    expect(new Date(schedule.nextRunAt as number).toISOString()).toBe('2025-01-01T08:00:00.000Z');
    await berlin.stop();
  });
});
