import type BetterSqlite3 from 'better-sqlite3';
import { SqliteLeases } from './sqlite-leases.js';
import { connect } from './sqlite-open.js';
import type { EngineOptions } from './sqlite-options.js';
import type { Sql } from './sqlite-query.js';
import { SqliteRetention } from './sqlite-retention.js';
import { type InstanceRow, insertSql, SCHEDULE_COLUMNS, type ScheduleRow } from './sqlite-rows.js';
import { StatementCache } from './sqlite-statement-cache.js';
import type { WireBatch } from './sqlite-wire.js';
import { SqliteWriter } from './sqlite-writer.js';
import type { ClaimOptions } from './store.js';

/** What a SqliteStore asks of its engine: one request per store call, answered in order. */
export type EngineRequest =
  | { op: 'write'; wire: WireBatch; changes: number; now: number; epoch: number }
  | { op: 'all'; sql: Sql }
  | { op: 'pluck'; sql: Sql }
  | { op: 'run'; sql: Sql }
  | { op: 'getInstance'; id: string }
  | { op: 'claim'; options: ClaimOptions }
  | { op: 'renew'; owner: string; ids: readonly string[]; leaseUntil: number }
  | { op: 'saveSchedule'; params: unknown[] }
  | { op: 'deleteSchedule'; id: string }
  | { op: 'getSchedule'; id: string }
  | { op: 'listSchedules' }
  | { op: 'prune'; now: number }
  | { op: 'close' };

/** Rows of a query as arrays, with the names of their columns: cheap to send between threads. */
export interface Rows {
  names: string[];
  rows: unknown[][];
}

/** Most SQL the store runs varies with a query's filters; past this many shapes, start over. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * The SQLite store's work on its connection, synchronous, on the thread that made it (the
 * store's own thread, see sqlite-thread-entry.ts): it applies write batches and runs the SQL
 * the store builds, returning rows as SQLite gives them. Records are encoded and decoded on
 * either side of it: write batches here (sqlite-writer.ts), rows in the SqliteStore.
 */
export class SqliteEngine {
  readonly #db: BetterSqlite3.Database;
  readonly #writer: SqliteWriter;
  readonly #leases: SqliteLeases;
  readonly #retention: SqliteRetention;
  readonly #selectInstance: BetterSqlite3.Statement<[string], InstanceRow>;
  readonly #saveSchedule: BetterSqlite3.Statement<unknown[]>;
  readonly #deleteSchedule: BetterSqlite3.Statement<[string]>;
  readonly #selectSchedule: BetterSqlite3.Statement<[string], ScheduleRow>;
  readonly #listSchedules: BetterSqlite3.Statement<[], ScheduleRow>;
  /** SQL built from queries, prepared once per text. */
  readonly #statements: StatementCache<string, BetterSqlite3.Statement<unknown[]>>;
  /** The epoch of the last write that failed: later writes of that epoch are refused. */
  #failedEpoch = -1;

  /** Opens the file (see connect) and prunes what retention allows at `now`. */
  constructor(options: EngineOptions, now: number) {
    const db = connect(options);
    try {
      this.#db = db;
      this.#writer = new SqliteWriter(db, options.maxLogLinesPerInstance);
      this.#leases = new SqliteLeases(db);
      this.#retention = new SqliteRetention(db, options);
      this.#selectInstance = db.prepare('SELECT * FROM instances WHERE id = ?');
      this.#saveSchedule = db.prepare(upsertScheduleSql());
      this.#deleteSchedule = db.prepare('DELETE FROM schedules WHERE id = ?');
      this.#selectSchedule = db.prepare('SELECT * FROM schedules WHERE id = ?');
      this.#listSchedules = db.prepare('SELECT * FROM schedules ORDER BY created_at, id');
      this.#statements = new StatementCache(MAX_CACHED_STATEMENTS, (text) => db.prepare(text));
    } catch (error) {
      db.close();
      throw error;
    }
    this.#pruneQuietly(now);
  }

  /**
   * Copies what the WAL holds into the database file (the store's connection is the only one,
   * so a passive checkpoint copies all of it), after which the WAL starts over.
   */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Does one request; throws what SQLite throws (the caller turns it into a StoreError). */
  handle(request: EngineRequest): unknown {
    switch (request.op) {
      case 'write': {
        const droppedLines = this.#write(request.wire, request.epoch);
        this.#pruneQuietly(request.now);
        return droppedLines;
      }
      case 'all':
        return this.#all(request.sql);
      case 'pluck':
        return this.#statements
          .get(request.sql.text)
          .pluck()
          .get(...request.sql.params);
      case 'run':
        // The store runs only clears this way: they may delete lines the log cap counted.
        this.#writer.forgetLogCounts();
        return this.#statements.get(request.sql.text).run(...request.sql.params).changes;
      case 'getInstance':
        return this.#selectInstance.get(request.id);
      case 'claim':
        return this.#leases.claim(request.options);
      case 'renew':
        return this.#leases.renew(request.owner, request.ids, request.leaseUntil);
      default:
        return this.#handleSchedulesAndUpkeep(request);
    }
  }

  /**
   * Applies a batch, unless a batch sent before it (same epoch) failed: applying this one
   * would put its changes before those of the failed batch, which the store sends again.
   */
  #write(wire: WireBatch, epoch: number): number {
    if (epoch === this.#failedEpoch) {
      throw new Error('not applied: a batch written before it failed, and both are sent again');
    }
    try {
      return this.#writer.write(wire);
    } catch (error) {
      this.#failedEpoch = epoch;
      throw error;
    }
  }

  #handleSchedulesAndUpkeep(request: EngineRequest): unknown {
    switch (request.op) {
      case 'saveSchedule':
        this.#saveSchedule.run(...request.params);
        return undefined;
      case 'deleteSchedule':
        return this.#deleteSchedule.run(request.id).changes > 0;
      case 'getSchedule':
        return this.#selectSchedule.get(request.id);
      case 'listSchedules':
        return this.#listSchedules.all();
      case 'prune':
        return this.#retention.pruneAll(request.now);
      case 'close':
        this.#db.close();
        return undefined;
      default:
        throw new TypeError(`unknown store request ${request.op}`);
    }
  }

  /**
   * Rows as arrays: better-sqlite3 builds row objects key by key through V8's API, which for
   * the 23 columns of an instance is three times slower than arrays (and arrays are cheaper to
   * send to the store's thread).
   */
  #all(sql: Sql): Rows {
    const statement = this.#statements.get(sql.text);
    const names = statement.columns().map((column) => column.name);
    return { names, rows: statement.raw(true).all(...sql.params) as unknown[][] };
  }

  /**
   * Runs a retention pass if one is due. A pass that fails (on a full disk, say) must not fail
   * the write before it, which is committed, nor the open; it is tried again after a write.
   */
  #pruneQuietly(now: number): void {
    try {
      this.#retention.pruneIfDue(now);
    } catch {
      // Nothing is lost: what was due for removal stays until a later pass removes it.
    }
  }
}

function upsertScheduleSql(): string {
  const updates = SCHEDULE_COLUMNS.slice(1).map((column) => `${column} = excluded.${column}`);
  const insert = insertSql('schedules', SCHEDULE_COLUMNS);
  return `${insert} ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}`;
}
