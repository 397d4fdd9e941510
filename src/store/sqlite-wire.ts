import type { StateTransition } from '../types.js';
import {
  INSTANCE_FIELD_NUMBERS,
  INSTANCE_FIELDS,
  pushInstance,
  pushLog,
  pushTransition,
  type SqlValue,
} from './sqlite-rows.js';
import type { StoreWrite } from './store.js';

/**
 * A write batch on its way to the store's thread: one flat array of values already encoded
 * for their columns (sqlite-rows.ts), written one change after another:
 *
 *   create  CREATE, the instance's columns (INSTANCE_WIDTH), n, n × a transition's columns
 *   update  UPDATE, id, n, n × (field number, value), then 0, or 1 and a transition's columns
 *   log     LOG, the line's instance id, the line's columns (LOG_WIDTH)
 *
 * Rows of history and logs hold neither their instance's id nor its kind (sqlite-schema.ts):
 * a transition's columns (TRANSITION_WIDTH) are what it holds beside them.
 *
 * The structured clone that carries a message to another thread costs per object and per key:
 * 1,000 new instances as records took 4.6 ms to copy on this side and 6.3 ms to rebuild on the
 * other; as flat values, 0.6 ms and 1.3 ms, and encoding them here (1.2 ms) is work the
 * store's thread no longer does. The thread reads a batch with a WireReader.
 */
export type WireBatch = SqlValue[];

export const CREATE = 0;
export const UPDATE = 1;
export const LOG = 2;

/** Encodes a batch; throws for a patch of something that is not an instance field. */
export function encodeBatch(batch: readonly StoreWrite[]): WireBatch {
  const wire: WireBatch = [];
  for (const write of batch) {
    switch (write.op) {
      case 'create':
        wire.push(CREATE);
        pushInstance(wire, write.instance);
        wire.push(write.transitions.length);
        for (const transition of write.transitions) {
          pushTransition(wire, ofInstance(transition, write.instance.id));
        }
        break;
      case 'update':
        wire.push(UPDATE, write.id);
        pushPatch(wire, write.patch);
        if (write.transition === undefined) {
          wire.push(0);
        } else {
          wire.push(1);
          pushTransition(wire, ofInstance(write.transition, write.id));
        }
        break;
      case 'log':
        wire.push(LOG);
        pushLog(wire, write.line);
        break;
      default:
        throw new TypeError(`a change of op ${(write as { op: unknown }).op}`);
    }
  }
  return wire;
}

function ofInstance(transition: StateTransition, id: string): StateTransition {
  if (transition.instanceId === id) return transition;
  throw new TypeError(
    `a change of instance ${id} carries a transition of ${transition.instanceId}`,
  );
}

function pushPatch(wire: WireBatch, patch: Record<string, unknown>): void {
  const countAt = wire.length;
  wire.push(0);
  let count = 0;
  for (const key in patch) {
    const field = INSTANCE_FIELD_NUMBERS.get(key);
    if (field === undefined)
      throw new TypeError(`an update patches "${key}", not an instance field`);
    const encode = INSTANCE_FIELDS[key as keyof typeof INSTANCE_FIELDS].encode;
    wire.push(field, encode(patch[key]));
    count++;
  }
  wire[countAt] = count;
}

/** Reads a WireBatch front to back. */
export class WireReader {
  readonly #wire: WireBatch;
  #at = 0;

  constructor(wire: WireBatch) {
    this.#wire = wire;
  }

  get done(): boolean {
    return this.#at >= this.#wire.length;
  }

  next(): SqlValue {
    if (this.#at >= this.#wire.length) throw new RangeError('a write batch ended mid-change');
    return this.#wire[this.#at++] as SqlValue;
  }

  nextNumber(): number {
    const value = this.next();
    if (typeof value !== 'number') throw new TypeError(`a write batch holds ${value} for a count`);
    return value;
  }

  nextString(): string {
    const value = this.next();
    if (typeof value !== 'string') throw new TypeError(`a write batch holds ${value} for an id`);
    return value;
  }

  /** Pushes the next `count` values onto `out`. */
  copy(count: number, out: SqlValue[]): void {
    const end = this.#at + count;
    if (end > this.#wire.length) throw new RangeError('a write batch ended mid-change');
    for (let at = this.#at; at < end; at++) out.push(this.#wire[at] as SqlValue);
    this.#at = end;
  }

  /** Passes over the next `count` values. */
  skip(count: number): void {
    const end = this.#at + count;
    if (end > this.#wire.length) throw new RangeError('a write batch ended mid-change');
    this.#at = end;
  }

  /** The next `count` values, as a new array (a statement's parameters). */
  take(count: number): SqlValue[] {
    const end = this.#at + count;
    if (end > this.#wire.length) throw new RangeError('a write batch ended mid-change');
    const values = this.#wire.slice(this.#at, end);
    this.#at = end;
    return values;
  }
}
