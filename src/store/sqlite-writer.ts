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

interface PendingUpdate {
  patch: Patch;
  transitions: StateTransition[];
}

/** Patch shapes are few; past this many cached statements something is wrong, so start over. */
const MAX_CACHED_UPDATES = 128;

/**
 * Applies write batches: the hot path of the store. A batch runs as one transaction over
 * statements prepared once; an update's statement is prepared once per set of patched fields
 * (the manager patches a handful of shapes) and cached. A batch that fails anywhere leaves
 * nothing of itself behind.
 *
 * Changes to one instance within a batch are merged, because each statement on a row rewrites
 * it and its state indexes, and a short job often goes from queued to completed within one
 * batch. An instance created in the batch is inserted when the batch ends, with the updates
 * the batch made to it merged in. Updates to a stored instance are merged into one patch and
 * applied when the batch ends, before the inserts (so an update that came before its
 * instance's create still finds nothing, as it would have), each followed by its
 * transitions. Nothing can see the difference: the batch commits as a whole, and history and
 * logs are read in the order of their `at` and `seq`, not of their rows.
 *
 * An update or a log line for an instance the store does not hold (cleared, or pruned by
 * retention) is skipped, with its transition: failing the batch would drop the other changes
 * in it. Which ids exist, and their `seq` (see sqlite-schema.ts), is looked up once per batch.
 */
export class SqliteWriter {
  readonly #db: BetterSqlite3.Database;
  readonly #insertInstance: Statement;
  readonly #insertTransition: Statement;
  readonly #insertLog: Statement;
  readonly #selectSeq: BetterSqlite3.Statement<[string], number>;
  readonly #updates = new Map<string, BetterSqlite3.Statement<unknown[], number>>();
  readonly #applyBatch: (batch: readonly StoreWrite[]) => void;
  /** The `seq` of the next created instance: one past the largest stored (creation order). */
  #nextSeq: number;
  /** Instances created in the batch being applied, not inserted yet, with their seq. */
  readonly #created = new Map<string, { instance: InstanceRecord; seq: number }>();
  /** Updates of stored instances in the batch being applied, merged per instance. */
  readonly #patched = new Map<string, PendingUpdate>();
  /** The seq of each stored instance the batch being applied has touched. */
  readonly #seqs = new Map<string, number>();

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#insertInstance = db.prepare(insertSql('instances', INSTANCE_COLUMNS));
    this.#insertTransition = db.prepare(insertSql('transitions', TRANSITION_COLUMNS));
    this.#insertLog = db.prepare(insertSql('logs', LOG_COLUMNS));
    this.#selectSeq = db
      .prepare<[string], number>('SELECT seq FROM instances WHERE id = ?')
      .pluck();
    const last = db.prepare('SELECT max(seq) FROM instances').pluck().get() as number | null;
    this.#nextSeq = (last ?? 0) + 1;
    this.#applyBatch = db.transaction((batch: readonly StoreWrite[]) => this.#applyAll(batch));
  }

  write(batch: readonly StoreWrite[]): void {
    try {
      this.#applyBatch(batch);
    } finally {
      this.#created.clear();
      this.#patched.clear();
      this.#seqs.clear();
    }
  }

  #applyAll(batch: readonly StoreWrite[]): void {
    for (const write of batch) this.#apply(write);
    for (const [id, pending] of this.#patched) this.#patchStored(id, pending);
    for (const { instance, seq } of this.#created.values()) {
      this.#insertInstance.run(instanceParams(instance, seq));
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
      case 'log': {
        const seq = this.#seqOf(write.line.instanceId);
        if (seq !== undefined) this.#insertLog.run(logParams(write.line, seq));
        break;
      }
    }
  }

  /** Holds the row back until the batch ends, so its updates in the batch merge into it. */
  #create(instance: InstanceRecord, transitions: readonly StateTransition[]): void {
    const twin = this.#created.get(instance.id);
    // A second create of one id: write the first now, so the second fails as a duplicate.
    if (twin) this.#insertInstance.run(instanceParams(twin.instance, twin.seq));

    const seq = this.#nextSeq++;
    this.#created.set(instance.id, { instance: { ...instance }, seq });
    for (const transition of transitions) {
      this.#insertTransition.run(transitionParams(transition, seq));
    }
  }

  #update(id: string, patch: Patch, transition: StateTransition | undefined): void {
    const created = this.#created.get(id);
    if (created) {
      Object.assign(created.instance, patch);
      if (transition) this.#insertTransition.run(transitionParams(transition, created.seq));
      return;
    }
    let pending = this.#patched.get(id);
    if (pending === undefined) {
      pending = { patch: {}, transitions: [] };
      this.#patched.set(id, pending);
    }
    Object.assign(pending.patch, patch);
    if (transition) pending.transitions.push(transition);
  }

  /** Applies the merged patch to a stored row, then its transitions; skips an unknown id. */
  #patchStored(id: string, { patch, transitions }: PendingUpdate): void {
    const keys = Object.keys(patch) as PatchKey[];
    let seq: number | undefined;
    if (keys.length === 0) {
      seq = this.#seqOf(id);
    } else {
      const statement = this.#updateStatement(keys);
      const params = keys.map((key) => encodeField(key, patch[key]));
      params.push(id);
      seq = statement.get(params);
    }
    if (seq === undefined) return;
    for (const transition of transitions) {
      this.#insertTransition.run(transitionParams(transition, seq));
    }
  }

  /** The seq of an instance the store holds or the batch creates; undefined for neither. */
  #seqOf(id: string): number | undefined {
    const known = this.#created.get(id)?.seq ?? this.#seqs.get(id);
    if (known !== undefined) return known;
    const seq = this.#selectSeq.get(id);
    if (seq !== undefined) this.#seqs.set(id, seq);
    return seq;
  }

  #updateStatement(keys: readonly PatchKey[]): BetterSqlite3.Statement<unknown[], number> {
    const signature = keys.join(',');
    let statement = this.#updates.get(signature);
    if (statement === undefined) {
      const sets = keys.map((key) => `${columnOf(key)} = ?`).join(', ');
      const sql = `UPDATE instances SET ${sets} WHERE id = ? RETURNING seq`;
      statement = this.#db.prepare<unknown[], number>(sql).pluck();
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
