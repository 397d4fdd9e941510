import type { StateTransition } from '../types.js';
import {
  INSTANCE_FIELD_NUMBERS,
  INSTANCE_FIELDS,
  pushInstance,
  pushLog,
  pushTransition,
  type SqlValue,
  type ValueSink,
} from './sqlite-rows.js';
import type { StoreWrite } from './store.js';

/**
 * A write batch on its way to the store's thread: values already encoded for their columns
 * (sqlite-rows.ts), written one change after another:
 *
 *   create  CREATE, the instance's columns (INSTANCE_WIDTH), n, n × a transition's columns
 *   update  UPDATE, id, n, n × (field number, value), then 0, or 1 and a transition's columns
 *   log     LOG, the line's instance id, the line's columns (LOG_WIDTH)
 *
 * Rows of history and logs hold neither their instance's id nor its kind (sqlite-schema.ts):
 * a transition's columns (TRANSITION_WIDTH) are what it holds beside them.
 *
 * The values travel as two typed arrays, which the message transfers without copying, and one
 * string: each value's kind (number, text or null), each number (or each text's length), and
 * the texts one after another. The structured clone of a message costs per value: sent as an
 * array of its values (85 for a short job), a batch took 9 µs a job to send and 15 µs to
 * rebuild on the store's thread, a third of that thread's work; in this form, under 0.3 µs on
 * either side, for about 1 µs a job more to encode. The thread reads a batch with a
 * WireReader.
 */
export interface WireBatch {
  /** How many values the batch holds. */
  count: number;
  /** Each value's kind: NUMBER, TEXT or NULL. */
  kinds: Uint8Array;
  /** Each number value, and each text value's length in UTF-16 code units. */
  numbers: Float64Array;
  /** The text values, one after another. */
  text: string;
}

const NUMBER = 0;
const TEXT = 1;
const NULL = 2;

/**
 * About how many values a change carries (a new instance with its first three transitions 45,
 * an update about 20, a log line 9), so that a batch's arrays rarely have to grow.
 */
const VALUES_PER_CHANGE = 32;

export const CREATE = 0;
export const UPDATE = 1;
export const LOG = 2;

/** Encodes a batch; throws for a patch of something that is not an instance field. */
export function encodeBatch(batch: readonly StoreWrite[]): WireBatch {
  const wire = new WireWriter(batch.length * VALUES_PER_CHANGE);
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
  return wire.finish();
}

/** What a message carrying `wire` transfers to the store's thread rather than copies. */
export function transferOf(wire: WireBatch): ArrayBuffer[] {
  return [wire.kinds.buffer as ArrayBuffer, wire.numbers.buffer as ArrayBuffer];
}

function ofInstance(transition: StateTransition, id: string): StateTransition {
  if (transition.instanceId === id) return transition;
  throw new TypeError(
    `a change of instance ${id} carries a transition of ${transition.instanceId}`,
  );
}

function pushPatch(wire: WireWriter, patch: Record<string, unknown>): void {
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
  wire.setNumber(countAt, count);
}

/** Builds a WireBatch value by value; grows its arrays as a list does. */
class WireWriter implements ValueSink {
  #kinds: Uint8Array;
  #numbers: Float64Array;
  readonly #texts: string[] = [];
  #count = 0;

  constructor(capacity: number) {
    this.#kinds = new Uint8Array(Math.max(capacity, 1));
    this.#numbers = new Float64Array(this.#kinds.length);
  }

  get length(): number {
    return this.#count;
  }

  push(...values: SqlValue[]): void {
    for (const value of values) this.#add(value);
  }

  /** Overwrites the number at `at`: a count known only once its items are written. */
  setNumber(at: number, value: number): void {
    this.#numbers[at] = value;
  }

  finish(): WireBatch {
    return {
      count: this.#count,
      kinds: this.#kinds,
      numbers: this.#numbers,
      text: this.#texts.join(''),
    };
  }

  #add(value: SqlValue): void {
    if (this.#count === this.#kinds.length) this.#grow();
    const at = this.#count++;
    if (typeof value === 'number') {
      this.#kinds[at] = NUMBER;
      this.#numbers[at] = value;
    } else if (typeof value === 'string') {
      this.#kinds[at] = TEXT;
      this.#numbers[at] = value.length;
      this.#texts.push(value);
    } else if (value === null) {
      this.#kinds[at] = NULL;
    } else {
      this.#count--;
      throw new TypeError(
        `a value of type ${typeof value} cannot be written, only a number, a string or null`,
      );
    }
  }

  #grow(): void {
    const kinds = new Uint8Array(this.#kinds.length * 2);
    kinds.set(this.#kinds);
    this.#kinds = kinds;
    const numbers = new Float64Array(kinds.length);
    numbers.set(this.#numbers);
    this.#numbers = numbers;
  }
}

/** Reads a WireBatch front to back; a batch that does not hold what it says is a RangeError. */
export class WireReader {
  readonly #kinds: Uint8Array;
  readonly #numbers: Float64Array;
  readonly #text: string;
  readonly #count: number;
  #at = 0;
  /** Where the next text value starts in `text`. */
  #textAt = 0;

  constructor({ count, kinds, numbers, text }: WireBatch) {
    if (count > kinds.length || count > numbers.length) {
      throw new RangeError(`a write batch of ${count} values holds ${kinds.length} kinds`);
    }
    this.#kinds = kinds;
    this.#numbers = numbers;
    this.#text = text;
    this.#count = count;
  }

  get done(): boolean {
    return this.#at >= this.#count;
  }

  next(): SqlValue {
    const at = this.#at;
    if (at >= this.#count) throw new RangeError('a write batch ended mid-change');
    this.#at = at + 1;
    const kind = this.#kinds[at];
    if (kind === NUMBER) return this.#numbers[at] as number;
    if (kind === NULL) return null;
    if (kind !== TEXT) throw new RangeError(`a write batch holds a value of kind ${kind}`);
    const start = this.#textAt;
    const end = start + (this.#numbers[at] as number);
    if (end > this.#text.length) throw new RangeError('a write batch ended mid-text');
    this.#textAt = end;
    return this.#text.slice(start, end);
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
    this.#check(count);
    for (let n = 0; n < count; n++) out.push(this.next());
  }

  /** Passes over the next `count` values. */
  skip(count: number): void {
    this.#check(count);
    const end = this.#at + count;
    for (let at = this.#at; at < end; at++) {
      if (this.#kinds[at] === TEXT) this.#textAt += this.#numbers[at] as number;
    }
    this.#at = end;
  }

  /** The next `count` values, as a new array (a statement's parameters). */
  take(count: number): SqlValue[] {
    const values: SqlValue[] = [];
    this.copy(count, values);
    return values;
  }

  #check(count: number): void {
    if (this.#at + count > this.#count) throw new RangeError('a write batch ended mid-change');
  }
}
