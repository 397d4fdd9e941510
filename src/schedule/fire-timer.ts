/**
 * One timer for every schedule: a min-heap of fire times (the ready queue's PriorityQueue,
 * keyed by schedule id, earliest first) and a single clock timer armed for the earliest.
 * With 1,000 schedules firing each second this is one timer callback per distinct fire time
 * and O(log n) heap work per fire, instead of 1,000 timers.
 *
 * Timers are `unref`'d, so an armed schedule never keeps the process alive. A fire time past
 * MAX_TIMER_DELAY_MS (about 24.8 days) is reached in steps: the timer wakes at the end of each
 * step, finds nothing due and arms the next step.
 */

import type { Clock, TimerHandle } from '../clock.js';
import { MAX_TIMER_DELAY_MS } from '../clock.js';
import { PriorityQueue } from '../queue/priority-queue.js';

interface Entry {
  scheduleId: string;
  fireAt: number;
}

/** Called for each schedule whose fire time has come, with that time and the clock's now. */
export type DueCallback = (scheduleId: string, fireAt: number, nowMs: number) => void;

export class FireTimer {
  readonly #clock: Clock;
  readonly #onDue: DueCallback;
  readonly #heap = new PriorityQueue<Entry>({ keyOf: (entry) => entry.scheduleId });
  #handle: TimerHandle | null = null;
  #armedFor: number | null = null;
  #running = false;
  #waking = false;

  constructor(clock: Clock, onDue: DueCallback) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** How many schedules have a fire time. */
  get size(): number {
    return this.#heap.size;
  }

  /** Sets (or moves) the fire time of a schedule, ms since the epoch. */
  set(scheduleId: string, fireAt: number): void {
    this.#heap.remove(scheduleId);
    this.#heap.push({ scheduleId, fireAt }, fireAt);
    this.#arm();
  }

  delete(scheduleId: string): void {
    if (this.#heap.remove(scheduleId)) this.#arm();
  }

  /** Starts firing: runs what is already due now, then arms the timer. */
  start(): void {
    this.#running = true;
    this.#wake();
  }

  /** Stops firing; fire times stay, for a later `start`. */
  stop(): void {
    this.#running = false;
    this.#disarm();
  }

  /** Forgets every fire time. */
  clear(): void {
    this.#heap.clear();
    this.#disarm();
  }

  #wake(): void {
    this.#handle = null;
    this.#armedFor = null;
    if (!this.#running) return;

    // Take every due entry first, so a callback that sets a time already due cannot loop.
    const nowMs = this.#clock.now();
    const due: Entry[] = [];
    for (let top = this.#heap.peek(); top && top.fireAt <= nowMs; top = this.#heap.peek()) {
      due.push(top);
      this.#heap.pop();
    }

    this.#waking = true;
    try {
      for (const entry of due) this.#onDue(entry.scheduleId, entry.fireAt, nowMs);
    } finally {
      this.#waking = false;
      this.#arm();
    }
  }

  #arm(): void {
    if (!this.#running || this.#waking) return;
    const top = this.#heap.peek();
    if (top !== undefined && this.#handle !== null && this.#armedFor === top.fireAt) return;

    this.#disarm();
    if (top === undefined) return;
    const delayMs = Math.min(Math.max(0, top.fireAt - this.#clock.now()), MAX_TIMER_DELAY_MS);
    this.#handle = this.#clock.setTimeout(() => this.#wake(), delayMs);
    this.#handle.unref?.();
    this.#armedFor = top.fireAt;
  }

  #disarm(): void {
    if (this.#handle !== null) this.#clock.clearTimeout(this.#handle);
    this.#handle = null;
    this.#armedFor = null;
  }
}
