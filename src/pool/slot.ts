import { type MessagePort, type ResourceLimits, receiveMessageOnPort } from 'node:worker_threads';
import { type Endpoint, expose } from 'comlink';
import { Piscina } from 'piscina';
import type {
  AttemptOutcome,
  AttemptTask,
  ControlMessage,
  HostApi,
  OutcomeMessage,
} from './protocol.js';
import { isThreadHello } from './protocol.js';

/** An attempt as a slot tracks it, from dispatch until its outcome arrives. */
export interface SlotAttempt {
  readonly task: AttemptTask;
  /** Set by the slot when the attempt reaches the head of its thread's line and starts. */
  started: boolean;
}

export interface SlotListener<A extends SlotAttempt> {
  /** The attempt is now running on the thread. */
  started(attempt: A, slot: Slot<A>): void;
  /** The executor returned or threw; `outcome` says which. */
  ended(attempt: A, outcome: AttemptOutcome, slot: Slot<A>): void;
  /**
   * The thread died (crash, memory limit, or terminated by jobloom). `started` attempts were
   * running on it; the others were waiting behind and never ran.
   */
  lost(attempt: A, error: unknown, started: boolean, slot: Slot<A>): void;
  /** Piscina reported an error that belongs to no attempt, e.g. a throw after one returned. */
  error(error: unknown, slot: Slot<A>): void;
  /** A batch's Piscina task has ended, so the slot may take another batch. */
  room(slot: Slot<A>): void;
}

export interface SlotOptions<A extends SlotAttempt> {
  id: number;
  filename: string;
  /** The fewest attempts the thread may hold at once: one running, the rest waiting behind it. */
  depth: number;
  host: HostApi;
  listener: SlotListener<A>;
  resourceLimits?: ResourceLimits;
  execArgv?: string[];
  /** Added to each thread's nice value: a lower scheduling priority than the main thread's. */
  niceIncrement?: number;
}

/** Attempts a thread may hold at most, however short they are. */
const MAX_DEPTH = 64;
/** How much work, in ms of run time, a thread holds beyond its minimum depth. */
const LOOKAHEAD_MS = 1;
/** Batches handed to Piscina and not yet finished, at most: it never needs to queue one. */
const MAX_BATCHES = 2;

/**
 * One thread of the pool: a Piscina pool of exactly one thread, and the line of attempts
 * handed to it. The thread runs them one at a time in the order they were handed over, so
 * the head of the line is the running attempt, and the slot knows at every moment which
 * attempt its thread is running. Resizing the pool adds and retires whole slots.
 *
 * Attempts go to the thread in batches, one Piscina task each, and come back one by one on
 * the control channel. How many a thread holds adapts to how long they run: at least the
 * minimum depth, and for short attempts as many as take about LOOKAHEAD_MS, so that an
 * urgent instance never waits more than about that long behind work already handed over,
 * while trivial attempts share Piscina's cost per task.
 *
 * States: open (takes attempts) → retiring (takes none, finishes its line) → closed.
 */
export class Slot<A extends SlotAttempt> {
  readonly id: number;
  readonly #piscina: Piscina;
  readonly #minDepth: number;
  #depth: number;
  /** Smoothed run time of this thread's attempts, in ms. */
  #runMs = LOOKAHEAD_MS;
  #batches = 0;
  readonly #listener: SlotListener<A>;
  readonly #host: HostApi;
  #line: A[] = [];
  #controlPort: MessagePort | undefined;
  #pendingControl: ControlMessage[] = [];
  #threadId = -1;
  #retiring = false;
  #whenEmpty: (() => void) | undefined;
  #markReady!: () => void;
  /** Resolves when the slot's first thread has started and said hello. */
  readonly ready = new Promise<void>((resolve) => {
    this.#markReady = resolve;
  });

