/**
 * The default store: everything in this process's memory, gone when it exits.
 *
 * Ownership: the store keeps the records, transitions and log lines handed to `write` as they
 * are, without copying them, and merges update patches into the stored record in place. That
 * keeps the write path (tens of thousands of instances a second) free of copies, and is safe
 * because the manager never mutates a record after handing it over; no other caller may either.
 * Reads return shallow copies, so a record a caller got back never changes under it (nested
 * values such as `args` and `result` are shared and must be treated as read-only).
 *
 * Cost: every write op is O(1) amortised, with no sorting and no scans. Lookups of one instance's
 * history or logs cost O(lines of that instance). Queries across all instances scan and sort:
 * they serve people and tools, not the hot path.
 *
 * Retention: finished instances are kept up to a count and an age, then evicted with their
 * history and logs, oldest finished first, from a FIFO of instances in the order they finished
 * (so an instance that finished "late" with an early `finishedAt` waits behind those before it).
 * Unfinished instances are never evicted. Each instance keeps at most a set number of log lines,
 * dropping its oldest, so that one chatty executor cannot exhaust memory.
 */

import type { Clock } from '../clock.js';
import { StoreError } from '../errors.js';
import {
  type ClearFilter,
  type HistoryQuery,
  type InstanceQuery,
  type InstanceRecord,
  isFinalState,
  type LogClearFilter,
  type LogLine,
  type LogQuery,
  type ScheduleRecord,
  type StateTransition,
} from '../types.js';
import { checkString } from '../validate/options.js';
import { InstanceEntry, logsOf, transitionsOf } from './memory-entry.js';
import { type MemoryStoreOptions, resolveMemoryStoreOptions } from './memory-store-options.js';
import {
  clearMatcher,
  compareCreated,
  compareForClaim,
  compareTimed,
  instanceMatcher,
  isClaimable,
  logClearMatcher,
  logMatcher,
  orderAndPage,
  transitionMatcher,
  validateBatch,
  validateClaimOptions,
  validateClearFilter,
  validateHistoryQuery,
  validateInstanceQuery,
  validateLogClearFilter,
  validateLogQuery,
  validateRenewal,
} from './query.js';
import type { ClaimOptions, Store, StoreWrite } from './store.js';

export { MEMORY_STORE_DEFAULTS, type MemoryStoreOptions } from './memory-store-options.js';

/** Spent FIFO slots are cut off once there are this many and they are half of the FIFO. */
const FIFO_COMPACT_MIN = 1_024;

export class MemoryStore implements Store {
  readonly name = 'memory';

  readonly #maxFinished: number;
  readonly #maxFinishedAgeMs: number;
  readonly #maxLogLines: number;
  readonly #clock: Clock;
  /** False when neither retention limit can ever evict: then no FIFO is kept. */
  readonly #retains: boolean;

  #open = false;
  #entries = new Map<string, InstanceEntry>();
  #schedules = new Map<string, ScheduleRecord>();
  /** Finished entries in the order they finished; slots before `#finishedHead` are spent. */
  #finished: (InstanceEntry | undefined)[] = [];
  #finishedHead = 0;
  /** How many held entries are in a final state (the FIFO may hold spent slots too). */
  #finishedCount = 0;
  #droppedLogLines = 0;

  constructor(options: MemoryStoreOptions = {}) {
    const settings = resolveMemoryStoreOptions(options);
    this.#maxFinished = settings.maxFinished;
    this.#maxFinishedAgeMs = settings.maxFinishedAgeMs;
    this.#maxLogLines = settings.maxLogLinesPerInstance;
    this.#clock = settings.clock;
    this.#retains = Number.isFinite(this.#maxFinished) || Number.isFinite(this.#maxFinishedAgeMs);
  }

  /** Log lines dropped so far because their instance already held `maxLogLinesPerInstance`. */
  get droppedLogLines(): number {
    return this.#droppedLogLines;
  }

  async open(): Promise<void> {
    this.#open = true;
  }

  /** Stops accepting calls; what it holds stays, and `open()` makes it usable again. */
  async close(): Promise<void> {
    this.#open = false;
  }

  async write(batch: readonly StoreWrite[]): Promise<void> {
    this.#assertOpen();
    this.#checkBatch(batch);

    for (const change of batch) {
      if (change.op === 'create') this.#create(change.instance, change.transitions);
      else if (change.op === 'update') this.#update(change);
      else this.#log(change.line);
    }
    this.#evict();
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    this.#ready();
    const entry = this.#entries.get(id);
    return entry && copy(entry.record);
  }

