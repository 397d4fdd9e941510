import type {
  ClearFilter,
  HistoryQuery,
  InstanceQuery,
  InstanceRecord,
  LogClearFilter,
  LogLine,
  LogQuery,
  ScheduleRecord,
  StateTransition,
} from '../types.js';

/**
 * One change to a store. The manager sends changes in batches, in the order they happened,
 * and a store applies a batch in that order and all at once (one transaction where it has
 * them): a log line written before an instance's final transition is never visible after it.
 */
export type StoreWrite =
  | { op: 'create'; instance: InstanceRecord; transitions: readonly StateTransition[] }
  | {
      op: 'update';
      id: string;
      patch: Partial<Omit<InstanceRecord, 'id' | 'kind' | 'createdAt'>>;
      transition?: StateTransition;
    }
  | { op: 'log'; line: LogLine };

export interface ClaimOptions {
  /** Who claims: a process id, unique among the processes sharing the store. */
  owner: string;
  /** Claim at most this many instances. */
  limit: number;
  /** Claim instances due at or before this time, ms since the epoch. */
  now: number;
  /** How long the claim holds unless renewed, in ms. */
  leaseMs: number;
  /** Only these kinds (those the claiming process has registered). */
  kinds?: readonly string[];
}

/**
 * Where instances, schedules and history live. The memory store is the default; the SQLite
 * and PostgreSQL stores implement the same interface, and one contract test suite
 * (`test/store-contract.ts`) runs against each of them.
 *
 * In one process the manager keeps its ready queue in memory and uses the store as the record
 * of truth. Stores shared by many processes hand out due instances with `claim`, which holds
 * each claimed instance under a lease that its owner renews; a lease that runs out makes the
 * instance claimable again, so a process that dies loses nothing.
 */
export interface Store {
  /** A short name for logs and errors: `memory`, `sqlite:/path/file.db`, … */
  readonly name: string;

  /** Makes the store usable; every other call on a store that is not open rejects (StoreError). */
  open(): Promise<void>;
  close(): Promise<void>;

  /**
   * Applies a batch of changes in order, atomically where the store can. An update or log line
   * for an instance the store does not hold (cleared, evicted, never created) is ignored.
   * A create of an id the store already holds rejects with StoreError and applies no part of
   * the batch. A transition belongs to the instance of its change, and a transition's or log
   * line's `kind` is its instance's kind (a store may keep only the instance's). The store may
   * keep what it is handed as it is: the caller does not change a record, transition or line
   * afterwards.
   */
  write(batch: readonly StoreWrite[]): Promise<void>;

  /**
   * How many `write` calls the manager may have waiting on this store at once; 1 when absent.
   * A store that takes more applies them in the order they were called, and once one fails it
   * applies none of the writes called before that failure was reported: each of them rejects
   * too, and the manager sends them all again, in order.
   */
  readonly writesInFlight?: number;

  getInstance(id: string): Promise<InstanceRecord | undefined>;
  queryInstances(query: InstanceQuery): Promise<InstanceRecord[]>;
  /** Counts every instance the query matches: `limit`, `offset` and `order` do not apply. */
  countInstances(query: InstanceQuery): Promise<number>;
  lookupInstanceHistory(query: HistoryQuery): Promise<StateTransition[]>;
  lookupInstanceLogs(query: LogQuery): Promise<LogLine[]>;

  /** Removes finished instances with their history and logs; returns how many instances. */
  clearInstanceHistory(filter: ClearFilter): Promise<number>;
  /** Removes log lines; returns how many. */
  clearInstanceLogs(filter: LogClearFilter): Promise<number>;

  /** Instances not in a final state, for recovery when a manager starts on this store. */
  loadUnfinished(): Promise<InstanceRecord[]>;

  /**
   * Hands out up to `limit` instances that are due, not final, not running, and not under
   * another owner's live lease; best priority first, then earliest due, then oldest.
   */
  claim(options: ClaimOptions): Promise<InstanceRecord[]>;
  /** Extends the owner's leases on these instances; returns the ids it still holds. */
  renewLeases(owner: string, ids: readonly string[], leaseUntil: number): Promise<string[]>;

  saveSchedule(schedule: ScheduleRecord): Promise<void>;
  deleteSchedule(id: string): Promise<boolean>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  listSchedules(): Promise<ScheduleRecord[]>;
}
