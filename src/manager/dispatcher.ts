import type { ResourceLimits } from 'node:worker_threads';
import type { Clock, TimerHandle } from '../clock.js';
import { ThreadPool } from '../pool/pool.js';
import type { AttemptOutcome, HostApi } from '../pool/protocol.js';
import type { Slot, SlotAttempt } from '../pool/slot.js';
import { PriorityQueue } from '../queue/priority-queue.js';
import type { LogLevel, SerializedError } from '../types.js';
import { serializeError } from '../validate/serialize-error.js';
import type { LiveInstance } from './live-instance.js';

/** How an attempt ended, once every call it made to the main thread has arrived. */
export type Verdict =
  | { type: 'completed'; value: unknown }
  | { type: 'failed'; error: SerializedError; doNotRetry: boolean; crashed: boolean }
  | { type: 'timedOut'; timeoutMs: number; terminated: boolean }
  | { type: 'canceled' };

/** What the dispatcher reports to the manager. */
export interface DispatcherSink {
  started(live: LiveInstance, attempt: number, at: number): void;
  ended(live: LiveInstance, verdict: Verdict): void;
  log(
    live: LiveInstance,
    attempt: number,
    level: LogLevel,
    message: string,
    data: unknown,
    at: number,
  ): void;
  progress(live: LiveInstance, attempt: number, value: unknown, at: number): void;
  threadError(error: unknown, slotId: number): void;
}

export interface DispatcherOptions {
  clock: Clock;
  sink: DispatcherSink;
  size: number;
  depth: number;
  threadEntry: string;
  terminateGraceMs: number;
  resourceLimits?: ResourceLimits;
  execArgv?: string[];
  niceIncrement: number;
}

interface Attempt extends SlotAttempt {
  readonly live: LiveInstance;
  slot: Slot<Attempt>;
  /** Host calls received from the thread for this attempt. */
  received: number;
  /** The outcome, held until `received` reaches its `hostCalls`. */
  held?: AttemptOutcome | undefined;
  abortReason?: 'timeout' | 'cancel';
  terminated: boolean;
  timer?: TimerHandle | undefined;
  /** Set once the manager has been told the verdict; later news about it is ignored. */
  done: boolean;
}

/**
 * The ready queue and the pool. The dispatcher hands the pool only as many attempts as it has
 * free places, so Piscina never queues anything and the ready queue alone decides the order:
 * lower priority number first, first-in first-out among equals.
 */
