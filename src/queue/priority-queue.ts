/**
 * The ready queue: instances that are due and wait for a free thread.
 *
 * Direction: a LOWER priority number comes out FIRST (0 before 5 before 10, as in go-job and
 * `Priority` in ../types.ts). Items of equal priority come out first-in, first-out: each push
 * takes the next insertion sequence number and ties are broken by it, so the order is total
 * and never depends on how the heap happens to be laid out.
 *
 * Layout: a binary min-heap kept in three parallel arrays (item, priority, sequence) rather
 * than one node object per item, plus a map from each item's key (its instance id) to its heap
 * slot, so that `has` is O(1) and removing any item is O(log n). With 100,000 queued items that
 * is three array slots and one map entry per item; the key string is the item's own id.
 */

import { InvalidOptionError } from '../errors.js';

export interface PriorityQueueOptions<T> {
  /**
   * Returns the key that names an item, unique among queued items: for instances, their id.
   * Called on every move inside the heap, so it should be a plain property read. Required.
   */
  keyOf: (item: T) => string;
}

/** Tells which queued items to remove; receives each item with its priority. */
export type QueuePredicate<T> = (item: T, priority: number) => boolean;

export class PriorityQueue<T> {
  readonly #keyOf: (item: T) => string;
  #items: T[] = [];
  #priorities: number[] = [];
  #seqs: number[] = [];
  #slots = new Map<string, number>();
  #nextSeq = 0;

  constructor(options: PriorityQueueOptions<T>) {
    if (typeof options?.keyOf !== 'function') {
      throw new InvalidOptionError('options.keyOf', 'a function', options?.keyOf);
    }
    this.#keyOf = options.keyOf;
  }

  /** How many items are queued. */
  get size(): number {
    return this.#items.length;
  }

  /** Queues an item; its key must not be queued already. O(log n). */
  push(item: T, priority: number): void {
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new InvalidOptionError('priority', 'a finite number', priority);
    }
    const key = this.#keyOf(item);
    if (this.#slots.has(key)) {
      throw new InvalidOptionError('item', 'an item whose key is not queued yet', key);
    }

    const slot = this.#items.length;
    this.#items.push(item);
    this.#priorities.push(priority);
    this.#seqs.push(this.#nextSeq++);
    this.#slots.set(key, slot);
    this.#siftUp(slot);
  }

  /** Removes and returns the item that runs next, or undefined when empty. O(log n). */
  pop(): T | undefined {
    return this.#items.length === 0 ? undefined : this.#removeAt(0);
  }

  /** The item that runs next, left in place. */
  peek(): T | undefined {
    return this.#items[0];
  }

  has(key: string): boolean {
    return this.#slots.has(key);
  }

  /** Removes the item with this key and returns it (undefined if none). O(log n). */
  remove(key: string): T | undefined;
  /** Removes every item the predicate accepts; returns them in priority order. O(n). */
  remove(predicate: QueuePredicate<T>): T[];
  remove(target: string | QueuePredicate<T>): T | undefined | T[] {
    if (typeof target === 'function') return this.#removeWhere(target);

    const slot = this.#slots.get(target);
    return slot === undefined ? undefined : this.#removeAt(slot);
  }

  clear(): void {
    this.#items = [];
    this.#priorities = [];
    this.#seqs = [];
    this.#slots.clear();
  }

  /** Removes every item and returns them in the order they would have been popped. */
  drain(): T[] {
    const items = this.#sortedSlots().map((slot) => this.#item(slot));
    this.clear();
    return items;
  }

  /** Yields the queued items in priority order without removing them; O(n log n) to start. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const slot of this.#sortedSlots()) yield this.#item(slot);
  }

  #removeWhere(predicate: QueuePredicate<T>): T[] {
    const removed: number[] = [];
    for (let slot = 0; slot < this.#items.length; slot++) {
      if (predicate(this.#item(slot), this.#priority(slot))) removed.push(slot);
    }
    if (removed.length === 0) return [];

    const gone = new Set(removed);
    const items = removed.sort((a, b) => this.#compare(a, b)).map((slot) => this.#item(slot));
    this.#keepOnly((slot) => !gone.has(slot));
    return items;
  }

  /** Compacts the arrays to the slots `keep` accepts, then rebuilds the heap in O(n). */
  #keepOnly(keep: (slot: number) => boolean): void {
    const items: T[] = [];
    const priorities: number[] = [];
    const seqs: number[] = [];
    this.#slots.clear();
    for (let slot = 0; slot < this.#items.length; slot++) {
      if (!keep(slot)) continue;
      this.#slots.set(this.#keyOf(this.#item(slot)), items.length);
      items.push(this.#item(slot));
      priorities.push(this.#priority(slot));
      seqs.push(this.#seq(slot));
    }
    this.#items = items;
    this.#priorities = priorities;
    this.#seqs = seqs;

    for (let slot = (items.length >> 1) - 1; slot >= 0; slot--) this.#siftDown(slot);
  }

  #removeAt(slot: number): T {
    const item = this.#item(slot);
    this.#slots.delete(this.#keyOf(item));

    const last = this.#items.length - 1;
    const lastItem = this.#items.pop() as T;
    const lastPriority = this.#priorities.pop() as number;
    const lastSeq = this.#seqs.pop() as number;
    if (slot === last) return item;

    this.#put(slot, lastItem, lastPriority, lastSeq);
    if (slot > 0 && this.#compare(slot, (slot - 1) >> 1) < 0) this.#siftUp(slot);
    else this.#siftDown(slot);
    return item;
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
      if (child + 1 < size && this.#compare(child + 1, child) < 0) child++;
      if (!runsBefore(this.#priority(child), this.#seq(child), priority, seq)) break;
      this.#put(slot, this.#item(child), this.#priority(child), this.#seq(child));
      slot = child;
    }
    this.#put(slot, item, priority, seq);
  }

  #compare(a: number, b: number): number {
    return this.#priority(a) - this.#priority(b) || this.#seq(a) - this.#seq(b);
  }

  #sortedSlots(): number[] {
    return Array.from(this.#items.keys()).sort((a, b) => this.#compare(a, b));
  }

  #put(slot: number, item: T, priority: number, seq: number): void {
    this.#items[slot] = item;
    this.#priorities[slot] = priority;
    this.#seqs[slot] = seq;
    this.#slots.set(this.#keyOf(item), slot);
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
