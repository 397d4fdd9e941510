import { describe, expect, it } from 'vitest';
import {
  MEMORY_STORE_DEFAULTS,
  MemoryStore,
  type MemoryStoreOptions,
} from '../src/store/memory-store.js';
import type { InstanceRecord } from '../src/types.js';
import { describeStoreContract, expectInvalid, RecordFactory, T0 } from './store-contract.js';
import { FakeClock } from './support/fake-clock.js';

describeStoreContract('memory', async () => new MemoryStore({ clock: new FakeClock(T0) }));

const HOUR_MS = 3_600_000;

/** An open memory store on a fake clock at T0, with the records factory to fill it. */
async function setUp(options: MemoryStoreOptions = {}) {
  const clock = new FakeClock(T0);
  const store = new MemoryStore({ clock, ...options });
  await store.open();
  const make = new RecordFactory();

  /** Creates an instance and finishes it at `finishedAt`, with one log line. */
  async function finished(id: string, finishedAt = clock.now()): Promise<InstanceRecord> {
    const record = make.instance(id, { createdAt: finishedAt - 1 });
    await store.write([
      make.create(record),
      make.log(record, 'done', finishedAt),
      make.finish(record, finishedAt),
    ]);
    return record;
  }

  async function unfinished(id: string): Promise<InstanceRecord> {
    const record = make.instance(id, { createdAt: clock.now() - 1 });
    await store.write([make.create(record)]);
    return record;
  }

  const held = async () => (await store.queryInstances({})).map((record) => record.id);
  return { clock, store, make, finished, unfinished, held };
}

describe('MemoryStore retention', () => {
  it('evicts the oldest finished past maxFinished, with history and logs', async () => {
    const { store, finished, held } = await setUp({ maxFinished: 3 });
    for (const id of ['f1', 'f2', 'f3', 'f4', 'f5']) await finished(id);

    expect(await held()).toEqual(['f3', 'f4', 'f5']);
    expect(await store.lookupInstanceHistory({ instanceId: 'f1' })).toEqual([]);
    expect(await store.lookupInstanceLogs({})).toHaveLength(3);
  });

  it('evicts in the order instances finished, not the order they were created', async () => {
    const { store, make, held } = await setUp({ maxFinished: 1 });
    const [a, b] = [make.instance('a'), make.instance('b')];
    await store.write([make.create(a), make.create(b)]);

    await store.write([make.finish(b, T0 + 1)]);
    await store.write([make.finish(a, T0 + 2)]);
    expect(await held()).toEqual(['a']);
  });

  it('never evicts an unfinished instance, however many there are', async () => {
    const { clock, finished, unfinished, held } = await setUp({
      maxFinished: 0,
      maxFinishedAgeMs: 0,
    });
    for (const id of ['u1', 'u2', 'u3']) await unfinished(id);
    await finished('f1');
    clock.advance(48 * HOUR_MS);

    expect(await held()).toEqual(['u1', 'u2', 'u3']);
  });

  it('evicts finished instances older than maxFinishedAgeMs as time passes', async () => {
    const { clock, store, finished, held } = await setUp({ maxFinishedAgeMs: HOUR_MS });
    await finished('early');
    clock.advance(HOUR_MS / 2);
    await finished('later');

    clock.advance(HOUR_MS / 2);
    expect(await held()).toEqual(['early', 'later']);
    clock.advance(1);
    expect(await held()).toEqual(['later']);
    expect(await store.getInstance('early')).toBeUndefined();
    clock.advance(HOUR_MS);
    expect(await store.countInstances({})).toBe(0);
  });

  it('keeps the count right after a clean-up removed finished instances', async () => {
    const { store, finished, held } = await setUp({ maxFinished: 2 });
    await finished('f1', T0 - 30);
    await finished('f2', T0 - 20);
    expect(await store.clearInstanceHistory({ finishedBefore: T0 - 25 })).toBe(1);

    await finished('f3', T0 - 10);
    expect(await held()).toEqual(['f2', 'f3']);
    await finished('f4');
    expect(await held()).toEqual(['f3', 'f4']);
  });

  it('keeps every finished instance when both limits are Infinity', async () => {
    const { clock, finished, held } = await setUp({
      maxFinished: Number.POSITIVE_INFINITY,
      maxFinishedAgeMs: Number.POSITIVE_INFINITY,
    });
    for (let i = 0; i < 50; i++) await finished(`f${String(i).padStart(2, '0')}`);
    clock.advance(1_000 * HOUR_MS);

    expect(await held()).toHaveLength(50);
  });

  it('keeps at most maxFinished while 100,000 finished instances stream by', async () => {
    const { store, make } = await setUp({ maxFinished: 1_000 });
    for (let i = 0; i < 100_000; i++) {
      const record = make.instance(`i${i}`, { createdAt: T0 + i });
      await store.write([make.create(record), make.finish(record, T0 + i)]);
    }

    expect(await store.countInstances({})).toBe(1_000);
    const [oldest] = await store.queryInstances({ limit: 1 });
    expect(oldest?.id).toBe('i99000');
  });
});

