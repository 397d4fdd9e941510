import type {
  BackoffPolicy,
  InstanceRecord,
  InstanceState,
  LogLevel,
  LogLine,
  ScheduleRecord,
  SerializedError,
  StateTransition,
} from '../types.js';
import { decodeValue, encodeValue } from './sqlite-json.js';

/**
 * How records map to rows and back. Columns are bound by position (the fastest way through
 * better-sqlite3), so each `…_COLUMNS` list fixes the order of its `…Params` function.
 * `undefined` optional fields are SQL NULL and come back absent, except `owner` and
 * `leaseUntil`, which come back null (no owner); `maxRetries` may be Infinity, which SQLite
 * keeps as a REAL.
 */

export type SqlValue = string | number | null;

/** Where rows' values are pushed: an array, or a write batch (sqlite-wire.ts). */
export interface ValueSink {
  push(...values: SqlValue[]): void;
}

type InstanceKey = Exclude<keyof InstanceRecord, 'id'>;

interface Column {
  name: string;
  encode: (value: unknown) => SqlValue;
}

const asNumber = (value: unknown): SqlValue => (value === undefined ? null : (value as number));
const asText = (value: unknown): SqlValue => (value === undefined ? null : (value as string));
const asFlag = (value: unknown): SqlValue => (value === undefined ? null : value ? 1 : 0);

/**
 * A backoff policy is one object shared by every instance of its job, and a record handed to
 * a store is not changed afterwards (see Store.write), so each policy is encoded once.
 */
const encodedPolicies = new WeakMap<object, SqlValue>();

function encodePolicy(policy: unknown): SqlValue {
  if (typeof policy !== 'object' || policy === null) return encodeValue(policy);
  let text = encodedPolicies.get(policy);
  if (text === undefined) {
    text = encodeValue(policy);
    encodedPolicies.set(policy, text);
  }
  return text;
}

/** Every instance field but `id`, with its column and how its value is written. */
export const INSTANCE_FIELDS: Readonly<Record<InstanceKey, Column>> = {
  kind: { name: 'kind', encode: asText },
  args: { name: 'args', encode: encodeValue },
  priority: { name: 'priority', encode: asNumber },
  state: { name: 'state', encode: asText },
  attempt: { name: 'attempt', encode: asNumber },
  maxRetries: { name: 'max_retries', encode: asNumber },
  timeoutMs: { name: 'timeout_ms', encode: asNumber },
  backoff: { name: 'backoff', encode: encodePolicy },
  createdAt: { name: 'created_at', encode: asNumber },
  dueAt: { name: 'due_at', encode: asNumber },
  updatedAt: { name: 'updated_at', encode: asNumber },
  startedAt: { name: 'started_at', encode: asNumber },
  finishedAt: { name: 'finished_at', encode: asNumber },
  result: { name: 'result', encode: encodeValue },
  error: { name: 'error', encode: encodeValue },
  progress: { name: 'progress', encode: encodeValue },
  scheduleId: { name: 'schedule_id', encode: asText },
  dueFor: { name: 'due_for', encode: asNumber },
  catchUp: { name: 'catch_up', encode: asFlag },
  owner: { name: 'owner', encode: asText },
  leaseUntil: { name: 'lease_until', encode: asNumber },
};

const INSTANCE_KEYS = Object.keys(INSTANCE_FIELDS) as InstanceKey[];

/** An instance field's number: its place in INSTANCE_KEYS, which updates send for its name. */
export const INSTANCE_FIELD_NUMBERS: ReadonlyMap<string, number> = new Map(
  INSTANCE_KEYS.map((key, n) => [key, n]),
);

/** The column of each instance field, by field number. */
export const INSTANCE_FIELD_COLUMNS: readonly string[] = INSTANCE_KEYS.map(
  (key) => INSTANCE_FIELDS[key].name,
);

/**
 * The columns of an instance row in the order `pushInstance` gives them, then `seq`, which the
 * store's thread appends (see sqlite-schema.ts).
 */
export const INSTANCE_COLUMNS = ['id', ...INSTANCE_FIELD_COLUMNS, 'seq'];

/** How many values `pushInstance` pushes. */
export const INSTANCE_WIDTH = INSTANCE_COLUMNS.length - 1;

/**
 * The fields one by one, in the order of INSTANCE_FIELDS: a loop over its keys costs three
 * times as much (every field a lookup by name and a call through its column), and this runs
 * for every instance created, on the thread that schedules.
 */
export function pushInstance(out: ValueSink, i: InstanceRecord): void {
  out.push(i.id, i.kind, encodeValue(i.args), i.priority, i.state, i.attempt, i.maxRetries);
  out.push(i.timeoutMs ?? null, encodePolicy(i.backoff), i.createdAt, i.dueAt, i.updatedAt);
  out.push(i.startedAt ?? null, i.finishedAt ?? null, encodeValue(i.result));
  out.push(encodeValue(i.error), encodeValue(i.progress), i.scheduleId ?? null, i.dueFor ?? null);
  out.push(asFlag(i.catchUp), i.owner ?? null, i.leaseUntil ?? null);
}

export interface InstanceRow {
  id: string;
  kind: string;
  args: string | null;
  priority: number;
  state: InstanceState;
  attempt: number;
  max_retries: number;
  timeout_ms: number | null;
  backoff: string;
  created_at: number;
  due_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  error: string | null;
  progress: string | null;
  schedule_id: string | null;
  due_for: number | null;
  catch_up: number | null;
  owner: string | null;
  lease_until: number | null;
}

