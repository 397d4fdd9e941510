/**
 * The ready queue: instances that are due and wait for a free thread.
 *
 * Direction: a LOWER priority number comes out FIRST (0 before 5 before 10, as in go-job and
 * `Priority` in ../types.ts). Items of equal priority come out first-in, first-out: each push
 * takes the next insertion sequence number and ties are broken by it, so the order is total
 * and never depends on how the heap happens to be laid out.
 *
 * Layout: a binary min-heap kept in three parallel arrays (item, priority, sequence) rather
 * than one node object per item, plus a map from each queued item's key (its instance id) to
 * the sequence number of its push. Removal is lazy: `remove` forgets the key, and the heap
 * drops the item when it reaches the top, or all at once when removed items outnumber queued
 * ones. A heap move is then three array writes and no map update, which keeps `push` and `pop`
 * cheap on the main thread; `has` and `remove` are O(1).
 */

import { InvalidOptionError } from '../errors.js';

export interface PriorityQueueOptions<T> {
  /**
   * Returns the key that names an item, unique among queued items: for instances, their id.
   * Called once per push, pop and removal, so it should be a plain property read. Required.
   */
  keyOf: (item: T) => string;
}

/** Tells which queued items to remove; receives each item with its priority. */
export type QueuePredicate<T> = (item: T, priority: number) => boolean;

/** A queued item as the key map holds it: the sequence number tells it from a removed copy. */
interface Queued<T> {
  item: T;
  priority: number;
  seq: number;
}

/** Removed items left in the heap are swept out once there are this many and more than queued. */
const COMPACT_MIN = 1_024;

export class PriorityQueue<T> {
  readonly #keyOf: (item: T) => string;
  #items: T[] = [];
  #priorities: number[] = [];
  #seqs: number[] = [];
  #queued = new Map<string, Queued<T>>();
  #nextSeq = 0;

  constructor(options: PriorityQueueOptions<T>) {
    if (typeof options?.keyOf !== 'function') {
      throw new InvalidOptionError('options.keyOf', 'a function', options?.keyOf);
    }
    this.#keyOf = options.keyOf;
  }

  /** How many items are queued. */
  get size(): number {
    return this.#queued.size;
  }

  /** Queues an item; its key must not be queued already. O(log n). */
  push(item: T, priority: number): void {
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new InvalidOptionError('priority', 'a finite number', priority);
    }
    const key = this.#keyOf(item);
    if (this.#queued.has(key)) {
      throw new InvalidOptionError('item', 'an item whose key is not queued yet', key);
    }

