/**
 * THE store contract: every store (memory, SQLite, PostgreSQL) runs this same suite, unchanged.
 *
 * `makeStore` returns a new, empty store that is not yet open; the suite opens it before each
 * test and closes it after (so `close()` must tolerate a second call), then calls `cleanup`
 * to remove whatever the store left behind (a file, a schema). Tests use only the Store
 * interface, never a store's internals, and each test gets a fresh store.
 *
 * Records the suite hands to a store are never touched again by the test (a store may keep
 * them as they are), so expected values are built separately or cloned before writing.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, StoreError } from '../src/errors.js';
import type { Store, StoreWrite } from '../src/store/store.js';
import {
  INSTANCE_STATES,
  type InstanceRecord,
  type InstanceState,
  type LogLevel,
  type LogLine,
  Priority,
  type ScheduleRecord,
  type StateTransition,
} from '../src/types.js';

/** The suite's reference instant: 2025-01-01T00:00:00Z. */
export const T0 = Date.UTC(2025, 0, 1);

type UpdatePatch = Extract<StoreWrite, { op: 'update' }>['patch'];

/** Builds records and the writes that carry them; `seq` increases across all it builds. */
export class RecordFactory {
  #seq = 0;

  instance(id: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
    return {
      id,
      kind: 'email',
      args: { to: 'ada@example.com', attempts: [1, 2] },
      priority: Priority.DEFAULT,
      state: 'scheduled',
      attempt: 0,
      maxRetries: 3,
      timeoutMs: 5_000,
      backoff: { type: 'exponential', delayMs: 100, factor: 2, maxDelayMs: 10_000, jitter: 0.2 },
      createdAt: T0,
      dueAt: T0,
      updatedAt: T0,
      startedAt: null,
      finishedAt: null,
      owner: null,
      leaseUntil: null,
      ...overrides,
    };
  }

