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
 * An update of an instance the store does not have (cleared, or pruned by retention) is
 * skipped with its transition: failing the batch would drop the other changes in it.
 */
export class SqliteWriter {
  readonly #db: BetterSqlite3.Database;
  readonly #insertInstance: Statement;
  readonly #insertTransition: Statement;
  readonly #insertLog: Statement;
  readonly #selectExists: Statement;
  readonly #updates = new Map<string, Statement>();
  readonly #applyBatch: (batch: readonly StoreWrite[]) => void;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#insertInstance = db.prepare(insertSql('instances', INSTANCE_COLUMNS));
    this.#insertTransition = db.prepare(insertSql('transitions', TRANSITION_COLUMNS));
    this.#insertLog = db.prepare(insertSql('logs', LOG_COLUMNS));
    this.#selectExists = db.prepare('SELECT 1 FROM instances WHERE id = ?');
    this.#applyBatch = db.transaction((batch: readonly StoreWrite[]) => {
      for (const write of batch) this.#apply(write);
    });
  }

  write(batch: readonly StoreWrite[]): void {
    this.#applyBatch(batch);
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
        this.#insertLog.run(...logParams(write.line));
        break;
    }
  }

  #create(instance: InstanceRecord, transitions: readonly StateTransition[]): void {
    this.#insertInstance.run(...instanceParams(instance));
    for (const transition of transitions)
      this.#insertTransition.run(...transitionParams(transition));
  }

  #update(id: string, patch: Patch, transition: StateTransition | undefined): void {
    const keys = Object.keys(patch) as PatchKey[];
    if (keys.length > 0) {
      const statement = this.#updateStatement(keys);
      const params = keys.map((key) => encodeField(key, patch[key]));
      params.push(id);
      if (statement.run(...params).changes === 0) return;
    } else if (transition && !this.#exists(id)) {
      return;
    }
    if (transition) this.#insertTransition.run(...transitionParams(transition));
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

  #exists(id: string): boolean {
    return this.#selectExists.get(id) !== undefined;
  }
}

function columnOf(key: string): string {
  const field = INSTANCE_FIELDS[key as PatchKey];
  if (field === undefined) throw new TypeError(`an update patches "${key}", not an instance field`);
  return field.name;
}
