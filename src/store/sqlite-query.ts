import {
  type ClearFilter,
  FINAL_STATES,
  type HistoryQuery,
  type InstanceQuery,
  LOG_LEVELS,
  type LogClearFilter,
  type LogLevel,
  type LogQuery,
} from '../types.js';
import {
  levelRank,
  type Page,
  validateClearFilter,
  validateHistoryQuery,
  validateInstanceQuery,
  validateLogClearFilter,
  validateLogQuery,
} from './query.js';

/**
 * Store queries as SQL. Each builder validates its query first with the validators every
 * store shares (query.ts), then returns SQL with `?` placeholders and their values.
 * A one-or-many filter binds its list as JSON and reads it with `json_each`, so a query's SQL
 * does not change with the length of its lists and its prepared statement can be reused.
 * Orders end with a unique key, so the same query over the same data always returns the same
 * list: instances by id; history and log rows that tie on `at` and `seq` in the order they
 * were written, whichever the direction, as in the memory store.
 */

export interface Sql {
  text: string;
  params: unknown[];
}

type Filter = string | readonly string[];

/** History and log rows of one instance, through the index on its `seq` (see sqlite-schema). */
const OF_INSTANCE = 'instance_seq = (SELECT seq FROM instances WHERE id = ?)';

/**
 * History and log rows hold neither the id nor the kind of their instance (see sqlite-schema):
 * queries join the instance for both. Every row has its instance: deleting one deletes them.
 */
const joined = (table: string) => `SELECT h.*, i.id AS instance_id, i.kind FROM ${table} h
  JOIN instances i ON i.seq = h.instance_seq`;
const HISTORY = joined('transitions');
const LOGS = joined('logs');

class Where {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  add(clause: string, param: unknown): void {
    this.clauses.push(clause);
    this.params.push(param);
  }

  /** `column = ?` for one value, `column IN (…)` for a list. */
  match(column: string, filter: Filter | undefined): void {
    if (filter === undefined) return;
    if (typeof filter === 'string') this.add(`${column} = ?`, filter);
    else this.add(`${column} IN (SELECT value FROM json_each(?))`, JSON.stringify(filter));
  }

  toString(): string {
    return this.clauses.length === 0 ? '' : ` WHERE ${this.clauses.join(' AND ')}`;
  }
}

export function instancesSql(query: InstanceQuery, count: boolean): Sql {
  validateInstanceQuery(query);
  const where = new Where();
  if (query.ids !== undefined) where.match('id', [...query.ids]);
  where.match('kind', query.kind);
  where.match('state', query.state);
  if (query.scheduleId !== undefined) where.add('schedule_id = ?', query.scheduleId);
  if (query.createdAfter !== undefined) where.add('created_at > ?', query.createdAfter);
  if (query.createdBefore !== undefined) where.add('created_at < ?', query.createdBefore);

  if (count) return { text: `SELECT count(*) FROM instances${where}`, params: where.params };
  const order = orderBy(['created_at', 'id'], query.order);
  return page(`SELECT * FROM instances${where}${order}`, where.params, query);
}

export function historySql(query: HistoryQuery): Sql {
  validateHistoryQuery(query);
  const where = timeWhere(query);
  where.match('h.state', query.state);
  const order = timedOrder(query.order);
  return page(`${HISTORY}${where}${order}`, where.params, query);
}

export function logsSql(query: LogQuery): Sql {
  validateLogQuery(query);
  const where = timeWhere(query);
  const levels = levelsOf(query);
  if (levels !== undefined) where.match('h.level', levels);
  const order = timedOrder(query.order);
  return page(`${LOGS}${where}${order}`, where.params, query);
}

/** Final instances that finished before the bound; their history and logs go by trigger. */
export function clearInstancesSql(filter: ClearFilter): Sql {
  validateClearFilter(filter);
  const where = new Where();
  where.add('finished_at < ?', filter.finishedBefore);
  where.match('state', [...FINAL_STATES]);
  where.match('kind', filter.kind);
  where.match('state', filter.state);
  return { text: `DELETE FROM instances${where}`, params: where.params };
}

export function clearLogsSql(filter: LogClearFilter): Sql {
  validateLogClearFilter(filter);
  const where = new Where();
  where.add('at < ?', filter.before);
  if (filter.kind !== undefined) {
    const kinds = new Where();
    kinds.match('kind', filter.kind);
    const ofKinds = `instance_seq IN (SELECT seq FROM instances${kinds})`;
    where.add(ofKinds, kinds.params[0]);
  }
  if (filter.instanceId !== undefined) where.add(OF_INSTANCE, filter.instanceId);
  return { text: `DELETE FROM logs${where}`, params: where.params };
}

/** The filters history and log queries share, on their rows `h` joined to instances `i`. */
function timeWhere(query: HistoryQuery | LogQuery): Where {
  const where = new Where();
  if (query.instanceId !== undefined) where.add(`h.${OF_INSTANCE}`, query.instanceId);
  where.match('i.kind', query.kind);
  if (query.after !== undefined) where.add('h.at > ?', query.after);
  if (query.before !== undefined) where.add('h.at < ?', query.before);
  return where;
}

/** The levels a log query keeps: those it names, at or above `minLevel`. */
function levelsOf(query: LogQuery): readonly LogLevel[] | undefined {
  if (query.level === undefined && query.minLevel === undefined) return undefined;
  const named = query.level === undefined ? LOG_LEVELS : [query.level].flat();
  const floor = query.minLevel === undefined ? 0 : levelRank(query.minLevel);
  return named.filter((level) => levelRank(level) >= floor);
}

/** Ties on `at` and `seq` keep the order they were written in, either way. */
function timedOrder(order: 'asc' | 'desc' | undefined): string {
  return order === 'desc'
    ? ' ORDER BY h.at DESC, h.seq DESC, h.rowid'
    : ' ORDER BY h.at, h.seq, h.rowid';
}

function orderBy(columns: readonly string[], order: 'asc' | 'desc' | undefined): string {
  const direction = order === 'desc' ? ' DESC' : '';
  return ` ORDER BY ${columns.map((column) => column + direction).join(', ')}`;
}

/** SQLite reads LIMIT -1 as no limit, which lets OFFSET stand alone. */
function page(text: string, params: unknown[], query: Page): Sql {
  if (query.limit === undefined && query.offset === undefined) return { text, params };
  return {
    text: `${text} LIMIT ? OFFSET ?`,
    params: [...params, query.limit ?? -1, query.offset ?? 0],
  };
}
