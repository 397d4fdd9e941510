import type BetterSqlite3 from 'better-sqlite3';
import type { SqlValue } from './sqlite-rows.js';

type Statement = BetterSqlite3.Statement<unknown[]>;

/**
 * Rows one statement inserts at most. Each call into better-sqlite3 costs about 1 µs beside
 * SQLite's own work (binding, stepping, resetting), and a short job writes five history rows:
 * one statement per row spent a quarter of the store thread's instructions on calls. 64 rows
 * of the widest table (an instance's 24 columns) bind 1,536 values, far below SQLite's limit
 * of 32,766, and as many arguments of one call, far below V8's.
 */
const CHUNK_ROWS = 64;

/**
 * Inserts rows of one table many to a statement: `INSERT … VALUES (…), (…), …`. Rows gather
 * as flat values in one reused array; a full chunk is inserted at once, and `flush` inserts
 * what is left with a statement prepared for that many rows (cached: at most CHUNK_ROWS
 * shapes per table). Rows go in in the order they were added, so their rowids keep that
 * order, which history and log queries use to break ties.
 *
 * The values are passed as arguments (`run(...values)`), not as one array: better-sqlite3
 * reads an array element by element through V8's API, which took 500 instructions a value,
 * more than SQLite spends storing it.
 *
 * Used inside a transaction: a row that fails (a duplicate id, a full disk) fails the
 * statement, and the transaction leaves nothing of the batch behind. Call `clear` then. The
 * statements say OR ROLLBACK: a statement that fails alone (SQLite's default, ABORT) must
 * undo only itself, so it copies every page it touches to a journal first, 4% of the store
 * thread's work; here the whole transaction goes anyway.
 */
export class BulkInsert {
  readonly #db: BetterSqlite3.Database;
  readonly #head: string;
  readonly #row: string;
  readonly #width: number;
  /** Statements by their number of rows. */
  readonly #statements: (Statement | undefined)[] = [];
  readonly #values: SqlValue[] = [];

  constructor(db: BetterSqlite3.Database, table: string, columns: readonly string[]) {
    this.#db = db;
    this.#head = `INSERT OR ROLLBACK INTO ${table} (${columns.join(', ')}) VALUES `;
    this.#row = `(${columns.map(() => '?').join(', ')})`;
    this.#width = columns.length;
  }

  /** The array to push a row's values into, in column order; then call `added`. */
  get values(): SqlValue[] {
    return this.#values;
  }

  /** A row's values were pushed onto `values`: inserts a full chunk. */
  added(): void {
    if (this.#values.length >= CHUNK_ROWS * this.#width) this.flush();
  }

  /** Adds a row from an array of its values in column order. */
  add(row: readonly SqlValue[]): void {
    for (let i = 0; i < row.length; i++) this.#values.push(row[i] as SqlValue);
    this.added();
  }

  /** Inserts every row added and not yet inserted. */
  flush(): void {
    const rows = this.#values.length / this.#width;
    if (rows === 0) return;
    if (!Number.isInteger(rows)) {
      throw new TypeError(`${this.#values.length} values do not make rows of ${this.#width}`);
    }
    this.#statement(rows).run(...this.#values);
    this.#values.length = 0;
  }

  /** Drops the rows not yet inserted (their batch failed). */
  clear(): void {
    this.#values.length = 0;
  }

  #statement(rows: number): Statement {
    let statement = this.#statements[rows];
    if (statement === undefined) {
      const marks = Array.from({ length: rows }, () => this.#row).join(', ');
      statement = this.#db.prepare(this.#head + marks);
      this.#statements[rows] = statement;
    }
    return statement;
  }
}