describe('MemoryStore log cap', () => {
  it('keeps the newest maxLogLinesPerInstance lines and counts those dropped', async () => {
    const { store, make, unfinished } = await setUp({ maxLogLinesPerInstance: 3 });
    const chatty = await unfinished('chatty');
    const quiet = await unfinished('quiet');
    await store.write([
      ...[1, 2, 3, 4, 5].map((n) => make.log(chatty, `c${n}`, T0 + n)),
      make.log(quiet, 'q1', T0 + 6),
    ]);

    const lines = await store.lookupInstanceLogs({ instanceId: 'chatty' });
    expect(lines.map((line) => line.message)).toEqual(['c3', 'c4', 'c5']);
    expect(await store.lookupInstanceLogs({ instanceId: 'quiet' })).toHaveLength(1);
    expect(store.droppedLogLines).toBe(2);
  });

  it('clears and keeps logging in order after the cap has wrapped', async () => {
    const { store, make, unfinished } = await setUp({ maxLogLinesPerInstance: 3 });
    const chatty = await unfinished('chatty');
    await store.write([1, 2, 3, 4].map((n) => make.log(chatty, `c${n}`, T0 + n)));

    expect(await store.clearInstanceLogs({ before: T0 + 3 })).toBe(1);
    await store.write([5, 6].map((n) => make.log(chatty, `c${n}`, T0 + n)));
    const lines = await store.lookupInstanceLogs({ instanceId: 'chatty' });
    expect(lines.map((line) => line.message)).toEqual(['c4', 'c5', 'c6']);
    expect(store.droppedLogLines).toBe(2);
  });

  it('keeps no lines at all with maxLogLinesPerInstance 0', async () => {
    const { store, make, unfinished } = await setUp({ maxLogLinesPerInstance: 0 });
    const record = await unfinished('a');
    await store.write([make.log(record, 'lost', T0)]);

    expect(await store.lookupInstanceLogs({})).toEqual([]);
    expect(store.droppedLogLines).toBe(1);
  });
});

describe('MemoryStore options', () => {
  it('defaults to 10,000 finished instances, 24 hours and 1,000 lines per instance', () => {
    expect(MEMORY_STORE_DEFAULTS).toEqual({
      maxFinished: 10_000,
      maxFinishedAgeMs: 24 * HOUR_MS,
      maxLogLinesPerInstance: 1_000,
    });
  });

  it('rejects invalid options with an InvalidOptionError naming the option', async () => {
    const cases: [unknown, string][] = [
      [null, 'options'],
      [{ maxFinished: -1 }, 'options.maxFinished'],
      [{ maxFinished: 2.5 }, 'options.maxFinished'],
      [{ maxFinished: '10' }, 'options.maxFinished'],
      [{ maxFinishedAgeMs: Number.NaN }, 'options.maxFinishedAgeMs'],
      [{ maxFinishedAgeMs: -1 }, 'options.maxFinishedAgeMs'],
      [{ maxLogLinesPerInstance: 0.5 }, 'options.maxLogLinesPerInstance'],
      [{ clock: {} }, 'options.clock.now'],
      [{ clock: 'system' }, 'options.clock'],
      [{ maxFinishd: 5 }, 'options.maxFinishd'],
    ];
    for (const [options, path] of cases) {
      await expectInvalid(async () => new MemoryStore(options as MemoryStoreOptions), path);
    }
  });

  it('refuses to be used before open()', async () => {
    const store = new MemoryStore();
    await expect(store.countInstances({})).rejects.toThrow(/not open/);
  });
});
