import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, StoreError } from '../src/errors.js';
import { SCHEMA_VERSION } from '../src/store/sqlite-schema.js';
import { openSqliteStore, SqliteStore } from '../src/store/sqlite-store.js';
import type { StoreWrite } from '../src/store/store.js';
import type {
  InstanceRecord,
  InstanceState,
  LogLine,
  ScheduleRecord,
  StateTransition,
} from '../src/types.js';
import { describeStoreContract } from './store-contract.js';
import { FakeClock } from './support/fake-clock.js';

const T0 = Date.UTC(2025, 0, 1);

function instance(id: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id,
    kind: 'echo',
    args: { n: 1 },
    priority: 5,
    state: 'scheduled',
    attempt: 0,
    maxRetries: 3,
    timeoutMs: null,
    backoff: { type: 'exponential', delayMs: 1_000, factor: 2, maxDelayMs: 300_000, jitter: 0.2 },
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

function transition(
  instanceId: string,
  state: InstanceState,
  at: number,
  seq: number,
): StateTransition {
  return { instanceId, kind: 'echo', state, attempt: 1, at, seq };
}

function logLine(instanceId: string, message: string, at: number, seq: number): LogLine {
  return { instanceId, kind: 'echo', attempt: 1, level: 'info', message, at, seq };
}

function create(record: InstanceRecord, ...transitions: StateTransition[]): StoreWrite {
  return { op: 'create', instance: record, transitions };
}

function finish(id: string, state: InstanceState, finishedAt: number): StoreWrite {
  return {
    op: 'update',
    id,
    patch: { state, finishedAt, updatedAt: finishedAt },
    transition: transition(id, state, finishedAt, 9),
  };
}

function schedule(id: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id,
    kind: 'echo',
    spec: { cron: '*/5 * * * *', timezone: 'Europe/Paris' },
    paused: false,
    nextRunAt: T0 + 300_000,
    lastRunAt: null,
    runCount: 0,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

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
const opened: SqliteStore[] = [];

async function openStore(options: Partial<ConstructorParameters<typeof SqliteStore>[0]> = {}) {
  const store = await openSqliteStore(file, { busyTimeoutMs: 50, ...options });
  opened.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobloom-sqlite-'));
  file = join(dir, 'jobs.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore: durability', () => {
  it('keeps every field of an instance across close and reopen', async () => {
    const full = instance('a', {
      args: { when: new Date(T0), tags: new Set(['x']), big: 10n, map: new Map([[1, 'one']]) },
      maxRetries: Number.POSITIVE_INFINITY,
      timeoutMs: 2_500,
      backoff: { type: 'fixed', delayMs: 10, factor: 1, maxDelayMs: Infinity, jitter: 0 },
      state: 'completed',
      attempt: 2,
      startedAt: T0 + 5,
      finishedAt: T0 + 9,
      result: { ok: true, bytes: new Uint8Array([1, 2, 3]) },
      error: { name: 'Error', message: 'first attempt failed', code: 'E_ONE' },
      progress: { done: 3, of: 4 },
      scheduleId: 's1',
      dueFor: T0 - 1,
      catchUp: true,
      owner: 'host-1',
      leaseUntil: T0 + 60_000,
    });
    const first = await openStore();
    await first.write([create(full)]);
    await first.close();

    const second = await openStore();
    expect(await second.getInstance('a')).toEqual(full);
    expect((await second.getInstance('a'))?.maxRetries).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps history and logs in the order they were written across reopen', async () => {
    const first = await openStore();
    await first.write([
      create(instance('a'), transition('a', 'created', T0, 1), transition('a', 'scheduled', T0, 2)),
      { op: 'log', line: logLine('a', 'one', T0 + 1, 3) },
      { op: 'log', line: { ...logLine('a', 'two', T0 + 1, 4), level: 'warn', data: { k: 1 } } },
      finish('a', 'completed', T0 + 2),
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
    await first.saveSchedule(schedule('s1'));
    await first.saveSchedule(schedule('s2', { createdAt: T0 - 1 }));
    await first.saveSchedule(schedule('s1', { paused: true, runCount: 4, lastRunAt: T0 + 1 }));
    await first.saveSchedule(schedule('s3'));
    expect(await first.deleteSchedule('s3')).toBe(true);
    expect(await first.deleteSchedule('s3')).toBe(false);
    await first.close();

    const second = await openStore();
    expect(await second.listSchedules()).toEqual([
      schedule('s2', { createdAt: T0 - 1 }),
      schedule('s1', { paused: true, runCount: 4, lastRunAt: T0 + 1 }),
    ]);
    expect(await second.getSchedule('s3')).toBeUndefined();
  });

  it('keeps what a killed process wrote and opens the file at once after it', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/sqlite-holder.ts', import.meta.url)),
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
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
    await store.write([create(instance('a'))]);
    await store.close();

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('refuses a file from a newer schema version and leaves it byte for byte unchanged', async () => {
    const raw = new Database(file);
    raw.exec('CREATE TABLE future (x)');
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
    const store = await openStore();
    await store.write([create(instance('a'))]);
    await store.close();
    if (!makeReadOnly(file)) context.skip();

    try {
      const error = await storeErrorOf(openSqliteStore(file));
      expect(error.code).toBe('ERR_STORE_UNAVAILABLE');
      expect(error.message).toContain(file);
      expect(error.message).toMatch(/read-only/);
    } finally {
      makeWritable(file);
    }
    expect(await (await openStore()).getInstance('a')).toEqual(instance('a'));
  });

  it('fails after busyTimeoutMs when another connection holds the lock', async () => {
    const store = await openStore();
    await store.write([create(instance('a'))]);
    await store.close();
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
    expect(await (await openStore()).getInstance('a')).toEqual(instance('a'));
  });

  it('refuses a second store on an open file, and opens it once the first closes', async () => {
    const first = await openStore();
    await first.write([create(instance('a'))]);

    const error = await storeErrorOf(openSqliteStore(file, { busyTimeoutMs: 20 }));
    expect(error.message).toContain(file);
    expect(error.message).toContain('one store in one process at a time');
    expect(await first.getInstance('a')).toEqual(instance('a'));

    await first.close();
    const second = await openStore();
    expect(await second.getInstance('a')).toEqual(instance('a'));
  });

  it('fails a write past maxSizeBytes with nothing of it stored, and stays readable', async () => {
    const store = await openStore({ maxSizeBytes: 256 * 1024 });
    await store.write([create(instance('kept'))]);

    const big = 'x'.repeat(4_000);
    const batch = Array.from({ length: 100 }, (_, i) =>
      create(instance(`big-${i}`, { args: big })),
    );
    const error = await storeErrorOf(store.write(batch));
    expect(error.message).toContain(file);
    expect(error.message).toContain('full');
    expect((error.cause as { code?: string }).code).toBe('SQLITE_FULL');

    expect(await store.countInstances({})).toBe(1);
    expect(await store.getInstance('kept')).toEqual(instance('kept'));
    await store.write([create(instance('small'))]);
    expect(await store.countInstances({})).toBe(2);
  });

  it('applies a batch atomically: a failing change leaves nothing of the batch', async () => {
    const store = await openStore();
    await store.write([create(instance('a'))]);

    const error = await storeErrorOf(
      store.write([
        create(instance('b'), transition('b', 'created', T0, 1)),
        { op: 'log', line: logLine('a', 'from the failed batch', T0, 2) },
        finish('a', 'completed', T0 + 1),
        create(instance('a')),
        create(instance('c')),
      ]),
    );
    expect(error.message).toContain('a record with this id already exists');

    expect(await store.queryInstances({})).toEqual([instance('a')]);
    expect(await store.lookupInstanceHistory({})).toEqual([]);
    expect(await store.lookupInstanceLogs({})).toEqual([]);
  });

  it('refuses invalid options and queries naming the field', async () => {
    expect(() => new SqliteStore({ path: '' })).toThrow(InvalidOptionError);
    expect(() => new SqliteStore({ path: file, busyTimeoutMs: -1 })).toThrow(
      /options\.busyTimeoutMs/,
    );
    const store = await openStore();
    await expect(store.queryInstances({ limit: -1 })).rejects.toThrow(/query\.limit/);
    await expect(store.lookupInstanceLogs({ minLevel: 'loud' as 'info' })).rejects.toThrow(
      /query\.minLevel/,
    );
  });

  it('says it is not open when used before open()', async () => {
    const store = new SqliteStore({ path: file });
    const error = await storeErrorOf(store.getInstance('a'));
    expect(error.message).toContain('not open');
  });
});

describe('SqliteStore: writes, queries and retention', () => {
  it('skips an update of an instance it does not have, and keeps the rest of the batch', async () => {
    const store = await openStore();
    await store.write([finish('gone', 'completed', T0), create(instance('a'))]);
    expect((await store.queryInstances({})).map((i) => i.id)).toEqual(['a']);
    expect(await store.lookupInstanceHistory({})).toEqual([]);
  });

  it('lists instances by createdAt then id, with filters, bounds and pages', async () => {
    const store = await openStore();
    await store.write([
      create(instance('b', { createdAt: T0 + 1 })),
      create(instance('a', { createdAt: T0 + 1, kind: 'other' })),
      create(instance('c', { createdAt: T0, state: 'running' })),
      create(instance('d', { createdAt: T0 + 2, state: 'failed' })),
    ]);
    const ids = async (query: Parameters<SqliteStore['queryInstances']>[0]) =>
      (await store.queryInstances(query)).map((i) => i.id);

    expect(await ids({})).toEqual(['c', 'a', 'b', 'd']);
    expect(await ids({ order: 'desc' })).toEqual(['d', 'b', 'a', 'c']);
    expect(await ids({ kind: 'echo', state: ['running', 'failed'] })).toEqual(['c', 'd']);
    expect(await ids({ createdAfter: T0, createdBefore: T0 + 2 })).toEqual(['a', 'b']);
    expect(await ids({ limit: 2, offset: 1 })).toEqual(['a', 'b']);
    expect(await ids({ offset: 3 })).toEqual(['d']);
    expect(await ids({ ids: ['d', 'a', 'zz'] })).toEqual(['a', 'd']);
    expect(await ids({ state: [] })).toEqual([]);
    expect(await store.countInstances({ kind: ['echo'] })).toBe(3);
  });

  it('filters logs by minLevel and level, ordered by at then seq', async () => {
    const store = await openStore();
    const line = (message: string, level: LogLine['level'], at: number, seq: number) => ({
      op: 'log' as const,
      line: { ...logLine('a', message, at, seq), level },
    });
    await store.write([
      create(instance('a')),
      line('w', 'warn', T0 + 1, 1),
      line('d', 'debug', T0, 2),
      line('e', 'error', T0, 3),
      line('i', 'info', T0, 1),
    ]);
    const messages = async (query: Parameters<SqliteStore['lookupInstanceLogs']>[0]) =>
      (await store.lookupInstanceLogs(query)).map((l) => l.message);

    expect(await messages({})).toEqual(['i', 'd', 'e', 'w']);
    expect(await messages({ minLevel: 'warn' })).toEqual(['e', 'w']);
    expect(await messages({ minLevel: 'info', level: ['debug', 'info'] })).toEqual(['i']);
    expect(await messages({ order: 'desc', after: T0 })).toEqual(['w']);
  });

  it('clears only final instances finished before the bound, with their history and logs', async () => {
    const store = await openStore();
    await store.write([
      create(instance('old'), transition('old', 'created', T0, 1)),
      { op: 'log', line: logLine('old', 'x', T0, 2) },
      finish('old', 'completed', T0 + 10),
      create(instance('new')),
      finish('new', 'failed', T0 + 20),
      create(instance('open')),
    ]);

    expect(await store.clearInstanceHistory({ finishedBefore: T0 + 20 })).toBe(1);
    expect((await store.queryInstances({})).map((i) => i.id)).toEqual(['new', 'open']);
    expect(await store.lookupInstanceHistory({ instanceId: 'old' })).toEqual([]);
    expect(await store.lookupInstanceLogs({ instanceId: 'old' })).toEqual([]);
    await expect(
      store.clearInstanceHistory({} as Parameters<SqliteStore['clearInstanceHistory']>[0]),
    ).rejects.toThrow(/filter\.finishedBefore/);
  });

  it('prunes finished instances by count and age, never unfinished ones', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = await openStore({ maxFinished: 2, maxFinishedAgeMs: 1_500, clock });
    const writes: StoreWrite[] = [];
    for (let i = 0; i < 5; i++) {
      writes.push(create(instance(`f${i}`)), finish(`f${i}`, 'completed', T0 + 600 + i));
    }
    writes.push(create(instance('waiting')));
    await store.write(writes);
    const ids = async () => (await store.queryInstances({})).map((i) => i.id);
    expect(await ids()).toHaveLength(6);

    clock.advance(999);
    await store.write([]);
    await store.write([create(instance('later', { createdAt: T0 + 1 }))]);
    expect(await ids()).toHaveLength(7);

    clock.advance(1);
    await store.write([create(instance('later-2', { createdAt: T0 + 2 }))]);
    expect(await ids()).toEqual(['f3', 'f4', 'waiting', 'later', 'later-2']);
    expect(await store.lookupInstanceHistory({ instanceId: 'f0' })).toEqual([]);

    clock.advance(1_000);
    expect(await store.prune()).toBe(2);
    expect(await ids()).toEqual(['waiting', 'later', 'later-2']);
  });

  it('claims due instances in priority, due and age order under a lease', async () => {
    const store = await openStore();
    await store.write([
      create(instance('low', { priority: 8 })),
      create(instance('high-late', { priority: 0, dueAt: T0 + 5 })),
      create(instance('high', { priority: 0, dueAt: T0 + 1 })),
      create(instance('future', { priority: 0, dueAt: T0 + 100_000 })),
      create(instance('running', { priority: 0, state: 'running' })),
    ]);

    const claimed = await store.claim({ owner: 'p1', limit: 2, now: T0 + 10, leaseMs: 1_000 });
    expect(claimed.map((i) => [i.id, i.owner, i.leaseUntil])).toEqual([
      ['high', 'p1', T0 + 1_010],
      ['high-late', 'p1', T0 + 1_010],
    ]);
    const other = await store.claim({ owner: 'p2', limit: 5, now: T0 + 10, leaseMs: 1_000 });
    expect(other.map((i) => i.id)).toEqual(['low']);
    const expired = await store.claim({ owner: 'p2', limit: 5, now: T0 + 1_010, leaseMs: 1_000 });
    expect(expired.map((i) => i.id)).toEqual(['high', 'high-late', 'low']);

    expect(await store.renewLeases('p1', ['high', 'low'], T0 + 5_000)).toEqual([]);
    expect(await store.renewLeases('p2', ['low', 'high'], T0 + 5_000)).toEqual(['low', 'high']);
  });
});

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
    return new SqliteStore({ path: join(contractDir, 'jobs.db'), busyTimeoutMs: 50 });
  },
  (store) => rmSync(dirname((store as SqliteStore).path), { recursive: true, force: true }),
);
