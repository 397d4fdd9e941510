import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS } from '../src/clock.js';
import type { InstanceOverrides } from '../src/schedule/schedule-definition.js';
import type { ScheduleEventName, ScheduleEvents } from '../src/schedule/schedule-events.js';
import { ScheduleRunner } from '../src/schedule/schedule-runner.js';
import type { ScheduleFireMeta, ScheduleTarget } from '../src/schedule/schedule-target.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { FakeClock, flushPromises } from './support/fake-clock.js';

const T0 = Date.UTC(2025, 0, 1); // 2025-01-01T00:00:00Z
const SECOND = 1_000;
const MINUTE = 60_000;

interface Created {
  id: string;
  kind: string;
  args: unknown;
  overrides: InstanceOverrides;
  meta: ScheduleFireMeta;
  at: number;
}

/** The manager's side of the seam: records every call; instances stay active until finished. */
class FakeTarget implements ScheduleTarget {
  readonly created: Created[] = [];
  readonly canceled: { id: string; reason: string }[] = [];
  readonly active = new Set<string>();
  failNext = false;

  constructor(readonly clock: FakeClock) {}

  hasKind(kind: string): boolean {
    return kind === 'report';
  }

  createInstance(
    kind: string,
    args: unknown,
    overrides: InstanceOverrides,
    meta: ScheduleFireMeta,
  ) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue is full');
    }
    const id = `i${this.created.length + 1}`;
    this.created.push({ id, kind, args, overrides, meta, at: this.clock.now() });
    this.active.add(id);
    return { id };
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  cancel(id: string, reason: string): void {
    this.active.delete(id);
    this.canceled.push({ id, reason });
  }

  finishAll(): void {
    this.active.clear();
  }

  dueFors(): string[] {
    return this.created.map((c) => new Date(c.meta.dueFor).toISOString());
  }
}

type Recorded = {
  [E in ScheduleEventName]: { event: E; payload: ScheduleEvents[E] };
}[ScheduleEventName];

let clock: FakeClock;
let store: MemoryStore;
let target: FakeTarget;
let events: Recorded[];
let runners: ScheduleRunner[];

function newRunner(options: { random?: () => number; lateToleranceMs?: number } = {}) {
  const runner = new ScheduleRunner({
    store,
    target,
    clock,
    onEvent: (event, payload) => events.push({ event, payload } as Recorded),
    ...options,
  });
  runners.push(runner);
  return runner;
}

async function started(options?: Parameters<typeof newRunner>[0]) {
  const runner = newRunner(options);
  await runner.start();
  return runner;
}

function eventsOf<E extends ScheduleEventName>(event: E): ScheduleEvents[E][] {
  return events.filter((e) => e.event === event).map((e) => e.payload as ScheduleEvents[E]);
}

beforeEach(async () => {
  clock = new FakeClock(T0);
  store = new MemoryStore({ clock });
  await store.open();
  target = new FakeTarget(clock);
  events = [];
  runners = [];
});

afterEach(async () => {
  for (const runner of runners) await runner.stop();
});

