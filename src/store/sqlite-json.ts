/**
 * Values a store keeps for an instance (args, result, progress, errors, backoff) as JSON text.
 *
 * Plain JSON data is written as itself, so the file stays readable with `json_extract` and the
 * sqlite3 shell. An instance may also carry what structured clone sends to a thread and JSON
 * cannot say (Date, Map, Set, BigInt, undefined, Infinity, NaN, -0, RegExp, binary data,
 * Error): each is written as an object tagged with `TAG` and rebuilt on reading, so an
 * instance recovered after a crash runs with exactly the arguments it was scheduled with.
 * A user's own object that happens to have a `TAG` key is escaped the same way.
 *
 * What remains: an `undefined` inside an object or array is read back as a missing key or an
 * array hole, because JSON.parse's reviver cannot return `undefined` as a value; and a value
 * that contains itself (a cycle) cannot be written at all: its batch fails with a StoreError.
 */

import { BINARY_VIEWS } from '../validate/binary-views.js';

const TAG = '$jobloom';

type Tagged = { [TAG]: string } & Record<string, unknown>;

/** JSON text for a value; `null` (SQL NULL) for `undefined`, so absent stays absent. */
export function encodeValue(value: unknown): string | null {
  if (value === undefined) return null;
  return isFlat(value) ? JSON.stringify(value) : JSON.stringify(value, replaceValue);
}

export function decodeValue(text: string | null): unknown {
  if (text === null) return undefined;
  // Only text that holds the tag can hold a tagged value (encodeValue never escapes it), and a
  // reviver makes JSON.parse several times slower: recovery decodes every unfinished instance.
  return text.includes(TAG) ? JSON.parse(text, reviveValue) : JSON.parse(text);
}

/**
 * True for a value JSON says exactly without help: a primitive, or a plain object or array of
 * such primitives. Most args, results, progress and every ordinary backoff are flat, and one
 * level of checking costs far less than a replacer called on every value.
 */
function isFlat(value: unknown): boolean {
  if (isExact(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.every(isExact);
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (key === TAG || !isExact((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function isExact(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    default:
      return value === null;
  }
}

/** Sees each value before its `toJSON` (a Date's would turn it into a string first). */
function replaceValue(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  switch (typeof raw) {
    case 'number':
      if (Object.is(raw, -0)) return tag('Number', '-0');
      return Number.isFinite(raw) ? raw : tag('Number', String(raw));
    case 'bigint':
      return tag('BigInt', raw.toString());
    case 'undefined':
      return { [TAG]: 'Undefined' };
    case 'object':
      return raw === null || Array.isArray(raw) ? raw : replaceObject(raw);
    case 'function':
    case 'symbol':
      // JSON would drop it without a word; no thread could have been sent it either.
      throw new TypeError(`a ${typeof raw} cannot be stored (at key "${key}")`);
    default:
      return value;
  }
}

function replaceObject(raw: object): unknown {
  if (raw instanceof Date) return tag('Date', raw.getTime());
  if (raw instanceof Map) return tag('Map', [...raw]);
  if (raw instanceof Set) return tag('Set', [...raw]);
  if (raw instanceof RegExp) return { [TAG]: 'RegExp', source: raw.source, flags: raw.flags };
  if (raw instanceof Error) return replaceError(raw);
  if (ArrayBuffer.isView(raw)) return tag(raw.constructor.name, toBase64(raw.buffer, raw));
  if (raw instanceof ArrayBuffer || raw instanceof SharedArrayBuffer) {
    return tag('ArrayBuffer', toBase64(raw));
  }
  if (Object.hasOwn(raw, TAG)) return tag('Object', Object.entries(raw));
  return raw;
}

function replaceError(error: Error): Tagged {
  const tagged: Tagged = { [TAG]: 'Error', name: error.name, message: error.message };
  if (error.stack !== undefined) tagged.stack = error.stack;
  if (error.cause !== undefined) tagged.cause = error.cause;
  return tagged;
}

function tag(type: string, value: unknown): Tagged {
  return { [TAG]: type, value };
}

function toBase64(buffer: ArrayBufferLike, view?: ArrayBufferView): string {
  const offset = view?.byteOffset ?? 0;
  return Buffer.from(buffer, offset, view?.byteLength ?? buffer.byteLength).toString('base64');
}

/** Called bottom-up, so a tagged value's contents are already rebuilt when it is. */
function reviveValue(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const type = (value as Partial<Tagged>)[TAG];
  return typeof type === 'string' ? reviveTagged(type, value as Tagged) : value;
}

function reviveTagged(type: string, tagged: Tagged): unknown {
  const { value } = tagged;
  switch (type) {
    case 'Number':
      return Number(value);
    case 'BigInt':
      return BigInt(value as string);
    case 'Undefined':
      return undefined;
    case 'Date':
      return new Date(value as number);
    case 'Map':
      return new Map(value as [unknown, unknown][]);
    case 'Set':
      return new Set(value as unknown[]);
    case 'RegExp':
      return new RegExp(tagged.source as string, tagged.flags as string);
    case 'Error':
      return reviveError(tagged);
    case 'Object':
      return Object.fromEntries(value as [string, unknown][]);
    default:
      return reviveBinary(type, value as string);
  }
}

function reviveError(tagged: Tagged): Error {
  const options = tagged.cause === undefined ? undefined : { cause: tagged.cause };
  const error = new Error(tagged.message as string, options);
  error.name = tagged.name as string;
  if (typeof tagged.stack === 'string') error.stack = tagged.stack;
  return error;
}

function reviveBinary(type: string, base64: string): unknown {
  const bytes = Buffer.from(base64, 'base64');
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  if (type === 'ArrayBuffer') return buffer;

  const View = BINARY_VIEWS[type];
  if (View === undefined) throw new TypeError(`unknown tagged value type "${type}"`);
  return new View(buffer);
}
