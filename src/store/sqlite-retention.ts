import type BetterSqlite3 from 'better-sqlite3';
import { FINAL_STATES } from '../types.js';
import type { EngineOptions } from './sqlite-options.js';

/**
 * Retention of the SQLite store: removes instances in a final state past `maxFinished` (those
 * that finished first go first) or older than `maxFinishedAgeMs`, and with them, by trigger,
 * their history and logs. An instance counts as finished once its `finishedAt` is set.
 *
 * It is amortised: `pruneIfDue` prunes at most once per `pruneIntervalMs`. One pass removes at
 * most PASS_LIMIT instances, so a large backlog (a limit lowered on a big file) never stalls the
 * main thread for long; a pass that hits the limit leaves the next write to carry on at once.
 *
 * Every query walks the partial index of finished instances (`instances_by_finished`, named
 * with INDEXED BY: left to itself the planner picks the state index and sorts every finished
 * row, 15 ms for 20,000 of them, growing with the file). So a pass costs the rows it removes,
 * plus, with `maxFinished`, one count of that index: about 1 ms per 100,000 finished instances.
 */

/**
 * Most instances one pass removes. 1,000 instances with four history and log rows each took
 * about 17 ms to delete on a two-core VM: a pause timers can live with.
 */
const PASS_LIMIT = 1_000;

const FINAL = `state IN (${[...FINAL_STATES].map((state) => `'${state}'`).join(', ')})`;

const OLDEST_FINISHED = `SELECT seq FROM instances INDEXED BY instances_by_finished
  WHERE finished_at IS NOT NULL AND ${FINAL}`;

const BY_AGE = `DELETE FROM instances WHERE seq IN (
  ${OLDEST_FINISHED} AND finished_at < ? ORDER BY finished_at, seq LIMIT ?)`;

const BY_COUNT = `DELETE FROM instances WHERE seq IN (
  ${OLDEST_FINISHED} ORDER BY finished_at, seq LIMIT ?)`;

const COUNT_FINISHED = `SELECT count(*) FROM instances INDEXED BY instances_by_finished
  WHERE finished_at IS NOT NULL`;

type Options = Pick<EngineOptions, 'maxFinished' | 'maxFinishedAgeMs' | 'pruneIntervalMs'>;

export class SqliteRetention {
  readonly #options: Options;
  readonly #byAge: BetterSqlite3.Statement<[number, number]> | undefined;
  readonly #byCount: BetterSqlite3.Statement<[number]> | undefined;
  readonly #countFinished: BetterSqlite3.Statement<[], number> | undefined;
  readonly #pass: (now: number) => number;
  #lastPassAt = Number.NEGATIVE_INFINITY;

  constructor(db: BetterSqlite3.Database, options: Options) {
    this.#options = options;
    if (Number.isFinite(options.maxFinishedAgeMs)) this.#byAge = db.prepare(BY_AGE);
    if (Number.isFinite(options.maxFinished)) {
      this.#byCount = db.prepare(BY_COUNT);
      this.#countFinished = db.prepare<[], number>(COUNT_FINISHED).pluck();
    }
    this.#pass = db.transaction((now: number) => this.#removeOnce(now));
  }

  /**
   * Called after every write batch with the store's time (its clock is on the thread that
   * made the store); prunes when the interval has passed.
   */
  pruneIfDue(now: number): void {
    if (this.#byAge === undefined && this.#byCount === undefined) return;
    if (now - this.#lastPassAt < this.#options.pruneIntervalMs) return;

    const removed = this.#pass(now);
    this.#lastPassAt = removed < PASS_LIMIT ? now : Number.NEGATIVE_INFINITY;
  }

  /** Prunes everything due now, in as many passes as it takes; returns instances removed. */
  pruneAll(now: number): number {
    let total = 0;
    for (let removed = PASS_LIMIT; removed >= PASS_LIMIT; total += removed) {
      removed = this.#pass(now);
    }
    this.#lastPassAt = now;
    return total;
  }

  #removeOnce(now: number): number {
    let removed = 0;
    if (this.#byAge) {
      const before = now - this.#options.maxFinishedAgeMs;
      removed += this.#byAge.run(before, PASS_LIMIT).changes;
    }
    if (this.#byCount && this.#countFinished && removed < PASS_LIMIT) {
      const excess = (this.#countFinished.get() ?? 0) - this.#options.maxFinished;
      if (excess > 0) removed += this.#byCount.run(Math.min(excess, PASS_LIMIT - removed)).changes;
    }
    return removed;
  }
}
