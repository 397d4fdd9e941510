import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, StoreError } from '../src/errors.js';
import { SQLITE_STORE_RETENTION } from '../src/store/sqlite-options.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../src/store/sqlite-schema.js';
import { openSqliteStore, SqliteStore } from '../src/store/sqlite-store.js';
import type { StoreWrite } from '../src/store/store.js';
import { describeStoreContract, RecordFactory, T0 } from './store-contract.js';
import { FakeClock } from './support/fake-clock.js';

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Resolves with the StoreError a promise rejects with; fails the test if it resolves. */
async function storeErrorOf(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

let dir: string;
let file: string;
let make: RecordFactory;
const opened: SqliteStore[] = [];

/**
 * Records are written at T0; the clock stands there too, so the default retention (by age)
 * leaves them alone, as the memory store's tests do.
 */
async function openStore(options: Partial<ConstructorParameters<typeof SqliteStore>[0]> = {}) {
  const clock = new FakeClock(T0);
  const store = await openSqliteStore(file, { busyTimeoutMs: 50, clock, ...options });
  opened.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobloom-sqlite-'));
  file = join(dir, 'jobs.db');
  make = new RecordFactory();
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore: durability', () => {
  it('keeps every field of an instance across close and reopen', async () => {
    const full = make.instance('a', {
      args: { when: new Date(T0), tags: new Set(['x']), big: 10n, map: new Map([[1, 'one']]) },
      maxRetries: Number.POSITIVE_INFINITY,
      backoff: { type: 'fixed', delayMs: 10, factor: 1, maxDelayMs: Infinity, jitter: 0 },
      state: 'completed',
      attempt: 2,
      startedAt: T0 + 5,
      finishedAt: T0 + 9,
      result: { ok: true, bytes: new Uint8Array([1, 2, 3]), negativeZero: -0 },
      error: { name: 'Error', message: 'first attempt failed', code: 'E_ONE' },
      progress: { done: 3, of: 4 },
      scheduleId: 's1',
      dueFor: T0 - 1,
      catchUp: false,
      owner: 'host-1',
      leaseUntil: T0 + 60_000,
    });
    const expected = structuredClone(full);
    const first = await openStore();
    await first.write([make.create(full)]);
    await first.close();

    const second = await openStore();
    const got = await second.getInstance('a');
    expect(got).toEqual(expected);
    expect(got?.maxRetries).toBe(Number.POSITIVE_INFINITY);
    expect(Object.is((got?.result as { negativeZero?: number })?.negativeZero, -0)).toBe(true);
  });

  it('keeps history and logs in the order they were written across reopen', async () => {
    const record = make.instance('a');
    const first = await openStore();
    await first.write([
      make.create(record),
      make.log(record, 'one', T0 + 1),
      { op: 'log', line: { ...make.line(record, 'two', T0 + 1, 'warn'), data: { k: 1 } } },
      make.finish(record, T0 + 2),
    ]);
    await first.close();

    const second = await openStore();
    const history = await second.lookupInstanceHistory({ instanceId: 'a' });
    expect(history.map((t) => t.state)).toEqual(['created', 'scheduled', 'completed']);
    const logs = await second.lookupInstanceLogs({ instanceId: 'a' });
    expect(logs.map((line) => [line.message, line.level, line.data])).toEqual([
      ['one', 'info', undefined],
      ['two', 'warn', { k: 1 }],
    ]);
  });

  it('keeps schedules, their updates and deletions across reopen', async () => {
    const first = await openStore();
    await first.saveSchedule(make.schedule('s1'));
    await first.saveSchedule(make.schedule('s2', { createdAt: T0 - 1 }));
    await first.saveSchedule(make.schedule('s1', { paused: true, runCount: 4, lastRunAt: T0 + 1 }));
    await first.saveSchedule(make.schedule('s3'));
    expect(await first.deleteSchedule('s3')).toBe(true);
    await first.close();

    const second = await openStore();
    expect(await second.listSchedules()).toEqual([
      make.schedule('s2', { createdAt: T0 - 1 }),
      make.schedule('s1', { paused: true, runCount: 4, lastRunAt: T0 + 1 }),
    ]);
    expect(await second.getSchedule('s3')).toBeUndefined();
  });

  it('keeps what a killed process wrote and opens the file at once after it', async () => {
    const holder = startHolder(file);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    holder.kill('SIGKILL');
    await exited;

    const store = await openStore({ busyTimeoutMs: 0 });
    expect(await store.countInstances({})).toBe(100);
    expect(await store.loadUnfinished()).toHaveLength(100);
  });
});

