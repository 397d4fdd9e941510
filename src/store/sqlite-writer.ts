import type BetterSqlite3 from 'better-sqlite3';
import type { InstanceRecord, StateTransition } from '../types.js';
import {
  encodeField,
  INSTANCE_COLUMNS,
  INSTANCE_FIELDS,
  insertSql,
  instanceParams,
  LOG_COLUMNS,
  logParams,
  TRANSITION_COLUMNS,
  transitionParams,
} from './sqlite-rows.js';
import type { StoreWrite } from './store.js';

type Statement = BetterSqlite3.Statement<unknown[]>;
type Patch = Extract<StoreWrite, { op: 'update' }>['patch'];
type PatchKey = keyof Patch;

/** Patch shapes are few; past this many cached statements something is wrong, so start over. */
const MAX_CACHED_UPDATES = 128;

/**
 * Applies write batches: the hot path of the store. A batch runs as one transaction over
 * statements prepared once; an update's statement is prepared once per set of patched fields
 * (the manager patches a handful of shapes) and cached. A batch that fails anywhere leaves
 * nothing of itself behind.
 *
 * An instance created in a batch is inserted when the batch ends, with the updates the batch
 * made to it merged in: a short job often goes from created to completed within one batch,
 * and one insert costs far less than an insert and three updates (each rewriting the row and
 * its state indexes). Nothing can see the difference: the batch commits as a whole, and
 * history and log rows are still inserted in the order they came.
 *
 * An update or a log line for an instance the store does not hold (cleared, or pruned by
 * retention) is skipped, with its transition: failing the batch would drop the other changes
 * in it. Which ids exist is looked up once per batch.
 */
export class SqliteWriter {
  readonly #db: BetterSqlite3.Database;
  readonly #insertInstance: Statement;
  readonly #insertTransition: Statement;
  readonly #insertLog: Statement;
  readonly #selectExists: Statement;
  readonly #updates = new Map<string, Statement>();
  readonly #applyBatch: (batch: readonly StoreWrite[]) => void;
  /** Instances created in the batch being applied, not inserted yet. */
  readonly #created = new Map<string, InstanceRecord>();
  /** Ids of the batch being applied known to be in the table. */
  readonly #held = new Set<string>();

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#insertInstance = db.prepare(insertSql('instances', INSTANCE_COLUMNS));
    this.#insertTransition = db.prepare(insertSql('transitions', TRANSITION_COLUMNS));
    this.#insertLog = db.prepare(insertSql('logs', LOG_COLUMNS));
    this.#selectExists = db.prepare('SELECT 1 FROM instances WHERE id = ?');
    this.#applyBatch = db.transaction((batch: readonly StoreWrite[]) => this.#applyAll(batch));
  }

  write(batch: readonly StoreWrite[]): void {
    try {
      this.#applyBatch(batch);
    } finally {
      this.#created.clear();
      this.#held.clear();
    }
  }

  #applyAll(batch: readonly StoreWrite[]): void {
    for (const write of batch) this.#apply(write);
    for (const instance of this.#created.values()) {
      this.#insertInstance.run(instanceParams(instance));
    }
  }

  #apply(write: StoreWrite): void {
    switch (write.op) {
      case 'create':
        this.#create(write.instance, write.transitions);
        break;
      case 'update':
        this.#update(write.id, write.patch, write.transition);
        break;
      case 'log':
        if (this.#holds(write.line.instanceId)) this.#insertLog.run(logParams(write.line));
        break;
    }
  }

  /** Holds the row back until the batch ends, so its updates in the batch merge into it. */
  #create(instance: InstanceRecord, transitions: readonly StateTransition[]): void {
    const twin = this.#created.get(instance.id);
    // A second create of one id: write the first now, so the second fails as a duplicate.
    if (twin) this.#insertInstance.run(instanceParams(twin));
    this.#created.set(instance.id, { ...instance });
    for (const transition of transitions) this.#insertTransition.run(transitionParams(transition));
  }

  #update(id: string, patch: Patch, transition: StateTransition | undefined): void {
    const created = this.#created.get(id);
    if (created) {
      Object.assign(created, patch);
    } else if (!this.#patch(id, patch)) {
      return;
    }
    if (transition) this.#insertTransition.run(transitionParams(transition));
  }

  /** Applies a patch to a stored row; false when the store does not hold the instance. */
  #patch(id: string, patch: Patch): boolean {
    const keys = Object.keys(patch) as PatchKey[];
    if (keys.length === 0) return this.#holds(id);

    const statement = this.#updateStatement(keys);
    const params = keys.map((key) => encodeField(key, patch[key]));
    params.push(id);
    if (statement.run(params).changes === 0) return false;
    this.#held.add(id);
    return true;
  }

  #holds(id: string): boolean {
    if (this.#held.has(id) || this.#created.has(id)) return true;
    if (this.#selectExists.get(id) === undefined) return false;
    this.#held.add(id);
    return true;
  }

  #updateStatement(keys: readonly PatchKey[]): Statement {
    const signature = keys.join(',');
    let statement = this.#updates.get(signature);
    if (statement === undefined) {
      const sets = keys.map((key) => `${columnOf(key)} = ?`).join(', ');
      statement = this.#db.prepare(`UPDATE instances SET ${sets} WHERE id = ?`);
      if (this.#updates.size >= MAX_CACHED_UPDATES) this.#updates.clear();
      this.#updates.set(signature, statement);
    }
    return statement;
  }
}

function columnOf(key: string): string {
  const field = INSTANCE_FIELDS[key as PatchKey];
  if (field === undefined) throw new TypeError(`an update patches "${key}", not an instance field`);
  return field.name;
}
