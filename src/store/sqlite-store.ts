import { StoreError } from '../errors.js';
import type {
  ClearFilter,
  HistoryQuery,
  InstanceQuery,
  InstanceRecord,
  LogClearFilter,
  LogLine,
  LogQuery,
  ScheduleRecord,
  StateTransition,
} from '../types.js';
import { ACTIVE_STATES } from '../types.js';
import { checkObject, checkString } from '../validate/options.js';
import { validateBatch, validateClaimOptions, validateRenewal } from './query.js';
import type { EngineRequest, Rows } from './sqlite-engine.js';
import { sqliteStoreError } from './sqlite-errors.js';
import { claimFile, type FileClaim } from './sqlite-open.js';
import {
  type ResolvedSqliteStoreOptions,
  resolveSqliteStoreOptions,
  type SqliteStoreOptions,
} from './sqlite-options.js';
import {
  clearInstancesSql,
  clearLogsSql,
  historySql,
  instancesSql,
  logsSql,
  type Sql,
} from './sqlite-query.js';
import {
  type InstanceRow,
  instanceFromRow,
  type LogRow,
  logFromRow,
  type ScheduleRow,
  scheduleFromRow,
  scheduleParams,
  type TransitionRow,
  transitionFromRow,
} from './sqlite-rows.js';
import { SqliteThread } from './sqlite-thread.js';
import { encodeBatch, transferOf, type WireBatch } from './sqlite-wire.js';
import type { ClaimOptions, Store, StoreWrite } from './store.js';

export type { SqliteStoreOptions } from './sqlite-options.js';

/**
 * A durable store in one SQLite file (better-sqlite3), for a process that must lose nothing
 * when it dies, with no database server.
 *
 * Durability: WAL mode; a write batch is one transaction. With `synchronous: 'normal'` (the
 * default) every batch `write()` resolved for survives the process crashing or being killed;
 * a power loss or OS crash may lose the last batches but never corrupts the file.
 * `synchronous: 'full'` makes every resolved batch survive a power loss as well.
 *
 * One process at a time: the store holds an exclusive lock on the file while open (see
 * sqlite-open.ts). A second store opening the same file is refused with a StoreError, at once
 * in this process and after `busyTimeoutMs` in another, instead of two managers both
 * recovering and running the same instances. The lock dies with its process, so a restart
 * after a crash opens the file at once. Processes that must share one store use PostgreSQL.
 *
 * Recovery: `loadUnfinished()` returns whole records (state, attempt count, retries, backoff,
 * timeout, arguments, progress, owner) in creation order, which is all a manager needs to
 * resume them.
 *
 * Retention: finished instances are kept for 7 days and at most 100,000 of them by default,
 * and at most 10,000 log lines of any instance (see SQLITE_STORE_RETENTION); unfinished
 * instances are never removed.
 *
 * Threads: the connection lives on a thread of the store's own (sqlite-thread.ts), which runs
 * every transaction and every query, one at a time, in the order they were asked for. The
 * thread that uses the store only encodes write batches and hands them across, and decodes
 * the rows that come back. A short job (one row and five state transitions) costs the store's
 * thread about 25 µs of CPU and about 3 KB of WAL, and the WAL's checkpoint into the file
 * (about every 4 MB) takes 10–50 ms with its fsyncs on a two-core VM: on the main thread that
 * was more than the rest of the manager spends per instance, and a stall for its timers
 * (bench/results/sqlite.md).
 */
export class SqliteStore implements Store {
  readonly name: string;
  /**
   * One write is at the thread while the next waits there, so the thread goes from one
   * transaction to the next without waiting for this thread to answer.
   */
  readonly writesInFlight = 2;
  readonly #options: ResolvedSqliteStoreOptions;
  /**
   * Counts the write failures reported so far. The thread refuses a write sent before the last
   * failure it saw was reported (see SqliteEngine), so batches behind a failed one are not
   * applied out of order; those sent once the failure was reported are the retries.
   */
  #writeEpoch = 0;
  #droppedLogLines = 0;
  #thread: SqliteThread | undefined;
  #claim: FileClaim | undefined;
  #opening: Promise<void> | undefined;

