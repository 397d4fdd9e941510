/**
 * Time as a parameter. Everything in jobloom that reads the time or arms a timer does it
 * through a Clock, so schedule logic can be tested with a fake one and no sleeping.
 */

export interface TimerHandle {
  /** Lets the process exit while the timer is armed. */
  unref?(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Node's timers overflow past 2^31-1 ms (about 24.8 days) and fire at once; longer delays
 * are armed in steps of at most this much, and re-armed when a step ends.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