describe('firing', () => {
  it('creates one instance per run, on time, with its due time and overrides', async () => {
    const runner = await started();
    await runner.create({ kind: 'report', args: { n: 1 }, intervalMs: 10 * SECOND, priority: 2 });
    clock.advance(30 * SECOND);

    expect(target.created.map((c) => c.at - T0)).toEqual([10_000, 20_000, 30_000]);
    expect(target.created[0]).toMatchObject({
      kind: 'report',
      args: { n: 1 },
      overrides: { priority: 2 },
      meta: { dueFor: T0 + 10_000, catchUp: false },
    });
    expect(eventsOf('schedule:fired').map((e) => e.lateMs)).toEqual([0, 0, 0]);
  });

  it('does not drift when every timer goes off late, within the tolerance', async () => {
    // A clock whose timers all go off 7 ms late, as a busy event loop makes them.
    const late = new (class extends FakeClock {
      override setTimeout(callback: () => void, delayMs: number) {
        return super.setTimeout(callback, delayMs + 7);
      }
    })(T0);
    clock = late;
    target = new FakeTarget(late);
    const runner = await started();
    await runner.create({ kind: 'report', cron: '* * * * * *' });
    late.advance(1_000 * SECOND + 7);

    expect(target.created).toHaveLength(1_000);
    target.created.forEach((c, i) => {
      expect(c.meta.dueFor).toBe(T0 + (i + 1) * SECOND);
      expect(c.at - c.meta.dueFor).toBe(7);
    });
    expect(eventsOf('schedule:missed')).toHaveLength(0);
  });

  it('fires 1,000 schedules due at the same second from one timer', async () => {
    const runner = await started();
    for (let i = 0; i < 1_000; i++) await runner.create({ kind: 'report', cron: '* * * * * *' });
    expect(clock.pending()).toHaveLength(1);

    clock.advance(3 * SECOND);
    expect(target.created).toHaveLength(3_000);
    expect(clock.pending()).toHaveLength(1);
  });

  it('keeps jitter within jitterMs and computes each run from the due time', async () => {
    const draws = [0, 0.5, 0.999_999];
    let i = 0;
    const runner = await started({ random: () => draws[i++ % draws.length] as number });
    await runner.create({ kind: 'report', intervalMs: MINUTE, jitterMs: 10 * SECOND });
    clock.advance(6 * MINUTE);

    expect(target.created.map((c) => c.meta.dueFor - T0)).toEqual(
      [1, 2, 3, 4, 5].map((k) => k * MINUTE),
    );
    // The first draw went to the schedule's first arming, then one per run.
    const delays = target.created.map((c) => c.at - c.meta.dueFor);
    expect(delays).toEqual([0, 5_000, 10_000, 0, 5_000]);
  });

  it('arms a timer that lets the process exit', async () => {
    const runner = await started();
    await runner.create({ kind: 'report', cron: '@hourly' });
    expect(clock.pending().every((timer) => timer.unrefed)).toBe(true);
  });

  it('reaches a run years away in steps no longer than MAX_TIMER_DELAY_MS', async () => {
    const runner = await started();
    await runner.create({ kind: 'report', cron: '0 0 12 1 1 * 2027' });
    clock.advanceTo(Date.UTC(2027, 0, 1, 11, 59, 59));
    expect(target.created).toHaveLength(0);

    clock.advance(SECOND);
    expect(target.dueFors()).toEqual(['2027-01-01T12:00:00.000Z']);
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    expect(clock.delays.length).toBeGreaterThanOrEqual(30); // 731.5 days in 24.8-day steps
  });

  it('fires a timezone cron once on a fall-back day', async () => {
    clock = new FakeClock(Date.parse('2025-10-25T12:00:00Z'));
    target = new FakeTarget(clock);
    const runner = await started();
    await runner.create({ kind: 'report', cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    clock.advanceTo(Date.parse('2025-10-27T12:00:00Z'));
    expect(target.dueFors()).toEqual(['2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z']);
  });

  it('reports an instance it could not create and keeps firing', async () => {
    const runner = await started();
    await runner.create({ kind: 'report', intervalMs: SECOND });
    target.failNext = true;
    clock.advance(2 * SECOND);

    expect(target.created).toHaveLength(1);
    expect(eventsOf('schedule:error')).toMatchObject([
      { during: 'createInstance', dueFor: T0 + SECOND, error: new Error('queue is full') },
    ]);
  });

  it('survives an event sink that throws', async () => {
    const runner = new ScheduleRunner({
      store,
      target,
      clock,
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    runners.push(runner);
    await runner.start();
    await runner.create({ kind: 'report', intervalMs: SECOND });
    clock.advance(3 * SECOND);
    expect(target.created).toHaveLength(3);
  });
});

describe('overlap policy', () => {
  async function overlapping(overlap: 'allow' | 'skip' | 'bufferOne' | 'cancelPrevious') {
    const runner = await started();
    const schedule = await runner.create({ kind: 'report', intervalMs: MINUTE, overlap });
    clock.advance(3 * MINUTE); // i1 never finishes on its own
    return { runner, id: schedule.id };
  }

  it('allow: creates an instance at every fire', async () => {
    const { runner, id } = await overlapping('allow');
    expect(target.created).toHaveLength(3);
    expect(runner.get(id)?.activeInstanceIds).toEqual(['i1', 'i2', 'i3']);
  });

  it('skip: creates none while one is active, and records each skip', async () => {
    const { runner, id } = await overlapping('skip');
    expect(target.created.map((c) => c.id)).toEqual(['i1']);
    expect(eventsOf('schedule:skipped')).toMatchObject([
      { scheduleId: id, reason: 'overlap', dueFor: T0 + 2 * MINUTE, activeInstanceIds: ['i1'] },
      { scheduleId: id, reason: 'overlap', dueFor: T0 + 3 * MINUTE, activeInstanceIds: ['i1'] },
    ]);
    expect(runner.get(id)?.skippedCount).toBe(2);

    target.finishAll();
    clock.advance(MINUTE);
    expect(target.created.map((c) => c.meta.dueFor - T0)).toEqual([MINUTE, 4 * MINUTE]);
  });

  it('bufferOne: holds one fire until the active instance finishes, skips the rest', async () => {
    const { runner, id } = await overlapping('bufferOne');
    expect(target.created).toHaveLength(1);
    expect(runner.get(id)?.bufferedDueFor).toBe(T0 + 2 * MINUTE);
    expect(eventsOf('schedule:skipped')).toMatchObject([
      { reason: 'bufferFull', dueFor: T0 + 3 * MINUTE },
    ]);

    clock.advance(10 * SECOND);
    target.active.delete('i1');
    runner.instanceFinished('i1', id);
    expect(target.created[1]).toMatchObject({
      at: T0 + 3 * MINUTE + 10 * SECOND,
      meta: { dueFor: T0 + 2 * MINUTE, catchUp: false },
    });
    expect(runner.get(id)).toMatchObject({ bufferedDueFor: null, runCount: 2, skippedCount: 1 });
  });

  it('bufferOne: also releases the held fire at the next fire if no finish was reported', async () => {
    const { runner, id } = await overlapping('bufferOne');
    target.finishAll();
    clock.advance(MINUTE);
    expect(target.created.map((c) => c.meta.dueFor - T0)).toEqual([MINUTE, 2 * MINUTE]);
    expect(runner.get(id)?.bufferedDueFor).toBe(T0 + 4 * MINUTE);
  });

  it('cancelPrevious: cancels the active instance, then creates the new one', async () => {
    const { id } = await overlapping('cancelPrevious');
    expect(target.created.map((c) => c.id)).toEqual(['i1', 'i2', 'i3']);
    expect(target.canceled.map((c) => c.id)).toEqual(['i1', 'i2']);
    expect(target.canceled[0]?.reason).toContain(id);
    expect([...target.active]).toEqual(['i3']);
  });
});

describe('missed-run policy', () => {
  /** Creates an every-minute schedule, stops for 10.5 minutes, and starts a new runner. */
  async function restartedAfterDowntime(missed: 'skip' | 'once' | 'all', extra = {}) {
    const first = await started();
    const { id } = await first.create({ kind: 'report', intervalMs: MINUTE, missed, ...extra });
    await first.stop();
    clock.jump(10 * MINUTE + 30 * SECOND);
    const second = await started();
    return { runner: second, id };
  }

  it('skip: makes none of the missed runs and resumes on the grid', async () => {
    const { runner, id } = await restartedAfterDowntime('skip');
    expect(target.created).toHaveLength(0);
    expect(eventsOf('schedule:missed')).toEqual([
      {
        scheduleId: id,
        kind: 'report',
        count: 10,
        countCapped: false,
        firstDueFor: T0 + MINUTE,
        lastDueFor: T0 + 10 * MINUTE,
        policy: 'skip',
        reason: 'stopped',
      },
    ]);
    expect(runner.get(id)).toMatchObject({ nextRunAt: T0 + 11 * MINUTE, missedCount: 10 });
  });

  it('once: makes the latest missed run as a catch-up run', async () => {
    const { runner, id } = await restartedAfterDowntime('once');
    expect(target.created.map((c) => c.meta)).toEqual([
      { scheduleId: id, dueFor: T0 + 10 * MINUTE, catchUp: true },
    ]);
    expect(eventsOf('schedule:missed')[0]).toMatchObject({ count: 9, lastDueFor: T0 + 9 * MINUTE });

    clock.advance(30 * SECOND);
    expect(target.created[1]?.meta).toMatchObject({ dueFor: T0 + 11 * MINUTE, catchUp: false });
    expect(runner.get(id)?.runCount).toBe(2);
  });

  it('all: makes the latest maxCatchUp missed runs, oldest first', async () => {
    await restartedAfterDowntime('all', { maxCatchUp: 3 });
    expect(target.created.map((c) => [c.meta.dueFor - T0, c.meta.catchUp])).toEqual([
      [8 * MINUTE, true],
      [9 * MINUTE, true],
      [10 * MINUTE, true],
    ]);
    expect(eventsOf('schedule:missed')[0]).toMatchObject({ count: 7 });
  });

  it('all: makes only the runs within missedGraceMs', async () => {
    await restartedAfterDowntime('all', { missedGraceMs: 3 * MINUTE });
    // Now is 10:30 after T0; the grace window starts at 7:30, so 8, 9 and 10 run.
    expect(target.created.map((c) => (c.meta.dueFor - T0) / MINUTE)).toEqual([8, 9, 10]);
    expect(eventsOf('schedule:missed')[0]).toMatchObject({ count: 7 });
  });

  it('once: makes nothing when every missed run is older than the grace window', async () => {
    await restartedAfterDowntime('once', { missedGraceMs: 10 * SECOND });
    expect(target.created).toHaveLength(0);
    expect(eventsOf('schedule:missed')[0]).toMatchObject({ count: 10 });
  });

  it('caps the count of missed cron runs, says so, and still catches up the latest', async () => {
    const first = await started();
    await first.create({ kind: 'report', cron: '* * * * * *', missed: 'once' });
    await first.stop();
    clock.jump(2 * 3_600_000);
    await started();

    expect(eventsOf('schedule:missed')).toMatchObject([
      { count: 1_000, countCapped: true, firstDueFor: T0 + SECOND },
    ]);
    expect(target.created.map((c) => c.meta)).toMatchObject([
      { dueFor: T0 + 2 * 3_600_000, catchUp: true },
    ]);
  });

  it('treats a timer that went off later than the tolerance as missed runs', async () => {
    const runner = await started();
    const { id } = await runner.create({ kind: 'report', intervalMs: SECOND, missed: 'once' });
    clock.jump(5_500); // the event loop was blocked
    clock.advance(0);

    expect(target.created.map((c) => c.meta)).toEqual([
      { scheduleId: id, dueFor: T0 + 5 * SECOND, catchUp: true },
    ]);
    expect(eventsOf('schedule:missed')).toMatchObject([{ count: 4, reason: 'late' }]);
    clock.advance(500);
    expect(target.created[1]?.meta).toMatchObject({ dueFor: T0 + 6 * SECOND, catchUp: false });
  });

  it('counts a fire late by less than the tolerance as on time', async () => {
    const runner = await started({ lateToleranceMs: 1_000 });
    await runner.create({ kind: 'report', intervalMs: 10 * SECOND, missed: 'skip' });
    clock.jump(10 * SECOND + 800);
    clock.advance(0);
    expect(target.created.map((c) => c.meta.catchUp)).toEqual([false]);
    expect(eventsOf('schedule:missed')).toHaveLength(0);
  });
});

describe('managing schedules', () => {
  it('lists, gets and predicts the next runs', async () => {
    const runner = await started();
    const a = await runner.create({ kind: 'report', cron: '0 9 * * MON-FRI', id: 'weekdays' });
    const b = await runner.create({ kind: 'report', cron: 'every 1h', maxRuns: 2 });

    // Created in the same ms: listed by id.
    expect(runner.list().map((s) => s.id)).toEqual([a.id, b.id].sort());
    expect(runner.get('weekdays')).toMatchObject({ status: 'active', cron: '0 9 * * MON-FRI' });
    expect(runner.nextRuns(a.id, 3).map((ms) => new Date(ms).toISOString())).toEqual([
      '2025-01-01T09:00:00.000Z',
      '2025-01-02T09:00:00.000Z',
      '2025-01-03T09:00:00.000Z',
    ]);
    expect(runner.nextRuns(b.id, 5)).toEqual([T0 + 3_600_000, T0 + 7_200_000]);
  });

  it('pauses and resumes from the first run after the resume, missing nothing', async () => {
    const runner = await started();
    const { id } = await runner.create({ kind: 'report', intervalMs: MINUTE });
    clock.advance(MINUTE);
    expect((await runner.pause(id)).status).toBe('paused');
    clock.advance(5 * MINUTE + 10 * SECOND);
    expect(target.created).toHaveLength(1);

    const resumed = await runner.resume(id);
    expect(resumed).toMatchObject({ status: 'active', nextRunAt: T0 + 7 * MINUTE });
    clock.advance(MINUTE);
    expect(target.created.map((c) => (c.meta.dueFor - T0) / MINUTE)).toEqual([1, 7]);
    expect(eventsOf('schedule:missed')).toHaveLength(0);
  });

  it('updates the rule from now, and keeps the next run when only overrides change', async () => {
    const runner = await started();
    const { id } = await runner.create({ kind: 'report', cron: '0 * * * *' });
    const overridden = await runner.update(id, { priority: 0, timeoutMs: 5_000 });
    expect(overridden).toMatchObject({
      nextRunAt: T0 + 3_600_000,
      overrides: { priority: 0, timeoutMs: 5_000 },
    });

    clock.advance(10 * MINUTE);
    const changed = await runner.update(id, { intervalMs: 15 * MINUTE, priority: null });
    expect(changed).toMatchObject({
      cron: null,
      intervalMs: 15 * MINUTE,
      anchorAt: T0 + 10 * MINUTE,
      nextRunAt: T0 + 25 * MINUTE,
      overrides: { timeoutMs: 5_000 },
    });
    clock.advance(15 * MINUTE);
    expect(target.created.map((c) => c.overrides)).toEqual([{ timeoutMs: 5_000 }]);
  });

  it('leaves a schedule unchanged when an update is refused', async () => {
    const runner = await started();
    const { id } = await runner.create({ kind: 'report', cron: '0 * * * *' });
    await expect(runner.update(id, { cron: 'every 0s' })).rejects.toMatchObject({
      path: 'schedule.cron',
    });
    await expect(runner.update(id, { timezone: 'Nowhere/Else' })).rejects.toMatchObject({
      path: 'schedule.timezone',
    });
    expect(runner.get(id)).toMatchObject({ cron: '0 * * * *', timezone: 'UTC' });
    expect((await store.getSchedule(id))?.spec).toMatchObject({ settings: { cron: '0 * * * *' } });
  });

  it('removes a schedule: no more fires, gone from the store', async () => {
    const runner = await started();
    const { id } = await runner.create({ kind: 'report', intervalMs: SECOND });
    clock.advance(SECOND);
    expect(await runner.remove(id)).toBe(true);
    clock.advance(10 * SECOND);
    await flushPromises();

    expect(target.created).toHaveLength(1);
    expect(runner.get(id)).toBeUndefined();
    expect(await store.listSchedules()).toEqual([]);
    expect(await runner.remove(id)).toBe(false);
  });

  it('finishes after maxRuns and after endAt', async () => {
    const runner = await started();
    const counted = await runner.create({ kind: 'report', intervalMs: MINUTE, maxRuns: 2 });
    const ending = await runner.create({
      kind: 'report',
      cron: '*/20 * * * * *',
      endAt: T0 + MINUTE,
    });
    clock.advance(10 * MINUTE);

    expect(runner.get(counted.id)).toMatchObject({
      status: 'finished',
      runCount: 2,
      nextRunAt: null,
    });
    expect(runner.get(ending.id)).toMatchObject({ status: 'finished', runCount: 2 });
    expect(clock.pending()).toHaveLength(0);
  });

  it('reads its last runs from the store history, newest first', async () => {
    const runner = await started();
    const { id } = await runner.create({ kind: 'report', intervalMs: MINUTE });
    const backoff = { type: 'fixed', delayMs: 0, factor: 1, maxDelayMs: 0, jitter: 0 } as const;
    const instance = (n: number, scheduleId: string) => ({
      id: `h${n}`,
      kind: 'report',
      args: null,
      priority: 5,
      state: 'completed' as const,
      attempt: 1,
      maxRetries: 0,
      timeoutMs: null,
      backoff,
      createdAt: T0 + n,
      dueAt: T0 + n,
      updatedAt: T0 + n,
      startedAt: null,
      finishedAt: null,
      scheduleId,
    });
    await store.write(
      [1, 2, 3].map((n) => ({
        op: 'create' as const,
        instance: instance(n, n === 2 ? 'other' : id),
        transitions: [],
      })),
    );
    expect((await runner.lastRuns(id, 5)).map((r) => r.id)).toEqual(['h3', 'h1']);
    expect((await runner.lastRuns(id, 1)).map((r) => r.id)).toEqual(['h3']);
  });

  it('throws ERR_NOT_FOUND for an unknown schedule id', async () => {
    const runner = await started();
    await expect(runner.pause('nope')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(() => runner.nextRuns('nope', 1)).toThrow(/schedule "nope" not found/);
  });
});

describe('persistence', () => {
  it('stores progress and picks it up in a new runner', async () => {
    const first = await started();
    const { id } = await first.create({
      kind: 'report',
      intervalMs: MINUTE,
      overlap: 'skip',
      maxRetries: Number.POSITIVE_INFINITY,
    });
    clock.advance(3 * MINUTE);
    await first.stop();

    const record = await store.getSchedule(id);
    expect(record).toMatchObject({
      runCount: 1,
      nextRunAt: T0 + 4 * MINUTE,
      lastRunAt: T0 + MINUTE,
      spec: { skippedCount: 2, activeInstanceIds: ['i1'] },
    });

    const second = await started();
    expect(second.get(id)).toMatchObject({
      runCount: 1,
      skippedCount: 2,
      overlap: 'skip',
      overrides: { maxRetries: Number.POSITIVE_INFINITY },
    });
    clock.advance(MINUTE);
    expect(target.created).toHaveLength(1); // i1 is still active: skipped again
    expect(second.get(id)?.skippedCount).toBe(3);
  });

  it('round-trips every setting through a SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobloom-schedule-'));
    const sqlite = new SqliteStore({ path: join(dir, 'jobs.db'), clock });
    await sqlite.open();
    try {
      const runner = new ScheduleRunner({ store: sqlite, target, clock });
      await runner.start();
      const created = await runner.create({
        kind: 'report',
        args: { day: new Date(T0), tags: ['a'] },
        cron: '0 30 9 * * MON-FRI',
        timezone: 'America/New_York',
        endAt: T0 + 365 * 86_400_000,
        maxRuns: 100,
        jitterMs: 250,
        overlap: 'bufferOne',
        missed: 'all',
        maxCatchUp: 3,
        missedGraceMs: 3_600_000,
        priority: 1,
        timeoutMs: null,
        maxRetries: Number.POSITIVE_INFINITY,
      });
      await runner.stop();

      const reloaded = new ScheduleRunner({ store: sqlite, target, clock });
      await reloaded.start();
      expect(reloaded.get(created.id)).toEqual(created);
      await reloaded.stop();
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates a held bufferOne fire on start when its blocker finished while stopped', async () => {
    const first = await started();
    const { id } = await first.create({ kind: 'report', intervalMs: MINUTE, overlap: 'bufferOne' });
    clock.advance(2 * MINUTE);
    await first.stop();
    target.finishAll();

    const second = await started();
    expect(target.created.map((c) => (c.meta.dueFor - T0) / MINUTE)).toEqual([1, 2]);
    expect(second.get(id)?.bufferedDueFor).toBeNull();
  });
});