export function instanceFromRow(row: InstanceRow): InstanceRecord {
  const instance: InstanceRecord = {
    id: row.id,
    kind: row.kind,
    args: decodeValue(row.args),
    priority: row.priority,
    state: row.state,
    attempt: row.attempt,
    maxRetries: row.max_retries,
    timeoutMs: row.timeout_ms,
    backoff: decodeValue(row.backoff) as BackoffPolicy,
    createdAt: row.created_at,
    dueAt: row.due_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    owner: row.owner,
    leaseUntil: row.lease_until,
  };
  if (row.result !== null) instance.result = decodeValue(row.result);
  if (row.error !== null) instance.error = decodeValue(row.error) as SerializedError;
  if (row.progress !== null) instance.progress = decodeValue(row.progress);
  if (row.schedule_id !== null) instance.scheduleId = row.schedule_id;
  if (row.due_for !== null) instance.dueFor = row.due_for;
  if (row.catch_up !== null) instance.catchUp = row.catch_up === 1;
  return instance;
}

/**
 * A transition's row refers to its instance by the instance's `seq` only; queries join the
 * instance for its id and kind (see sqlite-schema.ts).
 */
export const TRANSITION_COLUMNS = [
  'state',
  'attempt',
  'at',
  'seq',
  'error',
  'result',
  'reason',
  'instance_seq',
];

/** How many values `pushTransition` pushes: all but its instance's seq. */
export const TRANSITION_WIDTH = TRANSITION_COLUMNS.length - 1;

/**
 * A transition's columns but its instance's `seq`: it travels in the change of its instance,
 * and the store's thread appends the seq.
 */
export function pushTransition(out: ValueSink, t: StateTransition): void {
  const error = t.error === undefined ? null : encodeValue(t.error);
  out.push(t.state, t.attempt, t.at, t.seq, error, encodeValue(t.result), t.reason ?? null);
}

/** A transition's row as queries return it, with its instance's id and kind joined. */
export interface TransitionRow {
  instance_id: string;
  kind: string;
  state: InstanceState;
  attempt: number;
  at: number;
  seq: number;
  error: string | null;
  result: string | null;
  reason: string | null;
}

export function transitionFromRow(row: TransitionRow): StateTransition {
  const transition: StateTransition = {
    instanceId: row.instance_id,
    kind: row.kind,
    state: row.state,
    attempt: row.attempt,
    at: row.at,
    seq: row.seq,
  };
  if (row.error !== null) transition.error = decodeValue(row.error) as SerializedError;
  if (row.result !== null) transition.result = decodeValue(row.result);
  if (row.reason !== null) transition.reason = row.reason;
  return transition;
}

/** A log line's row, like a transition's, refers to its instance by `seq` only. */
export const LOG_COLUMNS = ['attempt', 'level', 'message', 'data', 'at', 'seq', 'instance_seq'];

/** How many values `pushLog` pushes after the line's instance id. */
export const LOG_WIDTH = LOG_COLUMNS.length - 1;

/**
 * A log line's instance id, by which the store's thread finds the instance's `seq`, then its
 * columns but that seq, which the thread appends.
 */
export function pushLog(out: ValueSink, line: LogLine): void {
  const { instanceId, attempt, level, message, at, seq } = line;
  out.push(instanceId, attempt, level, message, encodeValue(line.data), at, seq);
}

/** A log line's row as queries return it, with its instance's id and kind joined. */
export interface LogRow {
  instance_id: string;
  kind: string;
  attempt: number;
  level: LogLevel;
  message: string;
  data: string | null;
  at: number;
  seq: number;
}

export function logFromRow(row: LogRow): LogLine {
  const line: LogLine = {
    instanceId: row.instance_id,
    kind: row.kind,
    attempt: row.attempt,
    level: row.level,
    message: row.message,
    at: row.at,
    seq: row.seq,
  };
  if (row.data !== null) line.data = decodeValue(row.data);
  return line;
}

export const SCHEDULE_COLUMNS = [
  'id',
  'kind',
  'spec',
  'paused',
  'next_run_at',
  'last_run_at',
  'run_count',
  'created_at',
  'updated_at',
];

export function scheduleParams(s: ScheduleRecord): SqlValue[] {
  const spec = encodeValue(s.spec);
  const paused = s.paused ? 1 : 0;
  return [
    s.id,
    s.kind,
    spec,
    paused,
    s.nextRunAt,
    s.lastRunAt,
    s.runCount,
    s.createdAt,
    s.updatedAt,
  ];
}

export interface ScheduleRow {
  id: string;
  kind: string;
  spec: string;
  paused: number;
  next_run_at: number | null;
  last_run_at: number | null;
  run_count: number;
  created_at: number;
  updated_at: number;
}

export function scheduleFromRow(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    kind: row.kind,
    spec: decodeValue(row.spec) as Record<string, unknown>,
    paused: row.paused === 1,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    runCount: row.run_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** `INSERT INTO table (a, b) VALUES (?, ?)` for a list of columns. */
export function insertSql(table: string, columns: readonly string[], verb = 'INSERT'): string {
  const marks = columns.map(() => '?').join(', ');
  return `${verb} INTO ${table} (${columns.join(', ')}) VALUES (${marks})`;
}