describe('SqliteStore: schema', () => {
  it('creates the schema in an empty file and records its version', async () => {
    writeFileSync(file, '');
    const store = await openStore();
    await store.write([make.create(make.instance('a'))]);
    await store.close();

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('migrates a version 1 file on open, keeping its instances, history and logs', async () => {
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0] as string);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma('user_version = 1');
    const backoff = JSON.stringify({ type: 'fixed', delayMs: 10 });
    raw.exec(`INSERT INTO instances (seq, id, kind, args, priority, state, attempt, max_retries,
        backoff, created_at, due_at, updated_at, finished_at, result)
      VALUES (1, 'a', 'email', '{"to":"ada"}', 5, 'completed', 1, 0, '${backoff}',
        ${T0}, ${T0}, ${T0 + 20}, ${T0 + 20}, '{"sent":true}')`);
    raw.exec(`INSERT INTO transitions (instance_seq, instance_id, kind, state, attempt, at, seq)
      VALUES (1, 'a', 'email', 'created', 1, ${T0}, 1), (1, 'a', 'email', 'running', 1, ${T0 + 10}, 2),
        (1, 'a', 'email', 'completed', 1, ${T0 + 20}, 4)`);
    raw.exec(`INSERT INTO logs (instance_seq, instance_id, kind, attempt, level, message, at, seq)
      VALUES (1, 'a', 'email', 1, 'info', 'sending', ${T0 + 15}, 3)`);
    raw.close();

    const store = await openStore();
    expect((await store.getInstance('a'))?.result).toEqual({ sent: true });
    const history = await store.lookupInstanceHistory({ kind: 'email' });
    expect(history.map(({ instanceId, kind, state }) => [instanceId, kind, state])).toEqual([
      ['a', 'email', 'created'],
      ['a', 'email', 'running'],
      ['a', 'email', 'completed'],
    ]);
    const lines = await store.lookupInstanceLogs({ instanceId: 'a' });
    expect(lines).toEqual([
      {
        instanceId: 'a',
        kind: 'email',
        attempt: 1,
        level: 'info',
        message: 'sending',
        at: T0 + 15,
        seq: 3,
      },
    ]);
    await store.write([make.create(make.instance('b'))]);
    expect(await store.countInstances({})).toBe(2);
    await store.close();

    const migrated = new Database(file, { readonly: true });
    expect(migrated.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const columns = migrated.prepare("SELECT name FROM pragma_table_info('transitions')").pluck();
    expect(columns.all()).not.toContain('instance_id');
    migrated.close();
  });

  it('refuses a newer schema version and leaves the file byte for byte unchanged', async () => {
    const raw = new Database(file);
    raw.exec('CREATE TABLE future (x)');
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const before = sha256(file);

    const error = await storeErrorOf(openSqliteStore(file));
    expect(error.code).toBe('ERR_STORE_CORRUPT');
    expect(error.message).toContain(file);
    expect(error.message).toContain(`schema version is ${SCHEMA_VERSION + 1}`);
    expect(sha256(file)).toBe(before);
  });
});

describe('SqliteStore: bad input and faults', () => {
  it("refuses another application's SQLite database and leaves it unchanged", async () => {
    const raw = new Database(file);
    raw.exec('CREATE TABLE instances (id TEXT PRIMARY KEY, colour TEXT)');
    raw.pragma('user_version = 1');
    raw.close();
    const before = sha256(file);

    const error = await storeErrorOf(openSqliteStore(file));
    expect(error.code).toBe('ERR_STORE_CORRUPT');
    expect(error.message).toContain(file);
    expect(error.message).toContain('a SQLite database of another application');
    expect(sha256(file)).toBe(before);
  });

  /** A file holding one instance, `a`, and the record to compare it with. */
  async function fileWithOneInstance() {
    const record = make.instance('a');
    const expected = structuredClone(record);
    const store = await openStore();
    await store.write([make.create(record)]);
    await store.close();
    return expected;
  }

  it('refuses a path in a missing directory, naming the file', async () => {
    const missing = join(dir, 'no-such-dir', 'jobs.db');
    const error = await storeErrorOf(openSqliteStore(missing));
    expect(error.message).toContain(missing);
    expect(error.message).toContain('does not exist');
    expect(error.cause).toBeDefined();
  });

  it('refuses a file that is not a database and leaves it unchanged', async () => {
    writeFileSync(file, 'name,priority\nbackup,5\n'.repeat(100));
    const before = sha256(file);

    const error = await storeErrorOf(openSqliteStore(file));
    expect(error.code).toBe('ERR_STORE_CORRUPT');
    expect(error.message).toContain(file);
    expect(error.message).toContain('not a SQLite database');
    expect((error.cause as { code?: string }).code).toBe('SQLITE_NOTADB');
    expect(sha256(file)).toBe(before);
  });

  it('refuses a read-only file, naming the file', async (context) => {
    const expected = await fileWithOneInstance();
    if (!makeReadOnly(file)) context.skip();

    try {
      const error = await storeErrorOf(openSqliteStore(file));
      expect(error.code).toBe('ERR_STORE_UNAVAILABLE');
      expect(error.message).toContain(file);
      expect(error.message).toMatch(/read-only/);
    } finally {
      makeWritable(file);
    }
    expect(await (await openStore()).getInstance('a')).toEqual(expected);
  });

  it('fails after busyTimeoutMs when another connection holds the lock', async () => {
    const expected = await fileWithOneInstance();
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');

    const startedAt = Date.now();
    const error = await storeErrorOf(openSqliteStore(file, { busyTimeoutMs: 150 }));
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(error.message).toContain(file);
    expect(error.message).toContain('locked by another connection');
    expect((error.cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/);

    other.exec('ROLLBACK');
    other.close();
    expect(await (await openStore()).getInstance('a')).toEqual(expected);
  });

  it('refuses a second store on an open file, and opens it once the first closes', async () => {
    const expected = await fileWithOneInstance();
    const first = await openStore();

    const error = await storeErrorOf(openSqliteStore(file, { busyTimeoutMs: 20 }));
    expect(error.message).toContain(file);
    expect(error.message).toContain('one store in one process at a time');
    expect(await first.getInstance('a')).toEqual(expected);

    await first.close();
    const second = await openStore();
    expect(await second.getInstance('a')).toEqual(expected);
  });

  it('keeps other processes out while open, also after a refused second store', async () => {
    await openStore();
    await storeErrorOf(openSqliteStore(file, { busyTimeoutMs: 20 }));

    expect(await probe(file)).toBe('refused ERR_STORE_UNAVAILABLE');
    for (const store of opened.splice(0)) await store.close();
    expect(await probe(file)).toBe('opened');
  });

  it('fails a write past maxSizeBytes with nothing of it stored, and stays readable', async () => {
    const expected = await fileWithOneInstance();
    const store = await openStore({ maxSizeBytes: 256 * 1024 });

    const big = 'x'.repeat(4_000);
    const batch = Array.from({ length: 100 }, (_, i) =>
      make.create(make.instance(`big-${i}`, { args: big })),
    );
    const error = await storeErrorOf(store.write(batch));
    expect(error.message).toContain(file);
    expect(error.message).toContain('full');
    expect((error.cause as { code?: string }).code).toBe('SQLITE_FULL');

    expect(await store.countInstances({})).toBe(1);
    expect(await store.getInstance('a')).toEqual(expected);
    await store.write([make.create(make.instance('small'))]);
    expect(await store.countInstances({})).toBe(2);
  });

  it('applies a batch atomically: a change failing mid-batch leaves nothing of it', async () => {
    const expected = await fileWithOneInstance();
    const store = await openStore();
    const stored = make.instance('a');
    const historyBefore = await store.lookupInstanceHistory({});

    const error = await storeErrorOf(
      store.write([
        make.create(make.instance('b')),
        make.log(stored, 'from the failed batch', T0 + 1),
        make.finish(stored, T0 + 2),
        { op: 'update', id: 'a', patch: { colour: 'red' } as never },
        make.create(make.instance('c')),
      ]),
    );
    expect(error.message).toContain('"colour", not an instance field');

    expect(await store.queryInstances({})).toEqual([expected]);
    expect(await store.lookupInstanceHistory({})).toEqual(historyBefore);
    expect(await store.lookupInstanceLogs({})).toEqual([]);
  });

  it('refuses invalid options, naming the option', async () => {
    expect(() => new SqliteStore({ path: '' })).toThrow(InvalidOptionError);
    expect(() => new SqliteStore({ path: file, busyTimeoutMs: -1 })).toThrow(
      /options\.busyTimeoutMs/,
    );
    expect(() => new SqliteStore({ path: file, synchronous: 'off' as 'full' })).toThrow(
      /options\.synchronous/,
    );
    expect(() => new SqliteStore({ path: file, maxFinished: 1.5 })).toThrow(/options\.maxFinished/);
    expect(() => new SqliteStore({ path: file, maxLogLinesPerInstance: -1 })).toThrow(
      /options\.maxLogLinesPerInstance/,
    );
  });

  it('keeps 100,000 finished instances for 7 days, and 10,000 lines of each, by default', () => {
    expect(SQLITE_STORE_RETENTION).toEqual({
      maxFinished: 100_000,
      maxFinishedAgeMs: 604_800_000,
      maxLogLinesPerInstance: 10_000,
    });
  });
});

describe('SqliteStore: its thread', () => {
  it('keeps no process alive while open and idle, and what it wrote stays written', async () => {
    const store = new URL('../src/store/sqlite-store.ts', import.meta.url).href;
    const code = `const { openSqliteStore } = await import(${JSON.stringify(store)});
      const s = await openSqliteStore(${JSON.stringify(file)});
      await s.write([${JSON.stringify(make.create(make.instance('left-open')))}]);`;
    // A child that stays alive is killed by the timeout, and execFileSync throws.
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      timeout: 20_000,
    });

    const reopened = await openStore();
    expect(await reopened.getInstance('left-open')).toMatchObject({ id: 'left-open' });
  });

  it('rejects a batch holding a value it cannot store, naming the file, and stores nothing', async () => {
    const store = await openStore();
    const record = make.instance('a', { args: { callback: () => 1 } });
    const error = await storeErrorOf(store.write([make.create(record)]));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/cannot write a batch of 1 changes: .*function/);
    const symbol = make.instance('b', { result: Symbol('no') });
    await storeErrorOf(store.write([make.create(symbol)]));
    expect(await store.countInstances({})).toBe(0);
  });

  it('applies no batch sent before an earlier one failed, and takes it when sent again', async () => {
    const store = await openStore();
    expect(store.writesInFlight).toBe(2);
    await store.write([make.create(make.instance('a'))]);

    // Both are at the thread before the first one's failure comes back.
    const duplicate = store.write([make.create(make.instance('a'))]);
    const behind = store.write([make.create(make.instance('b'))]);
    await storeErrorOf(duplicate);
    const refused = await storeErrorOf(behind);
    expect(refused.message).toMatch(/not applied: a batch written before it failed/);
    expect(await store.getInstance('b')).toBeUndefined();

    await store.write([make.create(make.instance('b'))]);
    expect(await store.getInstance('b')).toMatchObject({ id: 'b' });
  });

  it('copies the WAL into the file once it has been idle, without closing', async () => {
    const store = await openStore();
    const before = statSync(file).size;
    const batch = Array.from({ length: 2_500 }, (_, n) => make.create(make.instance(`i${n}`)));
    await store.write(batch);
    // The WAL holds the batch; the file grows only when a checkpoint copies it there.
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(1_000_000);
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 1_000_000), {
      timeout: 10_000,
    });
    expect(await store.countInstances({})).toBe(2_500);
  });
});

