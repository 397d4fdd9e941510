import type BetterSqlite3 from 'better-sqlite3';

/**
 * Instances whose count of lines is remembered, at most; past it the counts are forgotten and
 * read from the file again when next needed (about 1 µs per line an instance holds).
 */
const MAX_REMEMBERED = 50_000;

/**
 * Keeps at most `max` log lines per instance in the file, as the memory store does: once a
 * batch takes an instance past `max`, its oldest lines (by `at`, `seq`, then the order they
 * were written) are deleted in the same transaction, so no commit ever leaves more. Retention
 * removes a finished instance's lines with it; this bounds the lines of one that runs for
 * hours and logs all the while.
 *
 * How many lines an instance holds is counted once, from its index, the first time it logs
 * after the store opened, then kept up as batches add lines. A batch's counts take effect
 * once it commits (`committed`), and are dropped if it fails (`abandoned`); lines deleted by
 * other means (a clear) make every count unknown again (`forget`).
 */
export class SqliteLogCap {
  readonly #max: number;
  readonly #count: BetterSqlite3.Statement<[number], number>;
  readonly #trim: BetterSqlite3.Statement<[number, number]>;
  /** Lines stored per instance (by seq), as of the last commit, for those counted. */
  #stored = new Map<number, number>();
  /** Lines the batch being applied adds, per instance. */
  readonly #added = new Map<number, number>();
  /** Lines stored per instance once the batch being applied commits. */
  readonly #after = new Map<number, number>();

  constructor(db: BetterSqlite3.Database, max: number) {
    this.#max = max;
    this.#count = db
      .prepare<[number], number>('SELECT count(*) FROM logs WHERE instance_seq = ?')
      .pluck();
    this.#trim = db.prepare(`DELETE FROM logs WHERE rowid IN (
      SELECT rowid FROM logs WHERE instance_seq = ? ORDER BY at, seq, rowid LIMIT ?)`);
  }

  /** The batch being applied inserts a line of the instance `seq`. */
  added(seq: number): void {
    this.#added.set(seq, (this.#added.get(seq) ?? 0) + 1);
  }

  /** Once the batch's lines are inserted: deletes the oldest past `max`; returns how many. */
  trim(): number {
    let dropped = 0;
    for (const [seq, added] of this.#added) {
      const known = this.#stored.get(seq);
      let stored = known === undefined ? (this.#count.get(seq) ?? 0) : known + added;
      if (stored > this.#max) {
        dropped += this.#trim.run(seq, stored - this.#max).changes;
        stored = this.#max;
      }
      this.#after.set(seq, stored);
    }
    return dropped;
  }

  committed(): void {
    if (this.#stored.size + this.#after.size > MAX_REMEMBERED) this.#stored = new Map();
    for (const [seq, stored] of this.#after) this.#stored.set(seq, stored);
    this.abandoned();
  }

  abandoned(): void {
    this.#added.clear();
    this.#after.clear();
  }

  forget(): void {
    this.#stored = new Map();
  }
}