  constructor(options: SlotOptions<A>) {
    this.id = options.id;
    this.#minDepth = options.depth;
    this.#depth = options.depth;
    this.#listener = options.listener;
    this.#host = options.host;
    this.#piscina = new Piscina({
      filename: options.filename,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: MAX_BATCHES,
      idleTimeout: Number.POSITIVE_INFINITY,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
      ...(options.niceIncrement ? { niceIncrement: options.niceIncrement } : {}),
    });
    this.#piscina.on('message', (message: unknown) => this.#onThreadMessage(message));
    this.#piscina.on('error', (error: unknown) => this.#listener.error(error, this));
  }

  /**
   * How many more attempts this slot takes now: none while retiring or holding as many
   * batches as Piscina runs at once, and none until half its depth is free, so that short
   * attempts travel in batches; an idle thread takes work at once.
   */
  get free(): number {
    if (this.#retiring || this.#batches >= MAX_BATCHES) return 0;
    const free = this.#depth - this.#line.length;
    return this.#line.length === 0 || free * 2 >= this.#depth ? free : 0;
  }

  /** Tasks waiting inside Piscina itself: jobloom keeps this at zero. */
  get piscinaQueued(): number {
    return this.#piscina.queueSize;
  }

  get load(): number {
    return this.#line.length;
  }

  get retiring(): boolean {
    return this.#retiring;
  }

  /** The id of the thread alive in this slot, or -1 before it has said hello. */
  get threadId(): number {
    return this.#threadId;
  }

  /** The running attempt, if any. */
  get head(): A | undefined {
    return this.#line[0];
  }

  /** Hands the thread a batch of attempts, to run one at a time in this order. */
  dispatch(attempts: readonly A[]): void {
    const wasIdle = this.#line.length === 0;
    for (const attempt of attempts) this.#line.push(attempt);
    if (wasIdle) this.#start(this.#line[0] as A);
    this.#batches += 1;
    this.#piscina.run(attempts.map((attempt) => attempt.task)).then(
      () => {
        this.#batches -= 1;
        this.#listener.room(this);
      },
      (error: unknown) => {
        this.#batches -= 1;
        this.#lost(error);
      },
    );
  }

  /** Asks the executor to stop through its AbortSignal. */
  abort(attempt: A, reason: ControlMessage['reason']): void {
    const message: ControlMessage = { type: 'abort', key: attempt.task.key, reason };
    if (this.#controlPort) this.#controlPort.postMessage(message);
    else this.#pendingControl.push(message);
  }

  /** Ends the thread at once, whatever it runs; Piscina starts a fresh one in its place. */
  terminate(): void {
    const thread = this.#piscina.threads[0];
    if (thread) void thread.terminate();
  }

  /** Takes no more attempts; resolves once the line has run out and the thread is gone. */
  async retire(): Promise<void> {
    this.#retiring = true;
    if (this.#line.length > 0) await new Promise<void>((resolve) => (this.#whenEmpty = resolve));
    await this.#piscina.destroy();
  }

  /** An attempt starts once it heads the line and the thread has said hello (it is ready). */
  #start(attempt: A): void {
    if (this.#controlPort === undefined) return;
    attempt.started = true;
    this.#listener.started(attempt, this);
  }

  #onOutcome(message: OutcomeMessage): void {
    const attempt = this.#line[0];
    if (attempt === undefined || attempt.task.key !== message.key) return;
    this.#line.shift();
    this.#learn(message.runMs);
    this.#listener.ended(attempt, message.outcome, this);
    this.#advance();
  }

  /**
   * Reads the outcomes the thread sent before it died that have not been handled yet: they
   * travel on another channel than Piscina's news of the death and may still be waiting.
   */
  #takeQueuedOutcomes(): void {
    const port = this.#controlPort;
    if (port === undefined) return;
    for (let entry = receiveMessageOnPort(port); entry; entry = receiveMessageOnPort(port)) {
      this.#onOutcome(entry.message as OutcomeMessage);
    }
  }

  /** Keeps about LOOKAHEAD_MS of work on the thread, judged by recent run times. */
  #learn(runMs: number): void {
    // A minimum depth of 1 asks for strict order: the thread holds only what it runs.
    if (this.#minDepth === 1) return;
    this.#runMs += (runMs - this.#runMs) * 0.1;
    const depth = Math.ceil(LOOKAHEAD_MS / Math.max(this.#runMs, 0.001));
    this.#depth = Math.min(MAX_DEPTH, Math.max(this.#minDepth, depth));
  }

  /**
   * The thread died: Piscina rejects each of its batches. The first rejection takes the whole
   * line with it: its head was running and the rest never started.
   */
  #lost(error: unknown): void {
    this.#takeQueuedOutcomes();
    if (this.#line.length === 0) return;
    const line = this.#line;
    this.#line = [];
    this.#controlPort = undefined;
    this.#pendingControl = [];
    for (const lost of line) this.#listener.lost(lost, error, lost.started, this);
    this.#advance();
  }

  #advance(): void {
    const next = this.#line[0];
    if (next && !next.started) this.#start(next);
    if (this.#line.length === 0) this.#whenEmpty?.();
  }

  #onThreadMessage(message: unknown): void {
    if (!isThreadHello(message)) return;
    this.#threadId = message.threadId;
    this.#markReady();
    expose(this.#host, message.hostPort as unknown as Endpoint);
    this.#controlPort = message.controlPort;
    message.controlPort.on('message', (outcome: OutcomeMessage) => this.#onOutcome(outcome));
    message.controlPort.unref();
    for (const pending of this.#pendingControl.splice(0)) message.controlPort.postMessage(pending);
    const head = this.#line[0];
    if (head && !head.started) this.#start(head);
  }
}