  constructor(options: SqliteStoreOptions) {
    this.#options = resolveSqliteStoreOptions(options);
    this.name = `sqlite:${this.#options.path}`;
  }

  /** The database file. */
  get path(): string {
    return this.#options.path;
  }

  /**
   * Log lines deleted since this store opened because their instance held more than
   * `maxLogLinesPerInstance`.
   */
  get droppedLogLines(): number {
    return this.#droppedLogLines;
  }

  /** Opens the file (creating it and its schema when missing); a no-op when open. */
  async open(): Promise<void> {
    if (this.#thread) return;
    this.#opening ??= this.#start().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  /** Closes the file and releases its lock; a no-op when closed. */
  async close(): Promise<void> {
    await this.#opening?.catch(() => {});
    const thread = this.#thread;
    this.#thread = undefined;
    if (thread === undefined) return;
    try {
      await thread.close();
    } finally {
      this.#claim?.release();
      this.#claim = undefined;
    }
  }

  async write(batch: readonly StoreWrite[]): Promise<void> {
    validateBatch(batch);
    if (batch.length === 0) return;
    const now = this.#options.clock.now();
    const epoch = this.#writeEpoch;
    const doing = `cannot write a batch of ${batch.length} changes`;
    try {
      const wire = this.#encode(doing, batch);
      const request: EngineRequest = { op: 'write', wire, changes: batch.length, now, epoch };
      this.#droppedLogLines += await this.#call<number>(request, doing, transferOf(wire));
    } catch (error) {
      if (epoch === this.#writeEpoch) this.#writeEpoch++;
      throw error;
    }
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    checkString(id, 'id');
    const row = await this.#call<InstanceRow | undefined>(
      { op: 'getInstance', id },
      'cannot read an instance',
    );
    return row === undefined
      ? undefined
      : this.#decode('cannot read an instance', instanceFromRow, row);
  }

  async queryInstances(query: InstanceQuery): Promise<InstanceRecord[]> {
    const sql = instancesSql(query, false);
    const doing = 'cannot query instances';
    return this.#decodeAll(doing, instanceFromRow, await this.#all<InstanceRow>(sql, doing));
  }

  async countInstances(query: InstanceQuery): Promise<number> {
    const sql = instancesSql(query, true);
    return this.#call<number>({ op: 'pluck', sql }, 'cannot count instances');
  }

  async lookupInstanceHistory(query: HistoryQuery): Promise<StateTransition[]> {
    const doing = 'cannot read history';
    const rows = await this.#all<TransitionRow>(historySql(query), doing);
    return this.#decodeAll(doing, transitionFromRow, rows);
  }

  async lookupInstanceLogs(query: LogQuery): Promise<LogLine[]> {
    const doing = 'cannot read logs';
    return this.#decodeAll(doing, logFromRow, await this.#all<LogRow>(logsSql(query), doing));
  }

  async clearInstanceHistory(filter: ClearFilter): Promise<number> {
    const sql = clearInstancesSql(filter);
    return this.#call<number>({ op: 'run', sql }, 'cannot clear history');
  }

  async clearInstanceLogs(filter: LogClearFilter): Promise<number> {
    return this.#call<number>({ op: 'run', sql: clearLogsSql(filter) }, 'cannot clear logs');
  }

  /**
   * In creation order: by `createdAt`, and instances created in the same ms in the order they
   * were written (their `seq`), not by id as queries do, so that recovery resumes instances of
   * equal priority first-in, first-out.
   */
  async loadUnfinished(): Promise<InstanceRecord[]> {
    const sql = { text: UNFINISHED_SQL, params: [] };
    const doing = 'cannot load unfinished instances';
    return this.#decodeAll(doing, instanceFromRow, await this.#all<InstanceRow>(sql, doing));
  }

  async claim(options: ClaimOptions): Promise<InstanceRecord[]> {
    validateClaimOptions(options);
    const doing = 'cannot claim instances';
    const rows = await this.#call<InstanceRow[]>({ op: 'claim', options }, doing);
    return this.#decodeAll(doing, instanceFromRow, rows);
  }

  async renewLeases(owner: string, ids: readonly string[], leaseUntil: number): Promise<string[]> {
    validateRenewal(owner, ids, leaseUntil);
    return this.#call({ op: 'renew', owner, ids, leaseUntil }, 'cannot renew leases');
  }

  async saveSchedule(schedule: ScheduleRecord): Promise<void> {
    checkString(checkObject(schedule, 'schedule').id, 'schedule.id');
    const params = scheduleParams(schedule);
    await this.#call({ op: 'saveSchedule', params }, 'cannot save a schedule');
  }

  async deleteSchedule(id: string): Promise<boolean> {
    checkString(id, 'id');
    return this.#call<boolean>({ op: 'deleteSchedule', id }, 'cannot delete a schedule');
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    checkString(id, 'id');
    const row = await this.#call<ScheduleRow | undefined>(
      { op: 'getSchedule', id },
      'cannot read a schedule',
    );
    return row === undefined
      ? undefined
      : this.#decode('cannot read a schedule', scheduleFromRow, row);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const doing = 'cannot list schedules';
    const rows = await this.#call<ScheduleRow[]>({ op: 'listSchedules' }, doing);
    return this.#decodeAll(doing, scheduleFromRow, rows);
  }

  /**
   * Removes what retention allows now, in as many passes as it takes (writes do it a pass at a
   * time, at most once per `pruneIntervalMs`); returns how many instances it removed.
   */
  async prune(): Promise<number> {
    const now = this.#options.clock.now();
    return this.#call<number>({ op: 'prune', now }, 'cannot prune');
  }

  /** Claims the file here, then opens it on the store's thread. */
  async #start(): Promise<void> {
    const claim = claimFile(this.path);
    try {
      const { clock, ...options } = this.#options;
      this.#thread = await SqliteThread.open(options, clock.now());
      claim.opened();
      this.#claim = claim;
    } catch (error) {
      claim.release();
      throw error;
    }
  }