export class Dispatcher {
  readonly #ready = new PriorityQueue<LiveInstance>({ keyOf: (live) => live.id });
  readonly #attempts = new Map<number, Attempt>();
  readonly #byInstance = new Map<string, Attempt>();
  readonly #pool: ThreadPool<Attempt>;
  readonly #options: DispatcherOptions;
  #nextKey = 1;
  #paused = true;
  #pumpArmed = false;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#pool = new ThreadPool<Attempt>({
      size: options.size,
      depth: options.depth,
      filename: options.threadEntry,
      host: this.#hostApi(),
      listener: {
        started: (attempt) => this.#started(attempt),
        ended: (attempt, outcome) => this.#ended(attempt, outcome),
        lost: (attempt, error, started) => this.#lost(attempt, error, started),
        error: (error, slot) => options.sink.threadError(error, slot.id),
        room: () => this.pump(),
      },
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
      niceIncrement: options.niceIncrement,
    });
  }

  get queued(): number {
    return this.#ready.size;
  }

  /** Attempts running on a thread now. */
  get running(): number {
    let running = 0;
    for (const attempt of this.#attempts.values()) if (attempt.started && !attempt.done) running++;
    return running;
  }

  /** Attempts handed to threads and not yet ended (running or waiting on their thread). */
  get inFlight(): number {
    return this.#attempts.size;
  }

  get poolSize(): number {
    return this.#pool.size;
  }

  get threadCount(): number {
    return this.#pool.threadCount;
  }

  /** Tasks waiting inside Piscina's own queues: the dispatcher keeps this at zero. */
  get piscinaQueued(): number {
    return this.#pool.piscinaQueued;
  }

  threadIds(): number[] {
    return this.#pool.threadIds();
  }

  /**
   * Queues a due instance. Handing out waits for the end of the current turn, so instances
   * scheduled together (a loop of `schedule()` calls, delays due at the same moment) are all
   * in the ready queue first and start in priority order, not in the order they came.
   */
  enqueue(live: LiveInstance): void {
    this.#ready.push(live, live.priority);
    if (this.#pumpArmed) return;
    this.#pumpArmed = true;
    queueMicrotask(() => {
      this.#pumpArmed = false;
      this.pump();
    });
  }

  /** Starts handing out attempts (after `pause`, or at start). */
  resume(): void {
    this.#pool.start();
    this.#paused = false;
    this.pump();
  }

  pause(): void {
    this.#paused = true;
  }

  /**
   * Hands waiting instances to threads with room, in priority order, a batch per thread: an
   * even share of what waits, so that idle threads all get work before any gets a backlog.
   */
  pump(): void {
    while (!this.#paused && this.#ready.size > 0) {
      const slot = this.#pool.pickSlot();
      if (!slot) return;
      const share = Math.max(1, Math.floor(this.#ready.size / this.#pool.size));
      const batch: Attempt[] = [];
      for (let n = Math.min(slot.free, share); n > 0; n--) {
        batch.push(this.#attempt(this.#ready.pop() as LiveInstance, slot));
      }
      slot.dispatch(batch);
    }
  }

  async resize(size: number): Promise<void> {
    const settled = this.#pool.resize(size);
    this.pump();
    await settled;
  }

  /**
   * Cancels an instance that is queued here or handed to a thread: `removed` if it had not
   * started, `aborting` if it runs (its signal is aborted, its thread terminated after the
   * grace period, and its verdict follows when it has ended), false if not held here.
   */
  cancel(live: LiveInstance): 'removed' | 'aborting' | false {
    if (this.#ready.remove(live.id)) return 'removed';
    const attempt = this.#byInstance.get(live.id);
    if (!attempt || attempt.done) return false;

    this.#clearTimer(attempt);
    attempt.abortReason = 'cancel';
    attempt.slot.abort(attempt, 'cancel');
    if (attempt.started) {
      this.#armTerminate(attempt);
      return 'aborting';
    }
    // Waiting on its thread behind another attempt: the thread will skip it when it gets there.
    attempt.done = true;
    this.#forget(attempt);
    return 'removed';
  }

  /** Every queued instance, in dispatch order; the ready queue is left empty. */
  drainQueued(): LiveInstance[] {
    return this.#ready.drain();
  }

  close(): Promise<void> {
    this.#paused = true;
    return this.#pool.close();
  }

  #attempt(live: LiveInstance, slot: Slot<Attempt>): Attempt {
    const key = this.#nextKey++;
    const { job } = live;
    const attempt: Attempt = {
      task: {
        key,
        moduleUrl: job.moduleUrl,
        exportName: job.exportName,
        instanceId: live.id,
        kind: job.kind,
        attempt: live.attempt + 1,
        args: live.args,
      },
      live,
      slot,
      started: false,
      received: 0,
      terminated: false,
      done: false,
    };
    this.#attempts.set(key, attempt);
    this.#byInstance.set(live.id, attempt);
    return attempt;
  }

  #started(attempt: Attempt): void {
    if (attempt.done) {
      // Canceled while it waited; if it started before the thread saw the abort, end it.
      if (attempt.abortReason === 'cancel') this.#armTerminate(attempt);
      return;
    }
    const { live } = attempt;
    this.#options.sink.started(live, attempt.task.attempt, this.#options.clock.now());
    if (live.timeoutMs !== null) this.#armTimeout(attempt, live.timeoutMs);
  }

  #ended(attempt: Attempt, outcome: AttemptOutcome): void {
    this.#clearTimer(attempt);
    if (attempt.done) {
      this.#forget(attempt);
      this.pump();
      return;
    }
    if (attempt.received < outcome.hostCalls) {
      attempt.held = outcome;
      return;
    }
    this.#conclude(attempt, outcome);
  }

  #conclude(attempt: Attempt, outcome: AttemptOutcome): void {
    this.#finish(attempt, this.#verdictOf(attempt, outcome));
  }

  #verdictOf(attempt: Attempt, outcome: AttemptOutcome): Verdict {
    if (attempt.abortReason === 'cancel') return { type: 'canceled' };
    if (outcome.ok) return { type: 'completed', value: outcome.value };
    if (attempt.abortReason === 'timeout') {
      return { type: 'timedOut', timeoutMs: attempt.live.timeoutMs ?? 0, terminated: false };
    }
    return { type: 'failed', error: outcome.error, doNotRetry: outcome.doNotRetry, crashed: false };
  }

  /** The attempt's thread died. Attempts that never started go back to the ready queue. */
  #lost(attempt: Attempt, error: unknown, started: boolean): void {
    this.#clearTimer(attempt);
    if (attempt.done) {
      this.#forget(attempt);
      this.pump();
      return;
    }
    if (!started) {
      this.#forget(attempt);
      this.#ready.push(attempt.live, attempt.live.priority);
      this.pump();
      return;
    }
    this.#finish(attempt, this.#lostVerdict(attempt, error));
  }

  #lostVerdict(attempt: Attempt, error: unknown): Verdict {
    if (attempt.abortReason === 'cancel') return { type: 'canceled' };
    if (attempt.abortReason === 'timeout') {
      return { type: 'timedOut', timeoutMs: attempt.live.timeoutMs ?? 0, terminated: true };
    }
    const cause = serializeError(error);
    const message = `the thread running this attempt died: ${cause.message}`;
    return {
      type: 'failed',
      error: { name: 'ThreadCrashedError', message, code: 'ERR_THREAD_CRASHED', cause },
      doNotRetry: false,
      crashed: true,
    };
  }

  #finish(attempt: Attempt, verdict: Verdict): void {
    attempt.done = true;
    this.#forget(attempt);
    this.#options.sink.ended(attempt.live, verdict);
    this.pump();
  }

  #forget(attempt: Attempt): void {
    this.#attempts.delete(attempt.task.key);
    if (this.#byInstance.get(attempt.live.id) === attempt) this.#byInstance.delete(attempt.live.id);
  }

  #armTimeout(attempt: Attempt, timeoutMs: number): void {
    const { clock } = this.#options;
    attempt.timer = clock.setTimeout(() => this.#abort(attempt, 'timeout'), timeoutMs);
  }

  /** Signals first; terminates the thread if the attempt still runs after the grace. */
  #abort(attempt: Attempt, reason: 'timeout' | 'cancel'): void {
    attempt.abortReason ??= reason;
    attempt.slot.abort(attempt, reason);
    this.#armTerminate(attempt);
  }

  #armTerminate(attempt: Attempt): void {
    const { clock, terminateGraceMs } = this.#options;
    attempt.timer = clock.setTimeout(() => this.#terminate(attempt), terminateGraceMs);
  }

  #terminate(attempt: Attempt): void {
    attempt.timer = undefined;
    if (attempt.slot.head !== attempt) return;
    attempt.terminated = true;
    attempt.slot.terminate();
  }

  #clearTimer(attempt: Attempt): void {
    if (attempt.timer) this.#options.clock.clearTimeout(attempt.timer);
    attempt.timer = undefined;
  }

  /** The main thread's side of the executor's calls, routed by attempt key. */
  #hostApi(): HostApi {
    const { sink } = this.#options;
    return {
      report: (key, entries) => {
        const attempt = this.#receive(key);
        if (!attempt) return;
        const { live, task } = attempt;
        for (const entry of entries) {
          if (entry.type === 'log') {
            sink.log(live, task.attempt, entry.level, entry.message, entry.data, entry.at);
          } else {
            sink.progress(live, task.attempt, entry.value, entry.at);
          }
        }
        this.#releaseHeld(attempt);
      },
    };
  }

  #receive(key: number): Attempt | undefined {
    const attempt = this.#attempts.get(key);
    if (!attempt || attempt.done) return undefined;
    attempt.received++;
    return attempt;
  }

  #releaseHeld(attempt: Attempt): void {
    const held = attempt.held;
    if (held && attempt.received >= held.hostCalls) {
      attempt.held = undefined;
      this.#conclude(attempt, held);
    }
  }
}
