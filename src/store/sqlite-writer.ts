import type BetterSqlite3 from 'better-sqlite3';
import { BulkInsert } from './sqlite-bulk-insert.js';
import { SqliteLogCap } from './sqlite-log-cap.js';
import {
  INSTANCE_COLUMNS,
  INSTANCE_FIELD_COLUMNS,
  INSTANCE_FIELD_NUMBERS,
  INSTANCE_WIDTH,
  LOG_COLUMNS,
  LOG_WIDTH,
  type SqlValue,
  TRANSITION_COLUMNS,
  TRANSITION_WIDTH,
} from './sqlite-rows.js';
import { StatementCache } from './sqlite-statement-cache.js';
import { CREATE, LOG, UPDATE, type WireBatch, WireReader } from './sqlite-wire.js';

/** An instance created in the batch being applied: its row's values (seq not yet appended). */
interface Created {
  params: SqlValue[];
  seq: number;
}

/** Updates of a stored instance in the batch being applied, merged. */
interface PendingUpdate {
  /** Each patched field's latest value, by field number; undefined where not patched. */
  values: (SqlValue | undefined)[];
  /** The patched fields, one bit per field number: the shape of the UPDATE. */
  mask: number;
  /** Each transition's values from the wire; its instance's seq is appended. */
  transitions: SqlValue[][];
}

/** An instance has 21 fields besides its id; a patch's mask has a bit for each, of 31. */
const FIELD_COUNT = INSTANCE_FIELD_COLUMNS.length;
if (FIELD_COUNT > 31) throw new Error('an instance has more fields than a patch mask has bits');

/** Patch shapes are few; past this many cached statements something is wrong, so start over. */
const MAX_CACHED_UPDATES = 128;

const FINISHED_AT = INSTANCE_FIELD_NUMBERS.get('finishedAt') as number;

