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
  /** Wait before a failed batch is sent again, in ms. */
  retryDelayMs?: number;
}

/**
 * Sends the manager's changes to the store in order, in batches. Because every change goes
 * through this one ordered buffer, a log line written before an instance's final transition
 * always reaches the store in an earlier or the same batch, never a later one.
 *
 * `afterFlush` runs a callback once everything written so far is in the store: the manager
 * settles result promises there, so a caller who awaited a result finds it in history.
 */
export class HistoryWriter {
  readonly #options: HistoryWriterOptions;
  #buffer: StoreWrite[] = [];
  #callbacks: (() => void)[] = [];
  #armed = false;
  #flushing: Promise<void> | undefined;
  /**
   * Starts from the clock in microseconds, so numbers keep increasing across restarts on a
   * durable store (as long as fewer than a million are written per second).
   */
  #seq = Date.now() * 1_000;

  constructor(options: HistoryWriterOptions) {
    this.#options = options;
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
    this.#arm();
  }

  /** Runs `callback` once every change written before this call is in the store. */
  afterFlush(callback: () => void): void {
    this.#callbacks.push(callback);
    this.#arm();
  }

  /** Resolves once every change written so far is in the store. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.afterFlush(resolve));
  }

  #arm(): void {
    if (this.#armed || this.#flushing) return;
    this.#armed = true;
    if (this.#options.batchDelayMs === 0) queueMicrotask(() => this.#send());
    else setTimeout(() => this.#send(), this.#options.batchDelayMs);
  }

  #send(): void {
    this.#armed = false;
    const batch = this.#buffer;
    const callbacks = this.#callbacks;
    this.#buffer = [];
    this.#callbacks = [];
    this.#flushing = this.#options.store.write(batch).then(
      () => this.#sent(callbacks),
      (error: unknown) => this.#failed(batch, callbacks, error),
    );
  }

  #sent(callbacks: (() => void)[]): void {
    this.#flushing = undefined;
    for (const callback of callbacks) callback();
    if (this.#buffer.length > 0 || this.#callbacks.length > 0) this.#arm();
  }

  /** A failed batch goes back to the front of the line: nothing accepted is dropped. */
  #failed(batch: StoreWrite[], callbacks: (() => void)[], error: unknown): void {
    this.#options.onError(error);
    this.#buffer = batch.concat(this.#buffer);
    this.#callbacks = callbacks.concat(this.#callbacks);
    setTimeout(() => {
      this.#flushing = undefined;
      this.#arm();
    }, this.#options.retryDelayMs ?? 1_000).unref();
  }
}
