/**
 * Queries over store records, in two halves that any store can reuse:
 *
 * - validation, which every store runs at its boundary so that a bad query fails the same way
 *   everywhere (an InvalidOptionError naming the field, such as `query.limit`);
 * - matching, ordering and paging in plain code, for stores without a query language of their
 *   own (the memory store), written to mean exactly what the SQL stores' WHERE clauses mean.
 *
 * Time bounds are exclusive, one-or-many fields match any of their values (an empty list matches
 * nothing), ids compare by UTF-16 code unit (SQL stores need a binary collation to agree).
 */

import { InvalidOptionError } from '../errors.js';
import {
  type ClearFilter,
  type HistoryQuery,
  INSTANCE_STATES,
  type InstanceQuery,
  type InstanceRecord,
  isFinalState,
  LOG_LEVELS,
  type LogClearFilter,
  type LogLevel,
  type LogLine,
  type LogQuery,
  type StateTransition,
} from '../types.js';
import {
  checkDurationMs,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
} from '../validate/options.js';
import type { ClaimOptions, StoreWrite } from './store.js';

/** The paging fields every query shares. */
export interface Page {
  limit?: number;
  offset?: number;
  order?: 'asc' | 'desc';
}

/** Anything ordered by time, then by the writer's sequence: transitions and log lines. */
export interface Timed {
  at: number;
  seq: number;
}

/** Anything listed by creation: instances and schedules. */
export interface Created {
  createdAt: number;
  id: string;
}

// ─── validation ────────────────────────────────────────────────────────────────────────────

type FieldCheck = (value: unknown, path: string) => unknown;

const checkCount: FieldCheck = (value, path) => checkInteger(value, path, { min: 0 });

const checkTime: FieldCheck = (value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidOptionError(path, 'a time in ms since the epoch (a finite number)', value);
  }
  return value;
};

function checkList(value: unknown, path: string, checkItem: FieldCheck): void {
  if (!Array.isArray(value)) throw new InvalidOptionError(path, 'an array', value);
  for (const [index, item] of value.entries()) checkItem(item, `${path}[${index}]`);
}

function oneOrMany(checkItem: FieldCheck): FieldCheck {
  return (value, path) =>
    Array.isArray(value) ? checkList(value, path, checkItem) : checkItem(value, path);
}

const checkStringList: FieldCheck = (value, path) => checkList(value, path, checkString);
const checkState: FieldCheck = (value, path) => checkOneOf(value, path, INSTANCE_STATES);
const checkLevel: FieldCheck = (value, path) => checkOneOf(value, path, LOG_LEVELS);

const PAGE_FIELDS: Record<keyof Page, FieldCheck> = {
  limit: checkCount,
  offset: checkCount,
  order: (value, path) => checkOneOf(value, path, ['asc', 'desc']),
};

const INSTANCE_QUERY_FIELDS: Record<keyof InstanceQuery, FieldCheck> = {
  ids: checkStringList,
  kind: oneOrMany(checkString),
  state: oneOrMany(checkState),
  scheduleId: checkString,
  createdAfter: checkTime,
  createdBefore: checkTime,
  ...PAGE_FIELDS,
};

const HISTORY_QUERY_FIELDS: Record<keyof HistoryQuery, FieldCheck> = {
  instanceId: checkString,
  kind: oneOrMany(checkString),
  state: oneOrMany(checkState),
  after: checkTime,
  before: checkTime,
  ...PAGE_FIELDS,
};

const LOG_QUERY_FIELDS: Record<keyof LogQuery, FieldCheck> = {
  instanceId: checkString,
  kind: oneOrMany(checkString),
  level: oneOrMany(checkLevel),
  minLevel: checkLevel,
  after: checkTime,
  before: checkTime,
  ...PAGE_FIELDS,
};

const CLEAR_FILTER_FIELDS: Record<keyof ClearFilter, FieldCheck> = {
  finishedBefore: checkTime,
  kind: oneOrMany(checkString),
  state: oneOrMany(checkState),
};

const LOG_CLEAR_FILTER_FIELDS: Record<keyof LogClearFilter, FieldCheck> = {
  before: checkTime,
  kind: oneOrMany(checkString),
  instanceId: checkString,
};

const CLAIM_FIELDS: Record<keyof ClaimOptions, FieldCheck> = {
  owner: checkString,
  limit: checkCount,
  now: checkTime,
  leaseMs: (value, path) => checkDurationMs(value, path, 1),
  kinds: checkStringList,
};

