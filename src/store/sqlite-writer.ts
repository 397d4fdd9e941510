import type BetterSqlite3 from 'better-sqlite3';
import {
  INSTANCE_COLUMNS,
  INSTANCE_FIELD_COLUMNS,
  INSTANCE_FIELD_NUMBERS,
  INSTANCE_WIDTH,
  insertSql,
  LOG_COLUMNS,
  LOG_WIDTH,
  type SqlValue,
  TRANSITION_COLUMNS,
  TRANSITION_WIDTH,
} from './sqlite-rows.js';
import { CREATE, LOG, UPDATE, type WireBatch, WireReader } from './sqlite-wire.js';

type Statement = BetterSqlite3.Statement<unknown[]>;

/** An instance created in the batch being applied: its row's values (seq not yet appended). */
interface Created {
  params: SqlValue[];
  seq: number;
}

/** Updates of a stored instance in the batch being applied: fields by number, transitions. */
interface PendingUpdate {
  fields: Map<number, SqlValue>;
  /** Each transition's values from the wire; its instance's id and seq are appended. */
  transitions: SqlValue[][];
}

/** Patch shapes are few; past this many cached statements something is wrong, so start over. */
const MAX_CACHED_UPDATES = 128;

const FINISHED_AT = INSTANCE_FIELD_NUMBERS.get('finishedAt') as number;

/**
 * Applies write batches (sqlite-wire.ts): the hot path of the store. A batch runs as one
 * transaction over statements prepared once; an update's statement is prepared once per set of
 * patched fields (the manager patches a handful of shapes) and cached. A batch that fails
 * anywhere leaves nothing of itself behind.
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
 *
 * The writer remembers the `seq` of the unfinished instances it wrote, so that their updates
 * find the row by the table's own key rather than through the index of ids (a tenth of the
 * store's time per short job); an instance is forgotten when an update finishes it.
 */