  transition(
    record: InstanceRecord,
    state: InstanceState,
    at: number,
    extra: Partial<StateTransition> = {},
  ): StateTransition {
    const { id: instanceId, kind, attempt } = record;
    return { instanceId, kind, state, attempt, at, seq: ++this.#seq, ...extra };
  }

  line(record: InstanceRecord, message: string, at: number, level: LogLevel = 'info'): LogLine {
    const { id: instanceId, kind, attempt } = record;
    return { instanceId, kind, attempt, level, message, at, seq: ++this.#seq };
  }

  /** Creates the instance with a `created` transition, and one for its state if different. */
  create(record: InstanceRecord): StoreWrite {
    const transitions = [this.transition(record, 'created', record.createdAt)];
    if (record.state !== 'created') {
      transitions.push(this.transition(record, record.state, record.createdAt));
    }
    return { op: 'create', instance: record, transitions };
  }

  /** Moves the instance to `state` at `at`, with its transition; final states set finishedAt. */
  update(record: InstanceRecord, state: InstanceState, at: number, patch: UpdatePatch = {}) {
    const change: StoreWrite = {
      op: 'update',
      id: record.id,
      patch: { state, updatedAt: at, ...patch },
      transition: this.transition(record, state, at),
    };
    return change;
  }

  finish(record: InstanceRecord, at: number, state: InstanceState = 'completed'): StoreWrite {
    return this.update(record, state, at, { finishedAt: at });
  }

  log(record: InstanceRecord, message: string, at: number, level: LogLevel = 'info'): StoreWrite {
    return { op: 'log', line: this.line(record, message, at, level) };
  }

  schedule(id: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
    return {
      id,
      kind: 'report',
      spec: { cron: '0 * * * *', timezone: 'Europe/Berlin', overlap: 'skip' },
      paused: false,
      nextRunAt: T0 + 3_600_000,
      lastRunAt: null,
      runCount: 0,
      createdAt: T0,
      updatedAt: T0,
      ...overrides,
    };
  }
}

/** Awaits `call` and checks it failed with an InvalidOptionError naming `path`. */
export async function expectInvalid(call: () => Promise<unknown>, path: string): Promise<void> {
  const error = await call().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, `expected an InvalidOptionError for ${path}`).toBeInstanceOf(InvalidOptionError);
  expect((error as InvalidOptionError).path).toBe(path);
}

type UpdateWrite = Extract<StoreWrite, { op: 'update' }>;

/** An instance to seed: its id and the fields that differ from the factory's defaults. */
type Spec = [id: string, overrides?: Partial<InstanceRecord>];

function ids(records: readonly { id: string }[]): string[] {
  return records.map((record) => record.id);
}

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void> | void,
): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let make: RecordFactory;

    /** Creates instances named by id, each with the given fields; returns their records. */
    async function seed<S extends Spec[]>(
      ...specs: S
    ): Promise<{ [K in keyof S]: InstanceRecord }> {
      const records = specs.map(([id, overrides]) => make.instance(id, overrides));
      await store.write(records.map((record) => make.create(record)));
      return records as { [K in keyof S]: InstanceRecord };
    }

    beforeEach(async () => {
      make = new RecordFactory();
      store = await makeStore();
      await store.open();
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    describe('writing and reading instances', () => {
      it('returns an instance exactly as it was written, with every optional field', async () => {
        const record = make.instance('full', {
          args: { nested: { list: [1, 'two', null, { three: true }] }, text: 'naïve ✓' },
          maxRetries: Number.POSITIVE_INFINITY,
          timeoutMs: null,
          result: { rows: 3 },
          error: { name: 'Error', message: 'boom', code: 'E1', cause: { name: 'T', message: 'x' } },
          progress: { done: 1, total: 4 },
          scheduleId: 'nightly',
          dueFor: T0 - 60_000,
          catchUp: true,
        });
        const expected = structuredClone(record);
        await store.write([make.create(record)]);

        expect(await store.getInstance('full')).toEqual(expected);
      });

      it('keeps arguments and results that JSON cannot express', async () => {
        const args = {
          when: new Date(T0),
          map: new Map([['a', 1]]),
          set: new Set(['x']),
          numbers: [Number.POSITIVE_INFINITY, Number.NaN],
          bytes: new Uint8Array([1, 2, 3]),
          big: 10n ** 20n,
        };
        const record = make.instance('odd', { args, result: new Map([[1, new Date(T0 + 1)]]) });
        const expected = structuredClone(record);
        await store.write([make.create(record)]);

        expect(await store.getInstance('odd')).toEqual(expected);
      });

      it('returns undefined for an id it does not hold', async () => {
        expect(await store.getInstance('missing')).toBeUndefined();
      });

      it('merges an update into the instance and appends its transition', async () => {
        const [record] = await seed(['a']);
        const expected = structuredClone(record);
        await store.write([
          make.update(record, 'running', T0 + 5, { attempt: 1, startedAt: T0 + 5 }),
        ]);

        expect(await store.getInstance('a')).toEqual({
          ...expected,
          state: 'running',
          attempt: 1,
          startedAt: T0 + 5,
          updatedAt: T0 + 5,
        });
        const history = await store.lookupInstanceHistory({ instanceId: 'a' });
        expect(history.map((entry) => entry.state)).toEqual(['created', 'scheduled', 'running']);
      });

      it('applies a batch in order: a create and its updates end in the last state', async () => {
        const record = make.instance('a');
        await store.write([
          make.create(record),
          make.update(record, 'queued', T0 + 1),
          make.update(record, 'running', T0 + 2),
          make.finish(record, T0 + 3, 'failed'),
        ]);

        expect(await store.getInstance('a')).toMatchObject({ state: 'failed', finishedAt: T0 + 3 });
        const history = await store.lookupInstanceHistory({ instanceId: 'a' });
        expect(history.map((entry) => entry.state)).toEqual([
          'created',
          'scheduled',
          'queued',
          'running',
          'failed',
        ]);
      });

      it('ignores an update and a log line for an instance it does not hold', async () => {
        const ghost = make.instance('ghost');
        const [real] = await seed(['real']);
        await store.write([
          make.update(ghost, 'running', T0 + 1),
          make.log(ghost, 'nobody hears this', T0 + 1),
          make.log(real, 'heard', T0 + 2),
        ]);

        expect(await store.getInstance('ghost')).toBeUndefined();
        expect(await store.lookupInstanceHistory({ instanceId: 'ghost' })).toEqual([]);
        expect(await store.lookupInstanceLogs({})).toMatchObject([{ message: 'heard' }]);
      });

      it('rejects a create of an id it holds and applies nothing of that batch', async () => {
        const [first] = await seed(['a']);
        const again = make.instance('a', { kind: 'other' });
        const batch = [
          make.log(first, 'before the duplicate', T0 + 1),
          make.create(make.instance('b')),
          make.create(again),
        ];

        await expect(store.write(batch)).rejects.toBeInstanceOf(StoreError);
        expect(await store.getInstance('a')).toMatchObject({ kind: 'email' });
        expect(await store.getInstance('b')).toBeUndefined();
        expect(await store.lookupInstanceLogs({ instanceId: 'a' })).toEqual([]);
      });

      it('rejects a batch with an unknown change or a transition of another instance or kind, changing nothing', async () => {
        const [a] = await seed(['a']);
        const b = make.instance('b');
        const stray = make.transition(b, 'created', T0);
        const unknown = { op: 'delete', id: 'a' } as unknown as StoreWrite;
        const moved = make.update(a as InstanceRecord, 'running', T0 + 1) as UpdateWrite;
        const foreign = { ...moved, transition: { ...make.transition(b, 'running', T0 + 1) } };

        await expectInvalid(() => store.write([make.create(b), unknown]), 'batch[1].op');
        await expectInvalid(
          () => store.write([{ op: 'create', instance: make.instance('c'), transitions: [stray] }]),
          'batch[0].transitions[0].instanceId',
        );
        await expectInvalid(() => store.write([foreign]), 'batch[0].transition.instanceId');
        const d = make.instance('d');
        const otherKind = { ...make.transition(d, 'created', T0), kind: 'sms' };
        await expectInvalid(
          () => store.write([{ op: 'create', instance: d, transitions: [otherKind] }]),
          'batch[0].transitions[0].kind',
        );
        expect(await store.countInstances({})).toBe(1);
        expect(await store.getInstance('a')).toMatchObject({ state: 'scheduled' });
      });

      it('returns copies: changing a returned record does not change the store', async () => {
        await seed(['a']);
        const got = (await store.getInstance('a')) as InstanceRecord;
        got.state = 'canceled';
        const [listed] = await store.queryInstances({});
        (listed as InstanceRecord).priority = 99;

        expect(await store.getInstance('a')).toMatchObject({
          state: 'scheduled',
          priority: Priority.DEFAULT,
        });
      });

      it('accepts an empty batch', async () => {
        await store.write([]);
        expect(await store.countInstances({})).toBe(0);
      });
    });

    describe('queryInstances and countInstances', () => {
      it('lists instances by createdAt, then id, and reversed with order desc', async () => {
        await seed(
          ['c', { createdAt: T0 + 1 }],
          ['b', { createdAt: T0 + 2 }],
          ['a', { createdAt: T0 + 1 }],
        );

        expect(ids(await store.queryInstances({}))).toEqual(['a', 'c', 'b']);
        expect(ids(await store.queryInstances({ order: 'asc' }))).toEqual(['a', 'c', 'b']);
        expect(ids(await store.queryInstances({ order: 'desc' }))).toEqual(['b', 'c', 'a']);
      });

      it('filters by ids, kind and state, each given as one value or a list', async () => {
        await seed(
          ['a', { kind: 'email', state: 'scheduled' }],
          ['b', { kind: 'email', state: 'queued' }],
          ['c', { kind: 'report', state: 'queued' }],
          ['d', { kind: 'resize', state: 'running' }],
        );

        expect(ids(await store.queryInstances({ ids: ['d', 'a', 'zz', 'a'] }))).toEqual(['a', 'd']);
        expect(ids(await store.queryInstances({ kind: 'email' }))).toEqual(['a', 'b']);
        expect(ids(await store.queryInstances({ kind: ['report', 'resize'] }))).toEqual(['c', 'd']);
        expect(ids(await store.queryInstances({ state: 'queued' }))).toEqual(['b', 'c']);
        expect(ids(await store.queryInstances({ state: ['running', 'scheduled'] }))).toEqual([
          'a',
          'd',
        ]);
        expect(ids(await store.queryInstances({ kind: 'email', state: 'queued' }))).toEqual(['b']);
      });

      it('matches nothing for an empty list of ids, kinds or states', async () => {
        await seed(['a'], ['b']);

        expect(await store.queryInstances({ ids: [] })).toEqual([]);
        expect(await store.queryInstances({ kind: [] })).toEqual([]);
        expect(await store.countInstances({ state: [] })).toBe(0);
      });

      it('filters by scheduleId', async () => {
        await seed(['a', { scheduleId: 'hourly' }], ['b', { scheduleId: 'daily' }], ['c']);

        expect(ids(await store.queryInstances({ scheduleId: 'hourly' }))).toEqual(['a']);
      });

      it('treats createdAfter and createdBefore as exclusive bounds', async () => {
        await seed(...[10, 20, 30, 40].map((t): Spec => [`i${t}`, { createdAt: T0 + t }]));

        const between = await store.queryInstances({
          createdAfter: T0 + 10,
          createdBefore: T0 + 40,
        });
        expect(ids(between)).toEqual(['i20', 'i30']);
        expect(ids(await store.queryInstances({ createdAfter: T0 + 30 }))).toEqual(['i40']);
        expect(ids(await store.queryInstances({ createdBefore: T0 + 20 }))).toEqual(['i10']);
        expect(
          await store.queryInstances({ createdAfter: T0 + 20, createdBefore: T0 + 20 }),
        ).toEqual([]);
      });

      it('pages with offset and limit after ordering, in both directions', async () => {
        await seed(...[1, 2, 3, 4, 5].map((n): Spec => [`i${n}`, { createdAt: T0 + n }]));

        expect(ids(await store.queryInstances({ limit: 2 }))).toEqual(['i1', 'i2']);
        expect(ids(await store.queryInstances({ offset: 1, limit: 2 }))).toEqual(['i2', 'i3']);
        expect(ids(await store.queryInstances({ offset: 3 }))).toEqual(['i4', 'i5']);
        expect(ids(await store.queryInstances({ order: 'desc', offset: 1, limit: 2 }))).toEqual([
          'i4',
          'i3',
        ]);
        expect(await store.queryInstances({ offset: 9 })).toEqual([]);
        expect(await store.queryInstances({ limit: 0 })).toEqual([]);
      });

      it('counts every match, ignoring limit, offset and order', async () => {
        await seed(['a'], ['b'], ['c', { kind: 'report' }]);

        expect(await store.countInstances({})).toBe(3);
        expect(
          await store.countInstances({ kind: 'email', limit: 1, offset: 1, order: 'desc' }),
        ).toBe(2);
      });

      it('rejects an invalid query, naming the field', async () => {
        const cases: [Record<string, unknown>, string][] = [
          [{ limit: -1 }, 'query.limit'],
          [{ limit: 2.5 }, 'query.limit'],
          [{ offset: 0.5 }, 'query.offset'],
          [{ offset: -3 }, 'query.offset'],
          [{ order: 'up' }, 'query.order'],
          [{ state: 'sleeping' }, 'query.state'],
          [{ state: ['queued', 'sleeping'] }, 'query.state[1]'],
          [{ kind: 7 }, 'query.kind'],
          [{ ids: 'a' }, 'query.ids'],
          [{ createdAfter: Number.NaN }, 'query.createdAfter'],
          [{ createdAfter: T0 + 2, createdBefore: T0 + 1 }, 'query.createdAfter'],
          [{ limt: 5 }, 'query.limt'],
        ];
        for (const [query, path] of cases) {
          await expectInvalid(() => store.queryInstances(query), path);
          await expectInvalid(() => store.countInstances(query), path);
        }
      });
    });

    describe('state history', () => {
      it("lists one instance's transitions by at, then seq, whatever the write order", async () => {
        const [a] = await seed(['a'], ['b']);
        const first = make.transition(a, 'queued', T0 + 5);
        const second = make.transition(a, 'running', T0 + 5);
        const earlier = make.transition(a, 'queued', T0 + 3, { reason: 'due' });
        const expected = structuredClone(earlier);
        await store.write([
          { op: 'update', id: 'a', patch: { state: 'running' }, transition: second },
          { op: 'update', id: 'a', patch: {}, transition: first },
          { op: 'update', id: 'a', patch: {}, transition: earlier },
        ]);

        const history = await store.lookupInstanceHistory({ instanceId: 'a' });
        expect(history.map((entry) => [entry.state, entry.at])).toEqual([
          ['created', T0],
          ['scheduled', T0],
          ['queued', T0 + 3],
          ['queued', T0 + 5],
          ['running', T0 + 5],
        ]);
        expect(history[2]).toEqual(expected);
        expect(history.every((entry) => entry.instanceId === 'a')).toBe(true);
      });

      it('filters history by kind and state with exclusive time bounds, and pages it', async () => {
        const [a, b] = await seed(['a'], ['b', { kind: 'report' }]);
        await store.write([
          make.update(a, 'running', T0 + 10),
          make.update(b, 'running', T0 + 20),
          make.finish(a, T0 + 30),
          make.finish(b, T0 + 40, 'failed'),
        ]);
        const states = async (query: Parameters<Store['lookupInstanceHistory']>[0]) =>
          (await store.lookupInstanceHistory(query)).map(
            (entry) => `${entry.instanceId}:${entry.state}`,
          );

        expect(await states({ kind: 'report', after: T0 })).toEqual(['b:running', 'b:failed']);
        expect(await states({ state: ['completed', 'failed'] })).toEqual([
          'a:completed',
          'b:failed',
        ]);
        expect(await states({ after: T0 + 10, before: T0 + 40 })).toEqual([
          'b:running',
          'a:completed',
        ]);
        expect(await states({ after: T0, order: 'desc', limit: 2 })).toEqual([
          'b:failed',
          'a:completed',
        ]);
        expect(await states({ after: T0, offset: 1, limit: 2 })).toEqual([
          'b:running',
          'a:completed',
        ]);
      });

      it('rejects an invalid history query, naming the field', async () => {
        const cases: [Record<string, unknown>, string][] = [
          [{ state: 'done' }, 'query.state'],
          [{ after: T0 + 5, before: T0 }, 'query.after'],
          [{ before: '2025-01-01' }, 'query.before'],
          [{ limit: -1 }, 'query.limit'],
          [{ instanceId: 42 }, 'query.instanceId'],
        ];
        for (const [query, path] of cases) {
          await expectInvalid(() => store.lookupInstanceHistory(query), path);
        }
      });
    });

    describe('log history', () => {
      it('returns lines of one batch in the order written, before the final state', async () => {
        const [a] = await seed(['a']);
        const messages = Array.from({ length: 20 }, (_, i) => `line ${i}`);
        await store.write([
          make.update(a, 'running', T0 + 5),
          ...messages.map((message) => make.log(a, message, T0 + 5)),
          make.finish(a, T0 + 5),
        ]);

        const lines = await store.lookupInstanceLogs({ instanceId: 'a' });
        expect(lines.map((line) => line.message)).toEqual(messages);
        expect(await store.getInstance('a')).toMatchObject({ state: 'completed' });
        const [last] = await store.lookupInstanceHistory({
          instanceId: 'a',
          order: 'desc',
          limit: 1,
        });
        expect(lines.every((line) => line.seq < (last as StateTransition).seq)).toBe(true);
      });

      it('keeps lines at minLevel and above: debug < info < warn < error', async () => {
        const [a] = await seed(['a']);
        const levels: LogLevel[] = ['error', 'debug', 'warn', 'info'];
        await store.write(levels.map((level, i) => make.log(a, level, T0 + i, level)));
        const messages = async (query: Parameters<Store['lookupInstanceLogs']>[0]) =>
          (await store.lookupInstanceLogs(query)).map((line) => line.message);

        expect(await messages({ minLevel: 'debug' })).toEqual(['error', 'debug', 'warn', 'info']);
        expect(await messages({ minLevel: 'info' })).toEqual(['error', 'warn', 'info']);
        expect(await messages({ minLevel: 'warn' })).toEqual(['error', 'warn']);
        expect(await messages({ minLevel: 'error' })).toEqual(['error']);
        expect(await messages({ level: ['debug', 'error'] })).toEqual(['error', 'debug']);
        expect(await messages({ level: ['debug', 'error'], minLevel: 'info' })).toEqual(['error']);
      });

      it('filters logs by instance, kind and exclusive time bounds, and pages them', async () => {
        const [a, b] = await seed(['a'], ['b', { kind: 'report' }]);
        const a1 = make.line(a, 'a1', T0 + 1);
        const expected = structuredClone(a1);
        await store.write([
          { op: 'log', line: a1 },
          make.log(b, 'b2', T0 + 2),
          make.log(a, 'a3', T0 + 3, 'warn'),
          make.log(b, 'b4', T0 + 4, 'error'),
        ]);
        const messages = async (query: Parameters<Store['lookupInstanceLogs']>[0]) =>
          (await store.lookupInstanceLogs(query)).map((line) => line.message);

        expect(await messages({})).toEqual(['a1', 'b2', 'a3', 'b4']);
        expect(await messages({ instanceId: 'a' })).toEqual(['a1', 'a3']);
        expect(await messages({ kind: 'report' })).toEqual(['b2', 'b4']);
        expect(await messages({ after: T0 + 1, before: T0 + 4 })).toEqual(['b2', 'a3']);
        expect(await messages({ order: 'desc', limit: 3 })).toEqual(['b4', 'a3', 'b2']);
        expect(await messages({ offset: 1, limit: 2 })).toEqual(['b2', 'a3']);
        expect(await store.lookupInstanceLogs({ instanceId: 'a', limit: 1 })).toEqual([expected]);
      });

      it('rejects an invalid log query, naming the field', async () => {
        const cases: [Record<string, unknown>, string][] = [
          [{ level: 'fatal' }, 'query.level'],
          [{ level: ['info', 'trace'] }, 'query.level[1]'],
          [{ minLevel: 'verbose' }, 'query.minLevel'],
          [{ after: T0 + 1, before: T0 }, 'query.after'],
          [{ offset: 1.5 }, 'query.offset'],
        ];
        for (const [query, path] of cases) {
          await expectInvalid(() => store.lookupInstanceLogs(query), path);
        }
      });
    });

    describe('clearInstanceHistory', () => {
      /**
       * a, b, c and f finished at T0+10, +20, +30, +30; d and e unfinished. e carries a stale
       * finishedAt (from an earlier life), because only its state may decide that it stays.
       */
      async function seedFinished(): Promise<void> {
        const [a, b, c, d, , f] = await seed(
          ['a'],
          ['b', { kind: 'report' }],
          ['c'],
          ['d'],
          ['e', { finishedAt: T0 }],
          ['f'],
        );
        await store.write([
          make.log(a, 'from a', T0 + 5),
          make.finish(a, T0 + 10),
          make.finish(b, T0 + 20, 'failed'),
          make.finish(c, T0 + 30, 'canceled'),
          make.update(d, 'running', T0 + 1),
          make.finish(f, T0 + 30, 'timed_out'),
        ]);
      }

      it('removes instances finished before the bound, with their history and logs', async () => {
        await seedFinished();

        expect(await store.clearInstanceHistory({ finishedBefore: T0 + 30 })).toBe(2);
        expect(ids(await store.queryInstances({}))).toEqual(['c', 'd', 'e', 'f']);
        expect(await store.lookupInstanceHistory({ instanceId: 'a' })).toEqual([]);
        expect(await store.lookupInstanceLogs({ instanceId: 'a' })).toEqual([]);
        expect(await store.lookupInstanceHistory({ instanceId: 'c' })).not.toEqual([]);
      });

      it('never removes an unfinished instance, whatever the filter', async () => {
        await seedFinished();
        const unfinished: InstanceState[] = ['created', 'scheduled', 'queued', 'running'];

        const bound = T0 + 1_000_000;
        expect(await store.clearInstanceHistory({ finishedBefore: bound, state: unfinished })).toBe(
          0,
        );
        expect(await store.clearInstanceHistory({ finishedBefore: bound })).toBe(4);
        expect(ids(await store.queryInstances({}))).toEqual(['d', 'e']);
        expect(await store.lookupInstanceHistory({ instanceId: 'd' })).toHaveLength(3);
      });

      it('removes only the kinds and states the filter names', async () => {
        await seedFinished();
        const bound = T0 + 1_000;

        expect(await store.clearInstanceHistory({ finishedBefore: bound, kind: 'report' })).toBe(1);
        expect(
          await store.clearInstanceHistory({
            finishedBefore: bound,
            state: ['canceled', 'timed_out'],
          }),
        ).toBe(2);
        expect(ids(await store.queryInstances({}))).toEqual(['a', 'd', 'e']);
        expect(await store.clearInstanceHistory({ finishedBefore: bound, kind: [] })).toBe(0);
      });

      it('refuses a filter without a finite finishedBefore, and removes nothing', async () => {
        await seedFinished();
        const cases: [unknown, string][] = [
          [{}, 'filter.finishedBefore'],
          [{ kind: 'email' }, 'filter.finishedBefore'],
          [{ finishedBefore: Number.NaN }, 'filter.finishedBefore'],
          [{ finishedBefore: Number.POSITIVE_INFINITY }, 'filter.finishedBefore'],
          [{ finishedBefore: String(T0) }, 'filter.finishedBefore'],
          [{ finishedBefore: T0, state: 'gone' }, 'filter.state'],
          [undefined, 'filter'],
        ];
        for (const [filter, path] of cases) {
          await expectInvalid(() => store.clearInstanceHistory(filter as never), path);
        }
        expect(await store.countInstances({})).toBe(6);
      });
    });

    describe('clearInstanceLogs', () => {
      async function seedLogs(): Promise<void> {
        const [a, b] = await seed(['a'], ['b', { kind: 'report' }]);
        await store.write([
          make.log(a, 'a1', T0 + 1),
          make.log(a, 'a2', T0 + 2),
          make.log(b, 'b3', T0 + 3),
          make.log(b, 'b4', T0 + 4),
        ]);
      }
      const messages = async (s: Store) =>
        (await s.lookupInstanceLogs({})).map((line) => line.message);

      it('removes log lines before the bound and leaves instances and history', async () => {
        await seedLogs();

        expect(await store.clearInstanceLogs({ before: T0 + 3 })).toBe(2);
        expect(await messages(store)).toEqual(['b3', 'b4']);
        expect(await store.countInstances({})).toBe(2);
        expect(await store.lookupInstanceHistory({ instanceId: 'a' })).toHaveLength(2);
      });

      it('removes only the lines of the kind or instance the filter names', async () => {
        await seedLogs();

        expect(await store.clearInstanceLogs({ before: T0 + 10, kind: 'report' })).toBe(2);
        expect(await store.clearInstanceLogs({ before: T0 + 2, instanceId: 'a' })).toBe(1);
        expect(await messages(store)).toEqual(['a2']);
      });

      it('refuses a filter without a finite before, and removes nothing', async () => {
        await seedLogs();

        await expectInvalid(() => store.clearInstanceLogs({} as never), 'filter.before');
        await expectInvalid(() => store.clearInstanceLogs({ before: Number.NaN }), 'filter.before');
        await expectInvalid(
          () => store.clearInstanceLogs({ instanceId: 'a' } as never),
          'filter.before',
        );
        expect(await messages(store)).toHaveLength(4);
      });
    });

    describe('loadUnfinished', () => {
      it('returns exactly the instances not in a final state, ordered by creation', async () => {
        await seed(
          ...INSTANCE_STATES.map((state, i): Spec => [state, { state, createdAt: T0 + i }]),
        );

        expect(ids(await store.loadUnfinished())).toEqual([
          'created',
          'scheduled',
          'queued',
          'running',
        ]);
      });
    });

    describe('claim and leases', () => {
      const now = T0 + 100;
      const lease = (owner: string, at = now, limit = 10) => ({
        owner,
        limit,
        now: at,
        leaseMs: 1_000,
      });

      it('claims by priority, then due time, then age, skipping final and running', async () => {
        await seed(
          ['a', { priority: 5, dueAt: T0 + 10, createdAt: T0 + 1 }],
          ['b', { priority: 0, dueAt: T0 + 50, createdAt: T0 + 2 }],
          ['c', { priority: 5, dueAt: T0 + 5, createdAt: T0 + 3 }],
          ['d', { priority: 5, dueAt: T0 + 10, createdAt: T0 + 1 }],
          ['e', { priority: 0, dueAt: T0 + 101 }],
          ['f', { priority: 0, state: 'running' }],
          ['g', { priority: 0, state: 'completed', finishedAt: T0 }],
          ['h', { priority: 8, state: 'queued', dueAt: now }],
          ['i', { priority: 5, dueAt: T0 + 10, createdAt: T0 + 2 }],
        );

        expect(ids(await store.claim(lease('p1')))).toEqual(['b', 'c', 'a', 'd', 'i', 'h']);
      });

      it('claims at most limit instances and only the kinds listed', async () => {
        await seed(['a'], ['b', { kind: 'report' }], ['c'], ['d', { kind: 'resize' }]);

        expect(ids(await store.claim({ ...lease('p1'), limit: 1 }))).toEqual(['a']);
        expect(ids(await store.claim({ ...lease('p2'), kinds: ['report', 'resize'] }))).toEqual([
          'b',
          'd',
        ]);
        expect(await store.claim({ ...lease('p3'), kinds: [] })).toEqual([]);
        expect(await store.claim({ ...lease('p3'), limit: 0 })).toEqual([]);
      });

      it('records the owner and the lease on what it hands out', async () => {
        await seed(['a']);

        const [claimed] = await store.claim(lease('p1'));
        expect(claimed).toMatchObject({ id: 'a', owner: 'p1', leaseUntil: now + 1_000 });
        expect(await store.getInstance('a')).toMatchObject({
          owner: 'p1',
          leaseUntil: now + 1_000,
        });
      });

      it("keeps out an instance under another owner's lease until it runs out", async () => {
        await seed(['a']);
        await store.claim(lease('p1'));

        expect(await store.claim(lease('p2', now + 999))).toEqual([]);
        const taken = await store.claim(lease('p2', now + 1_000));
        expect(taken).toMatchObject([{ id: 'a', owner: 'p2', leaseUntil: now + 2_000 }]);
        expect(await store.claim(lease('p1', now + 1_500))).toEqual([]);
      });

      it('hands an owner back the instances it already holds, with a fresh lease', async () => {
        await seed(['a']);
        await store.claim(lease('p1'));

        const again = await store.claim(lease('p1', now + 10));
        expect(again).toMatchObject([{ id: 'a', owner: 'p1', leaseUntil: now + 1_010 }]);
      });

      it('renews only the leases an owner still holds', async () => {
        const [, b] = await seed(['a'], ['b'], ['c']);
        await store.claim({ ...lease('p1'), limit: 2 });
        await store.write([make.finish(b, now + 1)]);
        const taken = await store.claim(lease('p2', now + 1_000));
        expect(ids(taken)).toEqual(['a', 'c']);

        expect(await store.renewLeases('p1', ['a', 'b', 'c', 'missing'], now + 5_000)).toEqual([]);
        const renewed = await store.renewLeases('p2', ['a', 'c', 'missing'], now + 5_000);
        expect([...renewed].sort()).toEqual(['a', 'c']);
      });

      it('keeps other owners out until a renewed lease runs out', async () => {
        await seed(['a']);
        await store.claim(lease('p1'));
        expect(await store.renewLeases('p1', ['a'], now + 5_000)).toEqual(['a']);

        expect(await store.claim(lease('p2', now + 1_000))).toEqual([]);
        expect(await store.claim(lease('p2', now + 4_999))).toEqual([]);
        expect(ids(await store.claim(lease('p2', now + 5_000)))).toEqual(['a']);
        expect(await store.getInstance('a')).toMatchObject({ owner: 'p2' });
      });

      it('rejects invalid claim options, naming the field', async () => {
        const cases: [Record<string, unknown>, string][] = [
          [{ ...lease('p1'), owner: '' }, 'options.owner'],
          [{ limit: 1, now, leaseMs: 1 }, 'options.owner'],
          [{ ...lease('p1'), limit: -1 }, 'options.limit'],
          [{ ...lease('p1'), now: Number.NaN }, 'options.now'],
          [{ ...lease('p1'), leaseMs: 0 }, 'options.leaseMs'],
          [{ ...lease('p1'), kinds: 'email' }, 'options.kinds'],
        ];
        for (const [options, path] of cases) {
          await expectInvalid(() => store.claim(options as never), path);
        }
      });
    });

    describe('schedules', () => {
      it('saves, reads, lists and deletes a schedule', async () => {
        const schedule = make.schedule('hourly');
        await store.saveSchedule(schedule);

        expect(await store.getSchedule('hourly')).toEqual(make.schedule('hourly'));
        expect(await store.listSchedules()).toEqual([make.schedule('hourly')]);
        expect(await store.deleteSchedule('hourly')).toBe(true);
        expect(await store.getSchedule('hourly')).toBeUndefined();
        expect(await store.listSchedules()).toEqual([]);
      });

      it('replaces a schedule saved again with the same id', async () => {
        await store.saveSchedule(make.schedule('hourly'));
        const changed = make.schedule('hourly', {
          paused: true,
          runCount: 3,
          lastRunAt: T0 + 5,
          nextRunAt: null,
        });
        await store.saveSchedule(changed);

        expect(await store.getSchedule('hourly')).toEqual(structuredClone(changed));
        expect(await store.listSchedules()).toHaveLength(1);
      });

      it('lists schedules by createdAt, then id', async () => {
        await store.saveSchedule(make.schedule('b', { createdAt: T0 + 1 }));
        await store.saveSchedule(make.schedule('c', { createdAt: T0 }));
        await store.saveSchedule(make.schedule('a', { createdAt: T0 + 1 }));

        expect(ids(await store.listSchedules())).toEqual(['c', 'a', 'b']);
      });

      it('reports false when deleting a schedule it does not hold', async () => {
        expect(await store.deleteSchedule('never')).toBe(false);
      });
    });

    describe('open and close', () => {
      it('keeps what was written across close and open', async () => {
        const [a] = await seed(['a']);
        await store.write([make.log(a, 'kept', T0 + 1), make.finish(a, T0 + 2)]);
        await store.saveSchedule(make.schedule('hourly'));

        await store.close();
        await store.open();

        expect(await store.getInstance('a')).toMatchObject({ state: 'completed' });
        expect(await store.lookupInstanceLogs({ instanceId: 'a' })).toMatchObject([
          { message: 'kept' },
        ]);
        expect(await store.lookupInstanceHistory({ instanceId: 'a' })).toHaveLength(3);
        expect(await store.getSchedule('hourly')).toBeDefined();
      });

      it('rejects calls with a StoreError while closed', async () => {
        await store.close();

        await expect(store.getInstance('a')).rejects.toBeInstanceOf(StoreError);
        await expect(store.write([make.create(make.instance('a'))])).rejects.toBeInstanceOf(
          StoreError,
        );
        await expect(store.queryInstances({})).rejects.toBeInstanceOf(StoreError);
        await expect(store.listSchedules()).rejects.toBeInstanceOf(StoreError);
      });

      it('has a name for logs and errors', () => {
        expect(store.name).toMatch(/\S/);
      });
    });
  });
}
