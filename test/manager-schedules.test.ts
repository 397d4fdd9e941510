import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  type JobManager,
  MemoryStore,
  UnknownKindError,
} from '../src/index.js';
import { FakeClock } from './support/fake-clock.js';
import { startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

async function startWithClock() {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12));
  manager = await startManager({ clock, store: new MemoryStore({ clock }) });
  return { manager, clock };
}

describe('schedules in the manager', () => {
  it('creates instances on an interval, each carrying its schedule and the time it was due for', async () => {
    const { manager: m, clock } = await startWithClock();
    const schedule = await m.schedules.create({ kind: 'echo', args: 'tick', intervalMs: 1_000 });
    const fired: number[] = [];
    m.on('schedule:fired', (e) => fired.push(e.dueFor));
    await clock.advanceAsync(3_000);
    await m.onIdle();
    expect(fired).toHaveLength(3);
    const records = await m.queryInstances({ scheduleId: schedule.id });
    expect(records.map((r) => r.dueFor)).toEqual(fired);
    expect(records.every((r) => r.state === 'completed' && r.catchUp === false)).toBe(true);
  });

  it('skips a fire while the previous instance is active under the skip policy, and says so', async () => {
    const { manager: m, clock } = await startWithClock();
    await m.schedules.create({
      kind: 'sleep',
      args: { ms: 400 },
      intervalMs: 100,
      overlap: 'skip',
    });
    const skipped: string[] = [];
    m.on('schedule:skipped', (e) => skipped.push(e.reason));
    await clock.advanceAsync(100);
    await clock.advanceAsync(100);
    expect(skipped).toEqual(['overlap']);
    await m.schedules.pause(m.schedules.list()[0]!.id);
    await m.onIdle();
  });

  it('refuses a schedule for an unknown kind or with arguments that cannot cross, creating nothing', async () => {
    const { manager: m } = await startWithClock();
    await expect(m.schedules.create({ kind: 'nope', intervalMs: 1_000 })).rejects.toBeInstanceOf(
      UnknownKindError,
    );
    await expect(
      m.schedules.create({ kind: 'echo', args: { f: () => 1 }, intervalMs: 1_000 }),
    ).rejects.toMatchObject({ code: 'ERR_NOT_CLONEABLE', path: 'args.f' });
    await expect(m.schedules.create({ kind: 'echo', cron: 'not cron' })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    expect(m.schedules.list()).toEqual([]);
    expect(await m.store.listSchedules()).toEqual([]);
  });
});