describe('SqliteStore: recovery', () => {
  it('loads unfinished instances in the order they were written, also within one ms', async () => {
    const store = await openStore();
    const ids = ['m', 'c', 'x', 'a', 'q'];
    await store.write(ids.map((id) => make.create(make.instance(id, { createdAt: T0 }))));
    await store.write([make.create(make.instance('b', { createdAt: T0 + 1 }))]);
    await store.write([make.create(make.instance('early', { createdAt: T0 - 1 }))]);

    const loaded = await store.loadUnfinished();
    expect(loaded.map((record) => record.id)).toEqual(['early', ...ids, 'b']);
  });
});

describe('SqliteStore: retention', () => {
  it('prunes finished instances by count and age, never unfinished ones', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = await openStore({ maxFinished: 2, maxFinishedAgeMs: 1_500, clock });
    const writes: StoreWrite[] = [];
    for (let i = 0; i < 5; i++) {
      const record = make.instance(`f${i}`);
      writes.push(make.create(record), make.finish(record, T0 + 600 + i));
    }
    writes.push(make.create(make.instance('waiting')));
    await store.write(writes);
    const ids = async () => (await store.queryInstances({})).map((i) => i.id);
    expect(await ids()).toHaveLength(6);

    clock.advance(999);
    await store.write([make.create(make.instance('later', { createdAt: T0 + 1 }))]);
    expect(await ids()).toHaveLength(7);

    clock.advance(1);
    await store.write([make.create(make.instance('later-2', { createdAt: T0 + 2 }))]);
    expect(await ids()).toEqual(['f3', 'f4', 'waiting', 'later', 'later-2']);
    expect(await store.lookupInstanceHistory({ instanceId: 'f0' })).toEqual([]);

    clock.advance(1_000);
    expect(await store.prune()).toBe(2);
    expect(await ids()).toEqual(['waiting', 'later', 'later-2']);
  });

  it('by default prunes what finished more than a week ago, and with Infinity nothing', async () => {
    const clock = new FakeClock(T0);
    const record = make.instance('old');
    const writes = [make.create(record), make.finish(record, T0)];
    const pruning = await openStore({ clock });
    await pruning.write(writes);
    await pruning.close();
    const keeping = await openStore({ clock, maxFinishedAgeMs: Infinity, maxFinished: Infinity });
    clock.advance(7 * 24 * 3_600_000 + 1);
    expect(await keeping.prune()).toBe(0);
    await keeping.close();

    const defaults = await openStore({ clock });
    expect(await defaults.getInstance('old')).toBeUndefined();
  });
});