/**
 * Checks an object against its fields: no unknown keys, each present field valid, each
 * `required` field present. Returns the object for cross-field checks.
 */
function checkFields(
  value: unknown,
  path: string,
  fields: Record<string, FieldCheck>,
  required: readonly string[] = [],
): Record<string, unknown> {
  const object = checkObject(value, path);
  checkKnownKeys(object, Object.keys(fields), path);
  for (const [key, check] of Object.entries(fields)) {
    if (object[key] !== undefined || required.includes(key)) check(object[key], `${path}.${key}`);
  }
  return object;
}

/** Refuses a lower bound past the upper one; equal bounds are legal and match nothing. */
function checkBounds(object: Record<string, unknown>, path: string, after: string, before: string) {
  const low = object[after];
  const high = object[before];
  if (typeof low === 'number' && typeof high === 'number' && low > high) {
    throw new InvalidOptionError(
      `${path}.${after}`,
      `a time not after ${path}.${before} (${high})`,
      low,
    );
  }
}

export function validateInstanceQuery(query: InstanceQuery, path = 'query'): void {
  const object = checkFields(query, path, INSTANCE_QUERY_FIELDS);
  checkBounds(object, path, 'createdAfter', 'createdBefore');
}

export function validateHistoryQuery(query: HistoryQuery, path = 'query'): void {
  checkBounds(checkFields(query, path, HISTORY_QUERY_FIELDS), path, 'after', 'before');
}

export function validateLogQuery(query: LogQuery, path = 'query'): void {
  checkBounds(checkFields(query, path, LOG_QUERY_FIELDS), path, 'after', 'before');
}

export function validateClearFilter(filter: ClearFilter, path = 'filter'): void {
  checkFields(filter, path, CLEAR_FILTER_FIELDS, ['finishedBefore']);
}

export function validateLogClearFilter(filter: LogClearFilter, path = 'filter'): void {
  checkFields(filter, path, LOG_CLEAR_FILTER_FIELDS, ['before']);
}

export function validateClaimOptions(options: ClaimOptions, path = 'options'): void {
  checkFields(options, path, CLAIM_FIELDS, ['owner', 'limit', 'now', 'leaseMs']);
}

export function validateRenewal(owner: string, ids: readonly string[], leaseUntil: number): void {
  checkString(owner, 'owner');
  checkStringList(ids, 'ids');
  checkTime(leaseUntil, 'leaseUntil');
}

// ─── matching ──────────────────────────────────────────────────────────────────────────────

/** A set of the values a one-or-many field allows, or undefined when the field is absent. */
/**
 * What every store checks of a batch before it changes anything: an array of known changes,
 * whose transitions belong to the instance of their change.
 */
export function validateBatch(batch: readonly StoreWrite[]): void {
  if (!Array.isArray(batch)) throw new InvalidOptionError('batch', 'an array of writes', batch);
  batch.forEach((change: StoreWrite, index) => {
    const path = `batch[${index}]`;
    switch (change?.op) {
      case 'create':
        change.transitions.forEach((transition, n) => {
          checkOwner(transition, change.instance.id, `${path}.transitions[${n}].instanceId`);
          checkKind(transition, change.instance.kind, `${path}.transitions[${n}].kind`);
        });
        break;
      case 'update':
        if (change.transition)
          checkOwner(change.transition, change.id, `${path}.transition.instanceId`);
        break;
      case 'log':
        break;
      default:
        throw new InvalidOptionError(`${path}.op`, 'one of create, update, log', opOf(change));
    }
  });
}

function opOf(change: unknown): unknown {
  return (change as { op?: unknown } | null | undefined)?.op;
}

function checkOwner(transition: StateTransition, id: string, path: string): void {
  if (transition?.instanceId !== id) {
    throw new InvalidOptionError(
      path,
      `"${id}", the instance of its change`,
      transition?.instanceId,
    );
  }
}

function checkKind(transition: StateTransition, kind: string, path: string): void {
  if (transition.kind !== kind) {
    throw new InvalidOptionError(path, `"${kind}", the kind of its instance`, transition.kind);
  }
}

export function toSet<T>(value: T | readonly T[] | undefined): ReadonlySet<T> | undefined {
  if (value === undefined) return undefined;
  return new Set(Array.isArray(value) ? (value as readonly T[]) : [value as T]);
}