    const seq = this.#nextSeq++;
    this.#queued.set(key, { item, priority, seq });
    this.#items.push(item);
    this.#priorities.push(priority);
    this.#seqs.push(seq);
    this.#siftUp(this.#items.length - 1);
  }

  /** Removes and returns the item that runs next, or undefined when empty. O(log n). */
  pop(): T | undefined {
    this.#dropRemovedTop();
    if (this.#items.length === 0) return undefined;
    const item = this.#item(0);
    this.#queued.delete(this.#keyOf(item));
    this.#removeTop();
    return item;
  }

  /** The item that runs next, left in place. */
  peek(): T | undefined {
    this.#dropRemovedTop();
    return this.#items[0];
  }

  has(key: string): boolean {
    return this.#queued.has(key);
  }

  /** Removes the item with this key and returns it (undefined if none). O(1). */
  remove(key: string): T | undefined;
  /** Removes every item the predicate accepts; returns them in priority order. O(n). */
  remove(predicate: QueuePredicate<T>): T[];
  remove(target: string | QueuePredicate<T>): T | undefined | T[] {
    if (typeof target === 'function') return this.#removeWhere(target);

    const queued = this.#queued.get(target);
    if (queued === undefined) return undefined;
    this.#queued.delete(target);
    this.#compactIfSparse();
    return queued.item;
  }

  clear(): void {
    this.#items = [];
    this.#priorities = [];
    this.#seqs = [];
    this.#queued.clear();
  }

  /** Removes every item and returns them in the order they would have been popped. */
  drain(): T[] {
    const items = this.#sorted().map((queued) => queued.item);
    this.clear();
    return items;
  }

  /** Yields the queued items in priority order without removing them; O(n log n) to start. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const queued of this.#sorted()) yield queued.item;
  }

  #removeWhere(predicate: QueuePredicate<T>): T[] {
    const removed: Queued<T>[] = [];
    for (const [key, queued] of this.#queued) {
      if (!predicate(queued.item, queued.priority)) continue;
      removed.push(queued);
      this.#queued.delete(key);
    }
    this.#compactIfSparse();
    return removed.sort(compareQueued).map((queued) => queued.item);
  }

  #sorted(): Queued<T>[] {
    return [...this.#queued.values()].sort(compareQueued);
  }

  /** Whether the item at `slot` is still queued, and not a copy that was removed. */
  #isQueued(slot: number): boolean {
    return this.#queued.get(this.#keyOf(this.#item(slot)))?.seq === this.#seq(slot);
  }

  #dropRemovedTop(): void {
    while (this.#items.length > 0 && !this.#isQueued(0)) this.#removeTop();
  }

  /** Rebuilds the heap from the queued items alone, in O(n), once removed ones dominate. */
  #compactIfSparse(): void {
    const held = this.#items.length;
    if (held < COMPACT_MIN || held <= 2 * this.#queued.size) return;
    const queued = [...this.#queued.values()];
    this.#items = queued.map((entry) => entry.item);
    this.#priorities = queued.map((entry) => entry.priority);
    this.#seqs = queued.map((entry) => entry.seq);
    for (let slot = (queued.length >> 1) - 1; slot >= 0; slot--) this.#siftDown(slot);
  }

  #removeTop(): void {
    const lastItem = this.#items.pop() as T;
    const lastPriority = this.#priorities.pop() as number;
    const lastSeq = this.#seqs.pop() as number;
    if (this.#items.length === 0) return;
    this.#put(0, lastItem, lastPriority, lastSeq);
    this.#siftDown(0);
  }

  /** Moves the item at `slot` towards the root while it runs before its parent. */
  #siftUp(slot: number): void {
    const item = this.#item(slot);
    const priority = this.#priority(slot);
    const seq = this.#seq(slot);

    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (!runsBefore(priority, seq, this.#priority(parent), this.#seq(parent))) break;
      this.#put(slot, this.#item(parent), this.#priority(parent), this.#seq(parent));
      slot = parent;
    }
    this.#put(slot, item, priority, seq);
  }

  /** Moves the item at `slot` towards the leaves while a child runs before it. */
  #siftDown(slot: number): void {
    const item = this.#item(slot);
    const priority = this.#priority(slot);
    const seq = this.#seq(slot);
    const size = this.#items.length;

    for (;;) {
      let child = 2 * slot + 1;
      if (child >= size) break;
      const right = child + 1;
      if (
        right < size &&
        runsBefore(this.#priority(right), this.#seq(right), this.#priority(child), this.#seq(child))
      ) {
        child = right;
      }
      if (!runsBefore(this.#priority(child), this.#seq(child), priority, seq)) break;
      this.#put(slot, this.#item(child), this.#priority(child), this.#seq(child));
      slot = child;
    }
    this.#put(slot, item, priority, seq);
  }

  #put(slot: number, item: T, priority: number, seq: number): void {
    this.#items[slot] = item;
    this.#priorities[slot] = priority;
    this.#seqs[slot] = seq;
  }

  #item(slot: number): T {
    return this.#items[slot] as T;
  }

  #priority(slot: number): number {
    return this.#priorities[slot] as number;
  }

  #seq(slot: number): number {
    return this.#seqs[slot] as number;
  }
}

/** Whether the entry (priority, seq) comes out before the entry (otherPriority, otherSeq). */
function runsBefore(priority: number, seq: number, otherPriority: number, otherSeq: number) {
  return priority < otherPriority || (priority === otherPriority && seq < otherSeq);
}

function compareQueued<T>(a: Queued<T>, b: Queued<T>): number {
  return a.priority - b.priority || a.seq - b.seq;
}