  async #all<Row>(sql: Sql, doing: string): Promise<Row[]> {
    const { names, rows } = await this.#call<Rows>({ op: 'all', sql }, doing);
    return rows.map((values) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i];
      return row as Row;
    });
  }

  /** Encodes a batch for the thread; a value that cannot be written is a StoreError. */
  #encode(doing: string, batch: readonly StoreWrite[]): WireBatch {
    try {
      return encodeBatch(batch);
    } catch (error) {
      throw sqliteStoreError(this.path, doing, error);
    }
  }

  /** Decodes a row (JSON columns); a value that cannot be read back is a StoreError. */
  #decode<Row, T>(doing: string, decode: (row: Row) => T, row: Row): T {
    try {
      return decode(row);
    } catch (error) {
      throw sqliteStoreError(this.path, doing, error);
    }
  }

  #decodeAll<Row, T>(doing: string, decode: (row: Row) => T, rows: readonly Row[]): T[] {
    return rows.map((row) => this.#decode(doing, decode, row));
  }

  #call<T>(request: EngineRequest, doing: string, transfer?: ArrayBuffer[]): Promise<T> {
    const thread = this.#thread;
    if (thread) return thread.call<T>(request, doing, transfer);
    const why = 'the store is not open; call open() first';
    return Promise.reject(new StoreError(`sqlite store ${this.path}: ${doing}: ${why}`));
  }
}

const UNFINISHED_SQL = `SELECT * FROM instances WHERE state IN (${[...ACTIVE_STATES]
  .map((state) => `'${state}'`)
  .join(', ')}) ORDER BY created_at, seq`;

/** Opens a SqliteStore on a file and resolves once it is ready to use. */
export async function openSqliteStore(
  path: string,
  options: Omit<SqliteStoreOptions, 'path'> = {},
): Promise<SqliteStore> {
  const store = new SqliteStore({ ...options, path });
  await store.open();
  return store;
}
