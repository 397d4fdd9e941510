import type { Store, StoreWrite } from '../store/store.js';

export interface HistoryWriterOptions {
  store: Store;
  /**
   * How long writes gather before they go to the store as one batch, in ms. 0 sends them at
   * the end of the current turn of the event loop (right for the memory store); durable
   * stores gather a few ms so that each transaction carries many writes.
   */
  batchDelayMs: number;
  /** Called when a batch fails; the batch is kept and sent again after `retryDelayMs`. */
  onError: (error: unknown) => void;
  /** Wait before a failed batch is sent again, in ms. Default 1,000. */
  retryDelayMs?: number;
  /**
   * The most changes one batch carries. A burst larger than this (100,000 instances scheduled
   * in a loop, or recovered at start) goes to the store as several batches, each on a timer
   * of its own, so that other timers and I/O run between them. Default 1,000.
   */
  maxBatchSize?: number;
}

/**
 * 1,000 changes (about 250 short instances) take the SQLite store 5–15 ms to write on a
 * two-core VM: long enough to carry a burst in few transactions, short enough for timers.
 */
const DEFAULT_MAX_BATCH_SIZE = 1_000;

/** A callback of `afterFlush`, with how many changes had been written before it was asked. */
interface Waiter {
  after: number;
  callback: () => void;
}

/**
 * Sends the manager's changes to the store in order, in batches. Because every change goes
 * through this one ordered buffer, a log line written before an instance's final transition
 * always reaches the store in an earlier or the same batch, never a later one.
 *
 * States: idle (nothing buffered) → armed (a timer of `batchDelayMs` runs) → sending (one
 * batch at the store) → idle, or armed again when changes came meanwhile, or sending the next
 * batch at once (after due timers) when a full batch is waiting; a failed batch goes back to
 * the front and is sent again after `retryDelayMs`. At most one batch is at the store at a time.
 *
 * Delay bound: a change reaches the store once it has waited `batchDelayMs`, or once the
 * write at the store when it came has returned if that takes longer, plus its own batch's
 * write; while the buffer holds no more than `maxBatchSize` changes and the event loop is
 * not held up by other work. A larger burst adds one batch's write per extra batch.
 *
 * `afterFlush` runs a callback once everything written so far is in the store: the manager
 * settles result promises there, so a caller who awaited a result finds it in history.
 */
export class HistoryWriter {
  readonly #options: HistoryWriterOptions;
  readonly #maxBatchSize: number;
  #buffer: StoreWrite[] = [];
  #waiters: Waiter[] = [];
  /** Changes written to this writer so far, and those the store has taken. */
  #written = 0;
  #stored = 0;
  #armed = false;
  #sending = false;
  /** When the oldest change or waiter not yet sent arrived (performance.now()), if any. */
  #waitingSince: number | undefined;
  /**
   * Starts from the clock in microseconds, so numbers keep increasing across restarts on a
   * durable store (as long as fewer than a million are written per second).
   */
  #seq = Date.now() * 1_000;

  constructor(options: HistoryWriterOptions) {
    this.#options = options;
    this.#maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  }

  /** The next sequence number for a transition or log line: increasing, never reused. */
  nextSeq(): number {
    return ++this.#seq;
  }

  get pending(): number {
    return this.#buffer.length;
  }

  write(change: StoreWrite): void {
    this.#buffer.push(change);
    this.#written++;
    this.#waitingSince ??= performance.now();
    this.#arm();
  }

  /** Runs `callback` once every change written before this call is in the store. */
  afterFlush(callback: () => void): void {
    this.#waiters.push({ after: this.#written, callback });
    this.#waitingSince ??= performance.now();
    this.#arm();
  }

  /** Resolves once every change written so far is in the store. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.afterFlush(resolve));
  }

  #arm(delayMs = this.#options.batchDelayMs): void {
    if (this.#armed || this.#sending) return;
    this.#armed = true;
    if (this.#options.batchDelayMs === 0) queueMicrotask(() => this.#send());
    else setTimeout(() => this.#send(), delayMs);
  }

  #send(): void {
    this.#armed = false;
    this.#sending = true;
    const batch = this.#buffer.splice(0, this.#maxBatchSize);
    if (this.#buffer.length === 0) this.#waitingSince = undefined;
    this.#options.store.write(batch).then(
      () => this.#sent(batch.length),
      (error: unknown) => this.#failed(batch, error),
    );
  }

  #sent(count: number): void {
    this.#sending = false;
    this.#stored += count;
    const waiting = this.#waiters.findIndex((waiter) => waiter.after > this.#stored);
    const settled = this.#waiters.splice(0, waiting === -1 ? this.#waiters.length : waiting);
    for (const waiter of settled) waiter.callback();

    if (this.#buffer.length >= this.#maxBatchSize) this.#sendNextTurn();
    else if (this.#buffer.length > 0 || this.#waiters.length > 0) this.#arm(this.#delayLeft());
  }

  /**
   * What came while a batch was at the store has waited since it came: it goes once it has
   * waited `batchDelayMs` in all, not that long after the batch before it returned.
   */
  #delayLeft(): number {
    const waited = performance.now() - (this.#waitingSince ?? performance.now());
    return Math.max(0, this.#options.batchDelayMs - waited);
  }

  /**
   * A full batch is waiting: it has waited long enough, but timers that are due go first (a
   * timer of 0 runs after them; setImmediate could run before them).
   */
  #sendNextTurn(): void {
    this.#armed = true;
    setTimeout(() => this.#send(), 0);
  }

  /** A failed batch goes back to the front of the line: nothing accepted is dropped. */
  #failed(batch: StoreWrite[], error: unknown): void {
    this.#options.onError(error);
    this.#buffer = batch.concat(this.#buffer);
    setTimeout(() => {
      this.#sending = false;
      this.#arm();
    }, this.#options.retryDelayMs ?? 1_000).unref();
  }
}
