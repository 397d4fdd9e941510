import type BetterSqlite3 from 'better-sqlite3';
import { JobloomError, StoreError } from '../errors.js';
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
import { sqliteStoreError } from './sqlite-errors.js';
import { SqliteLeases } from './sqlite-leases.js';
import { closeDatabase, type OpenedDatabase, openDatabase } from './sqlite-open.js';
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
import { SqliteRetention } from './sqlite-retention.js';
import {
  type InstanceRow,
  insertSql,
  instanceFromRow,
  type LogRow,
  logFromRow,
  SCHEDULE_COLUMNS,
  type ScheduleRow,
  scheduleFromRow,
  scheduleParams,
  type TransitionRow,
  transitionFromRow,
} from './sqlite-rows.js';
import { SqliteWriter } from './sqlite-writer.js';
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
 * Retention: finished instances are kept for 7 days and at most 100,000 of them by default
 * (see SQLITE_STORE_RETENTION); unfinished ones are never removed.
 *
 * All work is synchronous on the calling thread: the promises are for the Store interface.
 * A write batch of a few hundred changes takes a millisecond or two; about every 4 MB of WAL,
 * the batch that fills it also checkpoints the WAL into the file, which takes 10–50 ms on a
 * two-core VM (bench/results/sqlite.md). Costs per instance: ~1.2 KB of file, and 30–40 µs
 * of the calling thread for a short job (five state transitions, no log lines).
 */
export class SqliteStore implements Store {
  readonly name: string;
  readonly #options: ResolvedSqliteStoreOptions;
  #open: OpenStore | undefined;

  constructor(options: SqliteStoreOptions) {
    this.#options = resolveSqliteStoreOptions(options);
    this.name = `sqlite:${this.#options.path}`;
  }

  /** The database file. */
  get path(): string {
    return this.#options.path;
  }

  /** Opens the file (creating it and its schema when missing); a no-op when open. */
  async open(): Promise<void> {
    if (this.#open) return;
    const opened = openDatabase(this.#options);
    try {
      this.#open = new OpenStore(opened, this.#options);
    } catch (error) {
      closeDatabase(opened);
      throw sqliteStoreError(this.path, 'cannot open', error);
    }
    pruneQuietly(this.#open);
  }

  /** Closes the file and releases its lock; a no-op when closed. */
  async close(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    if (open) closeDatabase(open.opened);
  }

  async write(batch: readonly StoreWrite[]): Promise<void> {
    if (batch.length === 0) return;
    const open = this.#use(`cannot write a batch of ${batch.length} changes`);
    try {
      open.writer.write(batch);
    } catch (error) {
      throw sqliteStoreError(this.path, `cannot write a batch of ${batch.length} changes`, error);
    }
    pruneQuietly(open);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    checkString(id, 'id');
    return this.#read('cannot read an instance', (open) => {
      const row = open.selectInstance.get(id);
      return row === undefined ? undefined : instanceFromRow(row);
    });
  }

  async queryInstances(query: InstanceQuery): Promise<InstanceRecord[]> {
    const sql = instancesSql(query, false);
    return this.#all<InstanceRow>('cannot query instances', sql).map(instanceFromRow);
  }

  async countInstances(query: InstanceQuery): Promise<number> {
    const sql = instancesSql(query, true);
    return this.#read('cannot count instances', (open) => {
      return open
        .statement(sql.text)
        .pluck()
        .get(...sql.params) as number;
    });
  }

  async lookupInstanceHistory(query: HistoryQuery): Promise<StateTransition[]> {
    const sql = historySql(query);
    return this.#all<TransitionRow>('cannot read history', sql).map(transitionFromRow);
  }

  async lookupInstanceLogs(query: LogQuery): Promise<LogLine[]> {
    return this.#all<LogRow>('cannot read logs', logsSql(query)).map(logFromRow);
  }

  async clearInstanceHistory(filter: ClearFilter): Promise<number> {
    const sql = clearInstancesSql(filter);
    return this.#change('cannot clear history', sql);
  }

  async clearInstanceLogs(filter: LogClearFilter): Promise<number> {
    return this.#change('cannot clear logs', clearLogsSql(filter));
  }

  /**
   * In creation order: by `createdAt`, and instances created in the same ms in the order they
   * were written (their `seq`), not by id as queries do, so that recovery resumes instances of
   * equal priority first-in, first-out.
   */
  async loadUnfinished(): Promise<InstanceRecord[]> {
    const sql = { text: UNFINISHED_SQL, params: [] };
    return this.#all<InstanceRow>('cannot load unfinished instances', sql).map(instanceFromRow);
  }

  async claim(options: ClaimOptions): Promise<InstanceRecord[]> {
    return this.#read('cannot claim instances', (open) => open.leases.claim(options));
  }

  async renewLeases(owner: string, ids: readonly string[], leaseUntil: number): Promise<string[]> {
    return this.#read('cannot renew leases', (open) => open.leases.renew(owner, ids, leaseUntil));
  }

  async saveSchedule(schedule: ScheduleRecord): Promise<void> {
    checkString(checkObject(schedule, 'schedule').id, 'schedule.id');
    this.#read('cannot save a schedule', (open) =>
      open.saveSchedule.run(...scheduleParams(schedule)),
    );
  }

  async deleteSchedule(id: string): Promise<boolean> {
    checkString(id, 'id');
    return this.#read(
      'cannot delete a schedule',
      (open) => open.deleteSchedule.run(id).changes > 0,
    );
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    checkString(id, 'id');
    return this.#read('cannot read a schedule', (open) => {
      const row = open.selectSchedule.get(id);
      return row === undefined ? undefined : scheduleFromRow(row);
    });
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.#read('cannot list schedules', (open) =>
      open.listSchedules.all().map(scheduleFromRow),
    );
  }

  /**
   * Removes what retention allows now, in as many passes as it takes (writes do it a pass at a
   * time, at most once per `pruneIntervalMs`); returns how many instances it removed.
   */
  async prune(): Promise<number> {
    return this.#read('cannot prune', (open) => open.retention.pruneAll());
  }

  #all<Row>(doing: string, sql: Sql): Row[] {
    return this.#read(doing, (open) => rowsOf<Row>(open.statement(sql.text), sql.params));
  }

  #change(doing: string, sql: Sql): number {
    return this.#read(doing, (open) => open.statement(sql.text).run(...sql.params).changes);
  }

  /** Runs `work` on the open store; errors other than jobloom's become StoreErrors. */
  #read<T>(doing: string, work: (open: OpenStore) => T): T {
    const open = this.#use(doing);
    try {
      return work(open);
    } catch (error) {
      if (error instanceof JobloomError) throw error;
      throw sqliteStoreError(this.path, doing, error);
    }
  }

  #use(doing: string): OpenStore {
    if (this.#open) return this.#open;
    throw new StoreError(
      `sqlite store ${this.path}: ${doing}: the store is not open; call open() first`,
    );
  }
}

