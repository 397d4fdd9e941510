import { type Clock, MAX_TIMER_DELAY_MS, type TimerHandle } from '../clock.js';
import { PriorityQueue } from './priority-queue.js';

export interface Delayed {
  readonly id: string;
  /** When the item becomes due, ms since the epoch. */
  dueAt: number;
}

export interface DelayQueueOptions<T extends Delayed> {
  clock: Clock;
  /** Called for each item as it becomes due, in due order (first-in, first-out on ties). */
  onDue: (item: T) => void;
}

/**
 * Holds items until their due time: a heap by due time and one timer, armed for the earliest.
 * Adding or removing an item is O(log n) and re-arms the timer only when the earliest changes,
 * so a million delayed instances cost one timer. The timer keeps the process alive while items
 * wait: an accepted instance is not dropped because nothing else was left to do.
 */
export class DelayQueue<T extends Delayed> {
  readonly #heap = new PriorityQueue<T>({ keyOf: (item) => item.id });
  readonly #clock: Clock;
  readonly #onDue: (item: T) => void;
  #timer: TimerHandle | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(options: DelayQueueOptions<T>) {
    this.#clock = options.clock;
    this.#onDue = options.onDue;
  }

  get size(): number {
    return this.#heap.size;
  }

  add(item: T): void {
    this.#heap.push(item, item.dueAt);
    if (item.dueAt < this.#armedFor) this.#arm();
  }

  remove(id: string): T | undefined {
    const removed = this.#heap.remove(id) as T | undefined;
    if (removed && this.#heap.size === 0) this.#disarm();
    return removed;
  }

  has(id: string): boolean {
    return this.#heap.has(id);
  }

  /** Every waiting item, earliest first; the queue is left empty. */
  drain(): T[] {
    this.#disarm();
    return this.#heap.drain();
  }

  #arm(): void {
    this.#disarm();
    const next = this.#heap.peek();
    if (!next) return;
    const delayMs = Math.min(Math.max(0, next.dueAt - this.#clock.now()), MAX_TIMER_DELAY_MS);
    this.#armedFor = next.dueAt;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), delayMs);
  }

  #disarm(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (let next = this.#heap.peek(); next && next.dueAt <= now; next = this.#heap.peek()) {
      this.#heap.pop();
      this.#onDue(next);
    }
    this.#arm();
  }
}
