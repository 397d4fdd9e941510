import type { Store, StoreWrite } from '../store/store.js';

export interface HistoryWriterOptions {
  store: Store;
  /**
   * How long writes gather before they go to the store as one batch, in ms. 0 sends them at
   * the end of the current turn of the event loop (right for the memory store); durable
   * stores gather a few ms so that each transaction carries many writes.
   */
  batchDelayMs: number;
  /**
   * Called when a batch fails (once, not again for the batches sent after it); the batch is
   * kept and sent again after `retryDelayMs`.
   */
  onError: (error: unknown) => void;
  /** Wait before a failed batch is sent again, in ms. Default 1,000. */
  retryDelayMs?: number;
  /**
   * The most changes one batch carries. A burst larger than this (100,000 instances scheduled
   * in a loop, or recovered at start) goes to the store as several batches: a full batch goes
   * at once while the store has room for it (`Store.writesInFlight`), the others each on a
   * timer of its own, so that other timers and I/O run between them. Default 1,000.
   */
  maxBatchSize?: number;
}

/**
 * 1,000 changes (1,000 new instances, or about 500 that ran) take the SQLite store's thread
 * 10–30 ms to write on a two-core VM, and this thread 1–2 ms to encode and send: few
 * transactions for a burst, short enough for a query waiting behind one.
 */
const DEFAULT_MAX_BATCH_SIZE = 1_000;

/** A callback of `afterFlush`, with how many changes had been written before it was asked. */
interface Waiter {
  after: number;
  callback: () => void;
}

/** A batch sent to the store, and how its write ended once it has. */
interface Sent {
  batch: StoreWrite[];
  outcome: 'pending' | 'stored' | 'failed';
}

/**
 * Sends the manager's changes to the store in order, in batches. Because every change goes
 * through this one ordered buffer, a log line written before an instance's final transition
 * always reaches the store in an earlier or the same batch, never a later one.
 *
 * States: idle (nothing buffered) → armed (a timer of `batchDelayMs` runs) → sending → idle,
 * or armed again when changes came meanwhile, or sending the next batch at once (after due
 * timers) when a full batch is waiting. A store that takes several writes at a time
 * (`Store.writesInFlight`, the SQLite store's two) is sent the next batch while one is being
 * written, so its thread goes from one transaction to the next without waiting for this
 * thread to answer. Writes end in the order they were sent; once one fails, the store applies
 * none sent after it, and the failed batch and every batch after it go back to the front of
 * the buffer, in order, to be sent again after `retryDelayMs`.
 *
 * Delay bound: a change reaches the store once it has waited `batchDelayMs`, or once a write
 * slot is free if the store is busy longer, plus its own batch's write; while the buffer
 * holds no more than `maxBatchSize` changes and the event loop is not held up by other work.
 * A larger burst adds one batch's write per extra batch.
 *
 * `afterFlush` runs a callback once everything written so far is in the store: the manager
 * settles result promises there, so a caller who awaited a result finds it in history.
 */
export class HistoryWriter {
  readonly #options: HistoryWriterOptions;
  readonly #maxBatchSize: number;
  readonly #maxInFlight: number;
  #buffer: StoreWrite[] = [];
  #waiters: Waiter[] = [];
  /** Batches at the store, in the order they were sent. */
  #sent: Sent[] = [];
  /** Changes of failed batches, in order, waiting to go back to the front of the buffer. */
  #requeued: StoreWrite[] = [];
  /** Changes written to this writer so far, and those the store has taken. */
  #written = 0;
  #stored = 0;
  #armed = false;
  #timer: NodeJS.Timeout | undefined;
  /** A write failed: nothing is sent until every batch at the store has ended and the wait passed. */
  #failing = false;
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
    this.#maxInFlight = options.store.writesInFlight ?? 1;
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
    if (this.#buffer.length < this.#maxBatchSize) this.#arm();
    else if (!this.#failing && this.#sent.length < this.#maxInFlight) this.#send();
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
    if (this.#armed || this.#failing || this.#sent.length >= this.#maxInFlight) return;
    // Nothing to send: waiters are settled when the writes at the store end.
    if (this.#buffer.length === 0 && this.#sent.length > 0) return;
    this.#armed = true;
    if (this.#options.batchDelayMs === 0) queueMicrotask(() => this.#sendIfArmed());
    else this.#timer = setTimeout(() => this.#sendIfArmed(), delayMs);
  }

  /** A full batch may have gone at once (see write) since the send was armed. */
  #sendIfArmed(): void {
    if (this.#armed) this.#send();
  }

  /**
   * Sends the next batch. Called from a timer, or from `write` as soon as a full batch is
   * waiting and the store has room for it: in a burst of writes (a loop scheduling thousands
   * of instances) the store starts on the first batches while the burst goes on.
   */
  #send(): void {
    this.#armed = false;
    clearTimeout(this.#timer);
    if (this.#failing) return;
    const batch = this.#buffer.splice(0, this.#maxBatchSize);
    if (this.#buffer.length === 0) this.#waitingSince = undefined;
    const sent: Sent = { batch, outcome: 'pending' };
    this.#sent.push(sent);
    this.#storeWrite(batch).then(
      () => this.#ended(sent, 'stored'),
      (error: unknown) => {
        this.#failed(error);
        this.#ended(sent, 'failed');
      },
    );
    this.#next();
  }

  /** The store's write of a batch; a store that throws instead of rejecting rejects all the same. */
  #storeWrite(batch: StoreWrite[]): Promise<void> {
    try {
      return this.#options.store.write(batch);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Takes the writes that have ended from the front of the line, in the order they were sent. */
  #ended(sent: Sent, outcome: Sent['outcome']): void {
    sent.outcome = outcome;
    while (this.#sent[0] !== undefined && this.#sent[0].outcome !== 'pending') {
      const done = this.#sent.shift() as Sent;
      if (done.outcome === 'stored') this.#stored += done.batch.length;
      else this.#requeue(done.batch);
    }
    const waiting = this.#waiters.findIndex((waiter) => waiter.after > this.#stored);
    const settled = this.#waiters.splice(0, waiting === -1 ? this.#waiters.length : waiting);
    for (const waiter of settled) waiter.callback();
    if (this.#failing) this.#retryWhenEnded();
    else this.#next();
  }

  /** What to do once a write slot may be free: send a full batch now, or wait for more. */
  #next(): void {
    if (this.#buffer.length >= this.#maxBatchSize) this.#sendNextTurn();
    else if (this.#buffer.length > 0) this.#arm(this.#delayLeft());
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
    if (this.#sent.length >= this.#maxInFlight) return;
    clearTimeout(this.#timer);
    this.#armed = true;
    this.#timer = setTimeout(() => this.#sendIfArmed(), 0);
  }

  /** Stops sending: the batches sent after the failed one fail too, and all go again later. */
  #failed(error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#options.onError(error);
  }

  /**
   * A failed batch, and each one sent after it (the store applied none of them), goes back to
   * the front of the line in the order it was sent: nothing accepted is dropped.
   */
  #requeue(batch: StoreWrite[]): void {
    for (const change of batch) this.#requeued.push(change);
  }

  /** Once no write is at the store any more, the failed batches are sent again after a wait. */
  #retryWhenEnded(): void {
    if (this.#sent.length > 0) return;
    this.#buffer = this.#requeued.concat(this.#buffer);
    this.#requeued = [];
    this.#waitingSince ??= performance.now();
    setTimeout(() => {
      this.#failing = false;
      this.#arm(0);
    }, this.#options.retryDelayMs ?? 1_000).unref();
  }
}
