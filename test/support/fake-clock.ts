import type { Clock, TimerHandle } from '../../src/clock.js';
import { MAX_TIMER_DELAY_MS } from '../../src/clock.js';

/** A timer armed on a FakeClock; `unref` only records that it was called. */
export interface FakeTimer extends TimerHandle {
  readonly id: number;
  readonly dueAt: number;
  readonly delayMs: number;
  unrefed: boolean;
  unref(): FakeTimer;
}

interface Armed {
  timer: FakeTimer;
  callback: () => void;
}

/**
 * A Clock for tests: time moves only when a test moves it, so nothing sleeps.
 *
 * `advance(ms)` runs every timer that falls due on the way, each at its own due time, in due
 * order (ties in the order they were armed). `jump(ms)` moves the time without running timers,
 * as a blocked event loop would; the next `advance` then runs them late. `advanceAsync` lets
 * promise callbacks run between timers, for code whose timer callbacks start async work.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #armed = new Map<number, Armed>();

  /** Every delay ever passed to `setTimeout`, in order, to check long delays are stepped. */
  readonly delays: number[] = [];

  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): FakeTimer {
    if (delayMs > MAX_TIMER_DELAY_MS) {
      throw new RangeError(`FakeClock: delay ${delayMs} ms is past MAX_TIMER_DELAY_MS`);
    }
    this.delays.push(delayMs);
    const timer: FakeTimer = {
      id: this.#nextId++,
      dueAt: this.#now + Math.max(0, delayMs),
      delayMs,
      unrefed: false,
      unref() {
        timer.unrefed = true;
        return timer;
      },
    };
    this.#armed.set(timer.id, { timer, callback });
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#armed.delete((handle as FakeTimer).id);
  }

  /** The timers armed now, earliest first. */
  pending(): FakeTimer[] {
    return [...this.#armed.values()].map((armed) => armed.timer).sort(byDue);
  }

  /** Moves time by `ms` without running any timer, like a blocked event loop. */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Moves time by `ms`, running each timer due on the way at its due time. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (let next = this.#nextDue(until); next; next = this.#nextDue(until)) {
      this.#run(next);
    }
    this.#now = until;
  }

  /** Moves time to `ms` since the epoch; see `advance`. */
  advanceTo(ms: number): void {
    this.advance(ms - this.#now);
  }

  /** Like `advance`, letting pending promise callbacks run after each timer. */
  async advanceAsync(ms: number): Promise<void> {
    const until = this.#now + ms;
    await flushPromises();
    for (let next = this.#nextDue(until); next; next = this.#nextDue(until)) {
      this.#run(next);
      await flushPromises();
    }
    this.#now = until;
  }

  #nextDue(until: number): Armed | undefined {
    let best: Armed | undefined;
    for (const armed of this.#armed.values()) {
      if (armed.timer.dueAt > until) continue;
      if (!best || byDue(armed.timer, best.timer) < 0) best = armed;
    }
    return best;
  }

  #run(armed: Armed): void {
    this.#armed.delete(armed.timer.id);
    this.#now = Math.max(this.#now, armed.timer.dueAt);
    armed.callback();
  }
}

function byDue(a: FakeTimer, b: FakeTimer): number {
  return a.dueAt - b.dueAt || a.id - b.id;
}

/** Lets every promise callback queued so far (and those they queue) run. */
export async function flushPromises(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