  async queryInstances(query: InstanceQuery): Promise<InstanceRecord[]> {
    validateInstanceQuery(query);
    this.#ready();
    return orderAndPage(this.#matchingRecords(query), compareCreated, query).map(copy);
  }

  /** Counts every match: `limit`, `offset` and `order` do not apply. */
  async countInstances(query: InstanceQuery): Promise<number> {
    validateInstanceQuery(query);
    this.#ready();
    return this.#matchingRecords(query).length;
  }

  async lookupInstanceHistory(query: HistoryQuery): Promise<StateTransition[]> {
    validateHistoryQuery(query);
    this.#ready();
    const found = this.#collect(query.instanceId, transitionsOf, transitionMatcher(query));
    return orderAndPage(found, compareTimed, query).map(copy);
  }

  async lookupInstanceLogs(query: LogQuery): Promise<LogLine[]> {
    validateLogQuery(query);
    this.#ready();
    const found = this.#collect(query.instanceId, logsOf, logMatcher(query));
    return orderAndPage(found, compareTimed, query).map(copy);
  }

  async clearInstanceHistory(filter: ClearFilter): Promise<number> {
    validateClearFilter(filter);
    this.#ready();

    const matches = clearMatcher(filter);
    let removed = 0;
    for (const entry of this.#entries.values()) {
      if (!matches(entry.record)) continue;
      this.#remove(entry);
      removed++;
    }
    if (removed > 0) this.#dropSpentFifoSlots();
    return removed;
  }

  async clearInstanceLogs(filter: LogClearFilter): Promise<number> {
    validateLogClearFilter(filter);
    this.#ready();

    const matches = logClearMatcher(filter);
    let removed = 0;
    for (const entry of this.#candidates(filter.instanceId)) removed += entry.removeLogs(matches);
    return removed;
  }

  async loadUnfinished(): Promise<InstanceRecord[]> {
    this.#ready();
    const records: InstanceRecord[] = [];
    for (const { record } of this.#entries.values()) {
      if (!isFinalState(record.state)) records.push(record);
    }
    return records.sort(compareCreated).map(copy);
  }

  async claim(options: ClaimOptions): Promise<InstanceRecord[]> {
    validateClaimOptions(options);
    this.#ready();

    const claimable: InstanceRecord[] = [];
    for (const { record } of this.#entries.values()) {
      if (isClaimable(record, options)) claimable.push(record);
    }

    const leaseUntil = options.now + options.leaseMs;
    return orderAndPage(claimable, compareForClaim, { limit: options.limit }).map((record) => {
      record.owner = options.owner;
      record.leaseUntil = leaseUntil;
      return copy(record);
    });
  }

  async renewLeases(owner: string, ids: readonly string[], leaseUntil: number): Promise<string[]> {
    validateRenewal(owner, ids, leaseUntil);
    this.#ready();

    const held: string[] = [];
    for (const id of new Set(ids)) {
      const record = this.#entries.get(id)?.record;
      if (record === undefined || record.owner !== owner || isFinalState(record.state)) continue;
      record.leaseUntil = leaseUntil;
      held.push(id);
    }
    return held;
  }

  async saveSchedule(schedule: ScheduleRecord): Promise<void> {
    checkString(schedule?.id, 'schedule.id');
    this.#ready();
    // Kept as given, like `write`: callers hand over a record they no longer change.
    this.#schedules.set(schedule.id, schedule);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    this.#ready();
    return this.#schedules.delete(id);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    this.#ready();
    const schedule = this.#schedules.get(id);
    return schedule && structuredClone(schedule);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    this.#ready();
    return [...this.#schedules.values()].sort(compareCreated).map((s) => structuredClone(s));
  }

  /** Refuses a closed store, then applies retention so that no read sees an expired entry. */
  #ready(): void {
    this.#assertOpen();
    this.#evict();
  }

  #assertOpen(): void {
    if (!this.#open) {
      throw new StoreError('memory store: the store is not open; call open() first');
    }
  }

  /** Checks what could fail before anything is applied, so a batch applies whole or not at all. */
  #checkBatch(batch: readonly StoreWrite[]): void {
    validateBatch(batch);
    const created = new Set<string>();
    batch.forEach((change: StoreWrite) => {
      if (change.op !== 'create') return;

      const id = change.instance.id;
      if (this.#entries.has(id) || created.has(id)) {
        throw new StoreError(
          `memory store: instance "${id}" already exists; the batch was not written`,
        );
      }
      created.add(id);
    });
  }