/**
 * Runs a retention pass if one is due. A pass that fails (on a full disk, say) must not fail
 * the write before it, which is committed, nor the open; it is tried again after a write.
 */
function pruneQuietly(open: OpenStore): void {
  try {
    open.retention.pruneIfDue();
  } catch {
    // Nothing is lost: what was due for removal stays until a later pass removes it.
  }
}

/**
 * The rows a query returns, as objects keyed by column name. better-sqlite3 builds each row
 * object key by key through V8's API; for the 23 columns of an instance that is three times
 * slower than taking the rows as arrays and naming them here (100,000 unfinished instances
 * at recovery: 1.5 s against 0.45 s).
 */
function rowsOf<Row>(statement: BetterSqlite3.Statement<unknown[]>, params: unknown[]): Row[] {
  const names = statement.columns().map((column) => column.name);
  const rows = statement.raw(true).all(...params) as unknown[][];
  return rows.map((values) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i];
    return row as Row;
  });
}

/** Opens a SqliteStore on a file and resolves once it is ready to use. */
export async function openSqliteStore(
  path: string,
  options: Omit<SqliteStoreOptions, 'path'> = {},
): Promise<SqliteStore> {
  const store = new SqliteStore({ ...options, path });
  await store.open();
  return store;
}

const UNFINISHED_SQL = `SELECT * FROM instances WHERE state IN (${[...ACTIVE_STATES]
  .map((state) => `'${state}'`)
  .join(', ')}) ORDER BY created_at, seq`;

/** Most SQL the store runs varies with a query's filters; past this many shapes, start over. */
const MAX_CACHED_STATEMENTS = 256;

/** What exists only while the file is open: the connection and its prepared statements. */
class OpenStore {
  readonly opened: OpenedDatabase;
  readonly db: BetterSqlite3.Database;
  readonly writer: SqliteWriter;
  readonly leases: SqliteLeases;
  readonly retention: SqliteRetention;
  readonly selectInstance: BetterSqlite3.Statement<[string], InstanceRow>;
  readonly saveSchedule: BetterSqlite3.Statement<unknown[]>;
  readonly deleteSchedule: BetterSqlite3.Statement<[string]>;
  readonly selectSchedule: BetterSqlite3.Statement<[string], ScheduleRow>;
  readonly listSchedules: BetterSqlite3.Statement<[], ScheduleRow>;
  readonly #statements = new Map<string, BetterSqlite3.Statement<unknown[]>>();

  constructor(opened: OpenedDatabase, options: ResolvedSqliteStoreOptions) {
    const { db } = opened;
    this.opened = opened;
    this.db = db;
    this.writer = new SqliteWriter(db);
    this.leases = new SqliteLeases(db);
    this.retention = new SqliteRetention(db, options);
    this.selectInstance = db.prepare('SELECT * FROM instances WHERE id = ?');
    this.saveSchedule = db.prepare(upsertScheduleSql());
    this.deleteSchedule = db.prepare('DELETE FROM schedules WHERE id = ?');
    this.selectSchedule = db.prepare('SELECT * FROM schedules WHERE id = ?');
    this.listSchedules = db.prepare('SELECT * FROM schedules ORDER BY created_at, id');
  }

  /** A prepared statement for SQL built from a query, cached by its text. */
  statement(text: string): BetterSqlite3.Statement<unknown[]> {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.clear();
      this.#statements.set(text, statement);
    }
    return statement;
  }
}

function upsertScheduleSql(): string {
  const updates = SCHEDULE_COLUMNS.slice(1).map((column) => `${column} = excluded.${column}`);
  const insert = insertSql('schedules', SCHEDULE_COLUMNS);
  return `${insert} ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}`;
}