describe('SqliteStore: log cap', () => {
  const messages = async (store: SqliteStore, instanceId: string) =>
    (await store.lookupInstanceLogs({ instanceId })).map((line) => line.message);

  it('keeps the newest maxLogLinesPerInstance lines of each instance and counts those dropped', async () => {
    const store = await openStore({ maxLogLinesPerInstance: 3 });
    const chatty = make.instance('chatty');
    const quiet = make.instance('quiet');
    await store.write([make.create(chatty), make.create(quiet), make.log(chatty, 'c1', T0 + 1)]);
    await store.write([
      ...[2, 3, 4, 5].map((n) => make.log(chatty, `c${n}`, T0 + n)),
      make.log(quiet, 'q1', T0 + 6),
    ]);

    expect(await messages(store, 'chatty')).toEqual(['c3', 'c4', 'c5']);
    expect(await messages(store, 'quiet')).toEqual(['q1']);
    expect(store.droppedLogLines).toBe(2);
  });

  it('counts the lines already in the file after it is reopened', async () => {
    const first = await openStore({ maxLogLinesPerInstance: 3 });
    const record = make.instance('a');
    await first.write([
      make.create(record),
      ...[1, 2, 3].map((n) => make.log(record, `l${n}`, T0 + n)),
    ]);
    await first.close();

    const second = await openStore({ maxLogLinesPerInstance: 3 });
    await second.write([make.log(record, 'l4', T0 + 4)]);
    expect(await messages(second, 'a')).toEqual(['l2', 'l3', 'l4']);
    expect(second.droppedLogLines).toBe(1);
  });

  it('keeps new lines after a clear, counting from what the clear left', async () => {
    const store = await openStore({ maxLogLinesPerInstance: 3 });
    const record = make.instance('a');
    await store.write([
      make.create(record),
      ...[1, 2, 3].map((n) => make.log(record, `l${n}`, T0 + n)),
    ]);

    expect(await store.clearInstanceLogs({ before: T0 + 3 })).toBe(2);
    await store.write([4, 5].map((n) => make.log(record, `l${n}`, T0 + n)));
    expect(await messages(store, 'a')).toEqual(['l3', 'l4', 'l5']);
    expect(store.droppedLogLines).toBe(0);
  });

  it('keeps nothing of a batch that fails, counts included', async () => {
    const store = await openStore({ maxLogLinesPerInstance: 2 });
    const record = make.instance('a');
    await store.write([make.create(record), make.log(record, 'l1', T0 + 1)]);
    const failing = [make.log(record, 'l2', T0 + 2), make.create(make.instance('a'))];
    await storeErrorOf(store.write(failing));

    await store.write([make.log(record, 'l3', T0 + 3)]);
    expect(await messages(store, 'a')).toEqual(['l1', 'l3']);
    expect(store.droppedLogLines).toBe(0);
  });

  it('keeps every line with Infinity', async () => {
    const store = await openStore({ maxLogLinesPerInstance: Infinity });
    const record = make.instance('a');
    const lines = Array.from({ length: 50 }, (_, n) => make.log(record, `l${n}`, T0 + n));
    await store.write([make.create(record), ...lines]);

    expect(await messages(store, 'a')).toHaveLength(50);
    expect(store.droppedLogLines).toBe(0);
  });
});

function startHolder(path: string, ...args: string[]) {
  const fixture = fileURLToPath(new URL('./fixtures/sqlite-holder.ts', import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', fixture, path, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** What another process gets when it tries to open the file. */
async function probe(path: string): Promise<string> {
  const child = startHolder(path, 'probe');
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise((resolve) => child.once('exit', resolve));
  return output.trim();
}

/** Makes a file unwritable even for root (immutable), or returns false when it cannot. */
function makeReadOnly(path: string): boolean {
  chmodSync(path, 0o444);
  if (process.getuid?.() !== 0) return true;
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function makeWritable(path: string): void {
  if (process.getuid?.() === 0) execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
  chmodSync(path, 0o644);
}

describeStoreContract(
  'sqlite',
  async () => {
    const contractDir = mkdtempSync(join(tmpdir(), 'jobloom-sqlite-contract-'));
    const path = join(contractDir, 'jobs.db');
    return new SqliteStore({ path, busyTimeoutMs: 50, clock: new FakeClock(T0) });
  },
  (store) => rmSync(dirname((store as SqliteStore).path), { recursive: true, force: true }),
);