function allows<T>(set: ReadonlySet<T> | undefined, value: T): boolean {
  return set === undefined || set.has(value);
}

function within(time: number, after = Number.NEGATIVE_INFINITY, before = Number.POSITIVE_INFINITY) {
  return time > after && time < before;
}

/** debug < info < warn < error. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

export function instanceMatcher(query: InstanceQuery): (record: InstanceRecord) => boolean {
  const ids = toSet(query.ids);
  const kinds = toSet(query.kind);
  const states = toSet(query.state);
  const { scheduleId, createdAfter, createdBefore } = query;

  return (record) =>
    allows(ids, record.id) &&
    allows(kinds, record.kind) &&
    allows(states, record.state) &&
    (scheduleId === undefined || record.scheduleId === scheduleId) &&
    within(record.createdAt, createdAfter, createdBefore);
}

export function transitionMatcher(query: HistoryQuery): (transition: StateTransition) => boolean {
  const kinds = toSet(query.kind);
  const states = toSet(query.state);
  const { instanceId, after, before } = query;

  return (transition) =>
    (instanceId === undefined || transition.instanceId === instanceId) &&
    allows(kinds, transition.kind) &&
    allows(states, transition.state) &&
    within(transition.at, after, before);
}

export function logMatcher(query: LogQuery): (line: LogLine) => boolean {
  const kinds = toSet(query.kind);
  const levels = toSet(query.level);
  const minRank = query.minLevel === undefined ? 0 : levelRank(query.minLevel);
  const { instanceId, after, before } = query;

  return (line) =>
    (instanceId === undefined || line.instanceId === instanceId) &&
    allows(kinds, line.kind) &&
    allows(levels, line.level) &&
    levelRank(line.level) >= minRank &&
    within(line.at, after, before);
}

/** Instances a clean-up removes: final, finished strictly before the bound, kind and state. */
export function clearMatcher(filter: ClearFilter): (record: InstanceRecord) => boolean {
  const kinds = toSet(filter.kind);
  const states = toSet(filter.state);

  return (record) =>
    isFinalState(record.state) &&
    record.finishedAt !== null &&
    record.finishedAt < filter.finishedBefore &&
    allows(kinds, record.kind) &&
    allows(states, record.state);
}

export function logClearMatcher(filter: LogClearFilter): (line: LogLine) => boolean {
  const kinds = toSet(filter.kind);
  const { instanceId, before } = filter;

  return (line) =>
    line.at < before &&
    allows(kinds, line.kind) &&
    (instanceId === undefined || line.instanceId === instanceId);
}

/** Due, not final, not running, and not under another owner's live lease. */
export function isClaimable(record: InstanceRecord, options: ClaimOptions): boolean {
  const leasedByOther =
    record.owner != null &&
    record.owner !== options.owner &&
    record.leaseUntil != null &&
    record.leaseUntil > options.now;

  return (
    record.dueAt <= options.now &&
    record.state !== 'running' &&
    !isFinalState(record.state) &&
    !leasedByOther &&
    (options.kinds === undefined || options.kinds.includes(record.kind))
  );
}

// ─── ordering and paging ───────────────────────────────────────────────────────────────────

/** Orders ids by UTF-16 code unit, like a binary collation. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** By `createdAt`, then `id`: the order of instance lists and schedule lists. */
export function compareCreated(a: Created, b: Created): number {
  return a.createdAt - b.createdAt || compareIds(a.id, b.id);
}

/** By `at`, then `seq`: the order of state history and log history. */
export function compareTimed(a: Timed, b: Timed): number {
  return a.at - b.at || a.seq - b.seq;
}

/** Best priority first, then earliest due, then oldest created, then id. */
export function compareForClaim(a: InstanceRecord, b: InstanceRecord): number {
  return a.priority - b.priority || a.dueAt - b.dueAt || compareCreated(a, b);
}

/** Sorts `items` in place by `compare` (reversed for `desc`), then cuts the requested page. */
export function orderAndPage<T>(items: T[], compare: (a: T, b: T) => number, page: Page): T[] {
  if (page.order === 'desc') items.sort((a, b) => compare(b, a));
  else items.sort(compare);

  const start = page.offset ?? 0;
  return page.limit === undefined ? items.slice(start) : items.slice(start, start + page.limit);
}