/**
 * Applies write batches (sqlite-wire.ts): the hot path of the store. A batch runs as one
 * transaction over statements prepared once; rows are inserted many to a statement
 * (sqlite-bulk-insert.ts), and an update's statement is prepared once per set of patched
 * fields (the manager patches a handful of shapes) and cached. A batch that fails anywhere
 * leaves nothing of itself behind.
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
  readonly #instances: BulkInsert;
  readonly #transitions: BulkInsert;
  readonly #logs: BulkInsert;
  readonly #selectSeq: BetterSqlite3.Statement<[string], number>;
  /**
   * UPDATE statements by the mask of the fields they set, of the row found by its seq, and by
   * its id returning the seq. The fields are set in the order of their numbers, so a shape is
   * one statement whatever order a patch named them in (the manager patches a handful).
   */
  readonly #updatesBySeq: StatementCache<number, BetterSqlite3.Statement<unknown[]>>;
  readonly #updatesById: StatementCache<number, BetterSqlite3.Statement<unknown[], number>>;
  readonly #logCap: SqliteLogCap | undefined;
  readonly #applyBatch: (wire: WireBatch) => number;
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

  /** `maxLogLinesPerInstance`: Infinity keeps every line (see sqlite-log-cap.ts). */
  constructor(db: BetterSqlite3.Database, maxLogLinesPerInstance: number) {
    this.#instances = new BulkInsert(db, 'instances', INSTANCE_COLUMNS);
    this.#transitions = new BulkInsert(db, 'transitions', TRANSITION_COLUMNS);
    this.#logs = new BulkInsert(db, 'logs', LOG_COLUMNS);
    this.#updatesBySeq = new StatementCache(MAX_CACHED_UPDATES, (mask) =>
      db.prepare(`${updateSql(mask)} WHERE seq = ?`),
    );
    this.#updatesById = new StatementCache(MAX_CACHED_UPDATES, (mask) =>
      db.prepare<unknown[], number>(`${updateSql(mask)} WHERE id = ? RETURNING seq`).pluck(),
    );
    this.#selectSeq = db
      .prepare<[string], number>('SELECT seq FROM instances WHERE id = ?')
      .pluck();
    const last = db.prepare('SELECT max(seq) FROM instances').pluck().get() as number | null;
    this.#nextSeq = (last ?? 0) + 1;
    if (Number.isFinite(maxLogLinesPerInstance)) {
      this.#logCap = new SqliteLogCap(db, maxLogLinesPerInstance);
    }
    this.#applyBatch = db.transaction((wire: WireBatch) => this.#applyAll(new WireReader(wire)));
  }

  /** Applies a batch; returns how many log lines the cap on lines per instance deleted. */
  write(wire: WireBatch): number {
    try {
      const dropped = this.#applyBatch(wire);
      for (const [id, seq] of this.#unfinishedChanges) {
        if (seq === undefined) this.#unfinished.delete(id);
        else this.#unfinished.set(id, seq);
      }
      this.#logCap?.committed();
      return dropped;
    } finally {
      this.#logCap?.abandoned();
      this.#instances.clear();
      this.#transitions.clear();
      this.#logs.clear();
      this.#created.clear();
      this.#patched.clear();
      this.#seqs.clear();
      this.#unfinishedChanges.clear();
    }
  }

  /** Log lines were deleted other than by this writer: their counts must be read again. */
  forgetLogCounts(): void {
    this.#logCap?.forget();
  }

  #applyAll(reader: WireReader): number {
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
      this.#instances.add(params);
      if (params[1 + FINISHED_AT] === null) this.#unfinishedChanges.set(id, seq);
    }
    this.#instances.flush();
    this.#transitions.flush();
    this.#logs.flush();
    return this.#logCap?.trim() ?? 0;
  }

  /** Holds the row back until the batch ends, so its updates in the batch merge into it. */
  #create(reader: WireReader): void {
    const params = reader.take(INSTANCE_WIDTH);
    const id = params[0] as string;
    const twin = this.#created.get(id);
    // A second create of one id: write the first now, so the second fails as a duplicate.
    if (twin) {
      this.#instances.add([...twin.params, twin.seq]);
      this.#instances.flush();
    }

    const seq = this.#nextSeq++;
    this.#created.set(id, { params, seq });
    for (let n = reader.nextNumber(); n > 0; n--) this.#insertTransitionOf(reader, seq);
  }

  #update(reader: WireReader): void {
    const id = reader.nextString();
    const created = this.#created.get(id);
    const pending = created === undefined ? this.#pendingUpdate(id) : undefined;
    for (let n = reader.nextNumber(); n > 0; n--) {
      const field = fieldOf(reader.nextNumber());
      const value = reader.next();
      if (created) {
        created.params[1 + field] = value;
      } else if (pending) {
        pending.values[field] = value;
        pending.mask |= 1 << field;
      }
    }
    if (reader.nextNumber() === 0) return;
    if (created) this.#insertTransitionOf(reader, created.seq);
    else pending?.transitions.push(reader.take(TRANSITION_WIDTH));
  }

  #log(reader: WireReader): void {
    const seq = this.#seqOf(reader.nextString());
    if (seq === undefined) {
      reader.skip(LOG_WIDTH);
      return;
    }
    const values = this.#logs.values;
    reader.copy(LOG_WIDTH, values);
    values.push(seq);
    this.#logs.added();
    this.#logCap?.added(seq);
  }

  #insertTransitionOf(reader: WireReader, seq: number): void {
    const values = this.#transitions.values;
    reader.copy(TRANSITION_WIDTH, values);
    values.push(seq);
    this.#transitions.added();
  }

  #pendingUpdate(id: string): PendingUpdate {
    let pending = this.#patched.get(id);
    if (pending === undefined) {
      pending = { values: new Array(FIELD_COUNT), mask: 0, transitions: [] };
      this.#patched.set(id, pending);
    }
    return pending;
  }

  /** Applies the merged patch to a stored row, then its transitions; skips an unknown id. */
  #patchStored(id: string, pending: PendingUpdate): void {
    const seq = pending.mask === 0 ? this.#seqOf(id) : this.#patchRow(id, pending);
    if (seq === undefined) return;
    for (const params of pending.transitions) {
      params.push(seq);
      this.#transitions.add(params);
    }
  }

  /** Updates the row of `id` and returns its seq; undefined when the store does not hold it. */
  #patchRow(id: string, { values, mask }: PendingUpdate): number | undefined {
    const params: SqlValue[] = [];
    for (let field = 0; field < FIELD_COUNT; field++) {
      if (mask & (1 << field)) params.push(values[field] as SqlValue);
    }
    const known = this.#unfinished.get(id);
    let seq: number | undefined;
    if (known === undefined) {
      seq = this.#updatesById.get(mask).get(...params, id);
    } else {
      seq = this.#updatesBySeq.get(mask).run(...params, known).changes > 0 ? known : undefined;
    }
    if (seq !== undefined) {
      const finished = values[FINISHED_AT];
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
}

function updateSql(mask: number): string {
  const sets: string[] = [];
  for (let field = 0; field < FIELD_COUNT; field++) {
    if (mask & (1 << field)) sets.push(`${INSTANCE_FIELD_COLUMNS[field]} = ?`);
  }
  // OR ROLLBACK, as the inserts (sqlite-bulk-insert.ts): a failure fails the whole batch.
  return `UPDATE OR ROLLBACK instances SET ${sets.join(', ')}`;
}

/** A field number from the wire, checked: it picks a column and a bit of a patch's mask. */
function fieldOf(field: number): number {
  if (Number.isInteger(field) && field >= 0 && field < FIELD_COUNT) return field;
  throw new TypeError(`a write batch patches field ${field}, which no instance has`);
}
