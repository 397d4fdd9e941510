import { NotCloneableError } from '../errors.js';
import { BINARY_VIEWS } from './binary-views.js';

/**
 * What may cross into a thread. Structured clone accepts more than this (it copies a class
 * instance as a plain object and drops its prototype without a word), so jobloom is stricter:
 * plain data only, and anything else is refused at the boundary with the path of the value.
 * A value that contains itself is refused too: no durable store could write it down. The same
 * object reached twice along different paths is fine.
 */
const CLONEABLE_CLASSES: ReadonlySet<unknown> = new Set([
  Date,
  RegExp,
  Map,
  Set,
  ArrayBuffer,
  SharedArrayBuffer,
  ...Object.values(BINARY_VIEWS),
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
]);

/** Throws a NotCloneableError naming the first value under `root` that cannot cross. */
export function assertCloneable(value: unknown, root: string): void {
  const problem = findUncloneable(value, root, new Set());
  if (problem) throw new NotCloneableError(problem.path, problem.what);
}

interface Problem {
  path: string;
  what: string;
}

function findUncloneable(value: unknown, path: string, seen: Set<object>): Problem | undefined {
  switch (typeof value) {
    case 'function':
      return { path, what: 'a function' };
    case 'symbol':
      return { path, what: 'a symbol' };
    case 'object':
      return value === null ? undefined : checkObject(value, path, seen);
    default:
      return undefined;
  }
}

/** `seen` holds the objects on the path from the root to here: meeting one again is a cycle. */
function checkObject(value: object, path: string, seen: Set<object>): Problem | undefined {
  if (seen.has(value)) return { path, what: 'a reference back to a value that contains it' };
  seen.add(value);
  const problem = checkContents(value, path, seen);
  seen.delete(value);
  return problem;
}

function checkContents(value: object, path: string, seen: Set<object>): Problem | undefined {
  if (Array.isArray(value)) return checkEntries(value.entries(), path, seen, true);

  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    return checkEntries(Object.entries(value), path, seen, false);
  }

  const ctor = (proto as { constructor?: unknown }).constructor;
  if (!CLONEABLE_CLASSES.has(ctor)) {
    const name = typeof ctor === 'function' && ctor.name ? ctor.name : 'an unknown class';
    return { path, what: `an instance of ${name}` };
  }
  if (value instanceof Map) return checkMap(value, path, seen);
  if (value instanceof Set) return checkEntries(entriesOfSet(value), path, seen, true);
  return undefined;
}

function checkEntries(
  entries: Iterable<[string | number, unknown]>,
  path: string,
  seen: Set<object>,
  indexed: boolean,
): Problem | undefined {
  for (const [key, item] of entries) {
    const childPath = indexed ? `${path}[${key}]` : `${path}.${String(key)}`;
    const problem = findUncloneable(item, childPath, seen);
    if (problem) return problem;
  }
  return undefined;
}

function checkMap(
  map: Map<unknown, unknown>,
  path: string,
  seen: Set<object>,
): Problem | undefined {
  let index = 0;
  for (const [key, item] of map) {
    const problem =
      findUncloneable(key, `${path}.<key ${index}>`, seen) ??
      findUncloneable(item, `${path}.get(${describeKey(key)})`, seen);
    if (problem) return problem;
    index++;
  }
  return undefined;
}

function* entriesOfSet(set: Set<unknown>): Iterable<[number, unknown]> {
  let index = 0;
  for (const item of set) yield [index++, item];
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}
