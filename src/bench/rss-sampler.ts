/**
 * Samples the process's resident set size on a timer and keeps the highest value seen.
 * `process.resourceUsage().maxRSS` would be exact, but it is the peak of the process's whole
 * life and cannot be reset, so it cannot tell one pool size from the next.
 */
export class RssSampler {
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #peak = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Starts a fresh measurement, taking one sample at once. */
  start(): void {
    this.stop();
    this.#peak = 0;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling, taking one last sample; returns the peak in bytes. */
  stop(): number {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#sample();
    }
    return this.#peak;
  }

  #sample(): void {
    this.#peak = Math.max(this.#peak, process.memoryUsage.rss());
  }
}