  #create(instance: InstanceRecord, transitions: readonly StateTransition[]): void {
    const entry = new InstanceEntry(instance, transitions.slice());
    this.#entries.set(instance.id, entry);
    if (isFinalState(instance.state)) this.#noteFinished(entry);
  }

  /** Updates of an instance the store does not hold (cleared, evicted) are ignored. */
  #update(change: Extract<StoreWrite, { op: 'update' }>): void {
    const entry = this.#entries.get(change.id);
    if (entry === undefined) return;

    const wasFinal = isFinalState(entry.record.state);
    Object.assign(entry.record, change.patch);
    if (change.transition !== undefined) entry.transitions.push(change.transition);

    const isFinal = isFinalState(entry.record.state);
    if (isFinal && !wasFinal) this.#noteFinished(entry);
    else if (wasFinal && !isFinal) this.#finishedCount--;
  }

  /** Lines of an instance the store does not hold are ignored, like updates. */
  #log(line: LogLine): void {
    const entry = this.#entries.get(line.instanceId);
    if (entry?.addLog(line, this.#maxLogLines)) this.#droppedLogLines++;
  }

  #noteFinished(entry: InstanceEntry): void {
    this.#finishedCount++;
    if (this.#retains) this.#finished.push(entry);
  }

  #remove(entry: InstanceEntry): void {
    this.#entries.delete(entry.record.id);
    if (isFinalState(entry.record.state)) this.#finishedCount--;
  }

  /**
   * Evicts finished entries from the head of the FIFO while there are too many or the head is
   * too old. Each finished entry passes the head once, so this is O(1) amortised per instance.
   */
  #evict(): void {
    const oldestKept = this.#clock.now() - this.#maxFinishedAgeMs;

    while (this.#finishedHead < this.#finished.length) {
      const entry = this.#finished[this.#finishedHead];
      if (entry !== undefined && this.#isHeldFinished(entry)) {
        const tooMany = this.#finishedCount > this.#maxFinished;
        if (!tooMany && finishedTime(entry.record) >= oldestKept) break;
        this.#remove(entry);
      }
      this.#finished[this.#finishedHead++] = undefined;
    }

    const head = this.#finishedHead;
    if (head >= FIFO_COMPACT_MIN && head * 2 >= this.#finished.length) {
      this.#finished.splice(0, head);
      this.#finishedHead = 0;
    }
  }

  /** Rebuilds the FIFO without entries a clean-up removed, so they are not kept alive by it. */
  #dropSpentFifoSlots(): void {
    this.#finished = this.#finished.filter(
      (entry, slot) =>
        slot >= this.#finishedHead && entry !== undefined && this.#isHeldFinished(entry),
    );
    this.#finishedHead = 0;
  }

  #isHeldFinished(entry: InstanceEntry): boolean {
    return this.#entries.get(entry.record.id) === entry && isFinalState(entry.record.state);
  }

  #matchingRecords(query: InstanceQuery): InstanceRecord[] {
    const matches = instanceMatcher(query);
    const records: InstanceRecord[] = [];
    const entries = query.ids === undefined ? this.#entries.values() : this.#named(query.ids);
    for (const { record } of entries) if (matches(record)) records.push(record);
    return records;
  }

  /** The items of one instance, or of all, that `matches` accepts, in no particular order. */
  #collect<T>(
    instanceId: string | undefined,
    itemsOf: (entry: InstanceEntry) => readonly T[],
    matches: (item: T) => boolean,
  ): T[] {
    const found: T[] = [];
    for (const entry of this.#candidates(instanceId)) {
      for (const item of itemsOf(entry)) if (matches(item)) found.push(item);
    }
    return found;
  }

  #candidates(instanceId: string | undefined): Iterable<InstanceEntry> {
    return instanceId === undefined ? this.#entries.values() : this.#named([instanceId]);
  }

  #named(ids: readonly string[]): InstanceEntry[] {
    const entries: InstanceEntry[] = [];
    for (const id of new Set(ids)) {
      const entry = this.#entries.get(id);
      if (entry !== undefined) entries.push(entry);
    }
    return entries;
  }
}

function finishedTime(record: InstanceRecord): number {
  return record.finishedAt ?? record.updatedAt;
}

function copy<T extends object>(value: T): T {
  return { ...value };
}
