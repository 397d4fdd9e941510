import type BetterSqlite3 from 'better-sqlite3';
import type { InstanceRow } from './sqlite-rows.js';
import type { ClaimOptions } from './store.js';

/**
 * Claims and leases on the SQLite store. A claim runs in one transaction: it selects what is
 * due, in a state that waits to run (created, scheduled, queued), and not under another
 * owner's live lease (one whose `leaseUntil` is after `now`), best priority first, then
 * earliest due, oldest, and id; and sets the claimer as owner until `now + leaseMs`.
 * A claim changes no state: the owner moves the instances on with ordinary writes.
 */

const UNFINISHED = `state IN ('created', 'scheduled', 'queued', 'running')`;
const CLAIMABLE = `state IN ('created', 'scheduled', 'queued') AND due_at <= ?
  AND (owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until <= ?)`;
const CLAIM_ORDER = 'ORDER BY priority, due_at, created_at, id LIMIT ?';
const ANY_KIND = `SELECT * FROM instances WHERE ${CLAIMABLE} ${CLAIM_ORDER}`;
const SOME_KINDS = `SELECT * FROM instances WHERE ${CLAIMABLE}
  AND kind IN (SELECT value FROM json_each(?)) ${CLAIM_ORDER}`;

export class SqliteLeases {
  readonly #anyKind: BetterSqlite3.Statement<unknown[], InstanceRow>;
  readonly #someKinds: BetterSqlite3.Statement<unknown[], InstanceRow>;
  readonly #setLease: BetterSqlite3.Statement<[string, number, string]>;
  readonly #renew: BetterSqlite3.Statement<[number, string, string], string>;
  readonly #claim: (options: ClaimOptions) => InstanceRow[];

  constructor(db: BetterSqlite3.Database) {
    this.#anyKind = db.prepare(ANY_KIND);
    this.#someKinds = db.prepare(SOME_KINDS);
    this.#setLease = db.prepare('UPDATE instances SET owner = ?, lease_until = ? WHERE id = ?');
    this.#renew = db
      .prepare<[number, string, string], string>(
        `UPDATE instances SET lease_until = ?
         WHERE owner = ? AND id IN (SELECT value FROM json_each(?)) AND ${UNFINISHED}
         RETURNING id`,
      )
      .pluck();
    this.#claim = db.transaction((options: ClaimOptions) => this.#claimNow(options));
  }

  /** The claimed rows, with their new owner and lease; `options` are checked by the caller. */
  claim(options: ClaimOptions): InstanceRow[] {
    return this.#claim(options);
  }

  /**
   * Extends the owner's leases on these ids; returns those it holds, in the order given. An
   * instance in a final state is held by no one: it has nothing left to run. The arguments are
   * checked by the caller.
   */
  renew(owner: string, ids: readonly string[], leaseUntil: number): string[] {
    const held = new Set(this.#renew.all(leaseUntil, owner, JSON.stringify(ids)));
    return ids.filter((id) => held.has(id));
  }

  #claimNow({ owner, limit, now, leaseMs, kinds }: ClaimOptions): InstanceRow[] {
    const rows =
      kinds === undefined
        ? this.#anyKind.all(now, owner, now, limit)
        : this.#someKinds.all(now, owner, now, JSON.stringify(kinds), limit);

    const leaseUntil = now + leaseMs;
    return rows.map((row) => {
      this.#setLease.run(owner, leaseUntil, row.id);
      return { ...row, owner, lease_until: leaseUntil };
    });
  }
}