export class SqliteWriter {
  readonly #db: BetterSqlite3.Database;
  readonly #insertInstance: Statement;
  readonly #insertTransition: Statement;
  readonly #insertLog: Statement;
  readonly #selectSeq: BetterSqlite3.Statement<[string], number>;
  readonly #updates = new Map<string, BetterSqlite3.Statement<unknown[], number>>();
  readonly #applyBatch: (wire: WireBatch) => void;
  /** The `seq` of the next created instance: one past the largest stored (creation order). */
  #nextSeq: number;
  /** Instances created in the batch being applied, not inserted yet, by id. */
  readonly #created = new Map<string, Created>();
  /** Updates of stored instances in the batch being applied, merged per instance. */
  readonly #patched = new Map<string, PendingUpdate>();
  /** The seq of each stored instance the batch being applied has touched. */
  readonly #seqs = new Map<string, number>();
  /** The seq of each unfinished instance written, once its batch committed. */
  readonly #unfinished = new Map<string, number>();
  /** What the batch being applied changes in `#unfinished`: a seq, or undefined to forget. */
  readonly #unfinishedChanges = new Map<string, number | undefined>();

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
    this.#applyBatch = db.transaction((wire: WireBatch) => this.#applyAll(new WireReader(wire)));
  }

  write(wire: WireBatch): void {
    try {
      this.#applyBatch(wire);
      for (const [id, seq] of this.#unfinishedChanges) {
        if (seq === undefined) this.#unfinished.delete(id);
        else this.#unfinished.set(id, seq);
      }
    } finally {
      this.#created.clear();
      this.#patched.clear();
      this.#seqs.clear();
      this.#unfinishedChanges.clear();
    }
  }

  #applyAll(reader: WireReader): void {
    while (!reader.done) {
      const op = reader.next();
      if (op === CREATE) this.#create(reader);
      else if (op === UPDATE) this.#update(reader);
      else if (op === LOG) this.#log(reader);
      else throw new TypeError(`a write batch holds ${op} where a change begins`);
    }
    for (const [id, pending] of this.#patched) this.#patchStored(id, pending);
    for (const [id, { params, seq }] of this.#created) {
      params.push(seq);
      this.#insertInstance.run(params);
      if (params[1 + FINISHED_AT] === null) this.#unfinishedChanges.set(id, seq);
    }
  }

  /** Holds the row back until the batch ends, so its updates in the batch merge into it. */
  #create(reader: WireReader): void {
    const params = reader.take(INSTANCE_WIDTH);
    const id = params[0] as string;
    const twin = this.#created.get(id);
    // A second create of one id: write the first now, so the second fails as a duplicate.
    if (twin) this.#insertInstance.run([...twin.params, twin.seq]);

    const seq = this.#nextSeq++;
    this.#created.set(id, { params, seq });
    for (let n = reader.nextNumber(); n > 0; n--) this.#insertTransitionOf(reader, id, seq);
  }

  #update(reader: WireReader): void {
    const id = reader.nextString();
    const created = this.#created.get(id);
    const pending = created === undefined ? this.#pendingUpdate(id) : undefined;
    for (let n = reader.nextNumber(); n > 0; n--) {
      const field = reader.nextNumber();
      const value = reader.next();
      if (created) created.params[1 + field] = value;
      else pending?.fields.set(field, value);
    }
    if (reader.nextNumber() === 0) return;
    if (created) this.#insertTransitionOf(reader, id, created.seq);
    else pending?.transitions.push(reader.take(TRANSITION_WIDTH));
  }

  #log(reader: WireReader): void {
    const params = reader.take(LOG_WIDTH);
    const seq = this.#seqOf(params[0] as string);
    if (seq === undefined) return;
    params.push(seq);
    this.#insertLog.run(params);
  }

  #insertTransitionOf(reader: WireReader, id: string, seq: number): void {
    const params = reader.take(TRANSITION_WIDTH);
    params.push(id, seq);
    this.#insertTransition.run(params);
  }

  #pendingUpdate(id: string): PendingUpdate {
    let pending = this.#patched.get(id);
    if (pending === undefined) {
      pending = { fields: new Map(), transitions: [] };
      this.#patched.set(id, pending);
    }
    return pending;
  }

  /** Applies the merged patch to a stored row, then its transitions; skips an unknown id. */
  #patchStored(id: string, { fields, transitions }: PendingUpdate): void {
    const seq = fields.size === 0 ? this.#seqOf(id) : this.#patchRow(id, fields);
    if (seq === undefined) return;
    for (const params of transitions) {
      params.push(id, seq);
      this.#insertTransition.run(params);
    }
  }

  /** Updates the row of `id` and returns its seq; undefined when the store does not hold it. */
  #patchRow(id: string, fields: Map<number, SqlValue>): number | undefined {
    const params = [...fields.values()];
    const known = this.#unfinished.get(id);
    let seq: number | undefined;
    if (known === undefined) {
      params.push(id);
      seq = this.#updateStatement(fields, 'id').get(params) as number | undefined;
    } else {
      params.push(known);
      seq = this.#updateStatement(fields, 'seq').run(params).changes > 0 ? known : undefined;
    }
    const finished = fields.get(FINISHED_AT);
    if (seq !== undefined) {
      this.#unfinishedChanges.set(
        id,
        finished === undefined || finished === null ? seq : undefined,
      );
    }
    return seq;
  }

  /** The seq of an instance the store holds or the batch creates; undefined for neither. */
  #seqOf(id: string): number | undefined {
    const known = this.#created.get(id)?.seq ?? this.#seqs.get(id);
    if (known !== undefined) return known;
    const seq = this.#selectSeq.get(id);
    if (seq !== undefined) this.#seqs.set(id, seq);
    return seq;
  }

  /**
   * The UPDATE of a set of fields, of the row found by its id (returning its seq) or by its
   * seq. Statements are cached by shape.
   */
  #updateStatement(
    fields: Map<number, SqlValue>,
    by: 'id' | 'seq',
  ): BetterSqlite3.Statement<unknown[], number> {
    const numbers = [...fields.keys()];
    const signature = `${by}:${numbers.join(',')}`;
    let statement = this.#updates.get(signature);
    if (statement === undefined) {
      const sets = numbers.map((field) => `${columnOf(field)} = ?`).join(', ');
      const sql = `UPDATE instances SET ${sets} WHERE ${by} = ?`;
      statement =
        by === 'id'
          ? this.#db.prepare<unknown[], number>(`${sql} RETURNING seq`).pluck()
          : this.#db.prepare<unknown[], number>(sql);
      if (this.#updates.size >= MAX_CACHED_UPDATES) this.#updates.clear();
      this.#updates.set(signature, statement);
    }
    return statement;
  }
}

function columnOf(field: number): string {
  const column = INSTANCE_FIELD_COLUMNS[field];
  if (column === undefined)
    throw new TypeError(`a write batch patches field ${field}, which no instance has`);
  return column;
}
