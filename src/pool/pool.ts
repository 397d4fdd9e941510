import type { ResourceLimits } from 'node:worker_threads';
import type { HostApi } from './protocol.js';
import { Slot, type SlotAttempt, type SlotListener } from './slot.js';

export interface ThreadPoolOptions<A extends SlotAttempt> {
  /** Threads to start with. */
  size: number;
  /** Attempts a thread may hold at once (one running, the rest waiting behind it). */
  depth: number;
  /** The thread entry module, as a file path. */
  filename: string;
  host: HostApi;
  listener: SlotListener<A>;
  resourceLimits?: ResourceLimits;
  execArgv?: string[];
  niceIncrement?: number;
}

/**
 * The resizable pool: a set of slots, each one thread. Piscina has no public resize, so
 * jobloom sizes the pool by slots: growing adds slots at once; shrinking retires slots, which
 * take no new attempts and close their thread once what they hold has run. Nothing running
 * is cancelled, and once retired slots have closed exactly `size` threads are alive.
 */
export class ThreadPool<A extends SlotAttempt> {
  readonly #options: ThreadPoolOptions<A>;
  #slots: Slot<A>[] = [];
  #retiring = new Set<Promise<void>>();
  #nextId = 1;
  /** The size asked for before `start()`; no thread exists until then. */
  #pendingSize: number | undefined;

  constructor(options: ThreadPoolOptions<A>) {
    this.#options = options;
    this.#pendingSize = options.size;
  }

  /** Starts the threads. Until then the pool holds none, so a manager never started costs none. */
  start(): void {
    if (this.#pendingSize === undefined) return;
    this.#grow(this.#pendingSize);
    this.#pendingSize = undefined;
  }

  /** The size asked for: threads that take new attempts. */
  get size(): number {
    return this.#pendingSize ?? this.#slots.length;
  }

  /** Threads alive, including retiring ones that still finish their attempts. */
  get threadCount(): number {
    return this.#slots.length + this.#retiring.size;
  }

  /** Attempts the pool takes now without queueing inside Piscina. */
  get free(): number {
    let free = 0;
    for (const slot of this.#slots) free += slot.free;
    return free;
  }

  /** Tasks waiting inside Piscina's own queues, over every slot. */
  get piscinaQueued(): number {
    let queued = 0;
    for (const slot of this.#slots) queued += slot.piscinaQueued;
    return queued;
  }

  /** The open slot holding the fewest attempts, if any has room. */
  pickSlot(): Slot<A> | undefined {
    let best: Slot<A> | undefined;
    for (const slot of this.#slots) {
      if (slot.free > 0 && (best === undefined || slot.load < best.load)) best = slot;
    }
    return best;
  }

  /**
   * Resolves once the pool has exactly `size` threads alive: new threads started and ready,
   * retired ones finished with what they held and closed.
   */
  async resize(size: number): Promise<void> {
    if (this.#pendingSize !== undefined) {
      this.#pendingSize = size;
      return;
    }
    if (size > this.#slots.length) this.#grow(size - this.#slots.length);
    else if (size < this.#slots.length) this.#shrink(this.#slots.length - size);
    await Promise.all([...this.#retiring, ...this.#slots.map((slot) => slot.ready)]);
  }

  async close(): Promise<void> {
    this.#pendingSize = undefined;
    this.#shrink(this.#slots.length);
    await Promise.all(this.#retiring);
  }

  /** Ids of the threads alive in open and retiring slots (those that have started). */
  threadIds(): number[] {
    return this.#slots.map((slot) => slot.threadId).filter((id) => id >= 0);
  }

  #grow(count: number): void {
    const { size: _size, ...slotOptions } = this.#options;
    for (let i = 0; i < count; i++) {
      this.#slots.push(new Slot<A>({ ...slotOptions, id: this.#nextId++ }));
    }
  }

  /** Retires the slots holding the least work, so the fewest attempts wait on a closing thread. */
  #shrink(count: number): void {
    const byLoad = [...this.#slots].sort((a, b) => a.load - b.load);
    const leaving = new Set(byLoad.slice(0, count));
    this.#slots = this.#slots.filter((slot) => !leaving.has(slot));
    for (const slot of leaving) {
      const retired = slot.retire().finally(() => this.#retiring.delete(retired));
      this.#retiring.add(retired);
    }
  }
}
