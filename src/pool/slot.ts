import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import { type Endpoint, expose } from 'comlink';
import { Piscina } from 'piscina';
import type { AttemptOutcome, AttemptTask, ControlMessage, HostApi } from './protocol.js';
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
}

export interface SlotOptions<A extends SlotAttempt> {
  id: number;
  filename: string;
  /** How many attempts the thread may hold at once: one running, the rest waiting behind it. */
  depth: number;
  host: HostApi;
  listener: SlotListener<A>;
  resourceLimits?: ResourceLimits;
  execArgv?: string[];
}

/**
 * One thread of the pool: a Piscina pool of exactly one thread, and the line of attempts
 * handed to it. The thread runs them one at a time in the order they were handed over, so
 * the head of the line is the running attempt, and the slot knows at every moment which
 * attempt its thread is running. Resizing the pool adds and retires whole slots.
 *
 * States: open (takes attempts) → retiring (takes none, finishes its line) → closed.
 */
export class Slot<A extends SlotAttempt> {
  readonly id: number;
  readonly #piscina: Piscina;
  readonly #depth: number;
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
    this.#depth = options.depth;
    this.#listener = options.listener;
    this.#host = options.host;
    this.#piscina = new Piscina({
      filename: options.filename,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: options.depth,
      idleTimeout: Number.POSITIVE_INFINITY,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    });
    this.#piscina.on('message', (message: unknown) => this.#onThreadMessage(message));
    this.#piscina.on('error', (error: unknown) => this.#listener.error(error, this));
  }

  /** How many more attempts this slot takes now. */
  get free(): number {
    return this.#retiring ? 0 : this.#depth - this.#line.length;
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

  dispatch(attempt: A): void {
    this.#line.push(attempt);
    if (this.#line.length === 1) this.#start(attempt);
    this.#piscina.run(attempt.task).then(
      (outcome: AttemptOutcome) => this.#ended(attempt, outcome),
      (error: unknown) => this.#lost(attempt, error),
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

  #ended(attempt: A, outcome: AttemptOutcome): void {
    if (this.#line[0] !== attempt) return;
    this.#line.shift();
    this.#listener.ended(attempt, outcome, this);
    this.#advance();
  }

  /**
   * Piscina rejects every attempt of a dead thread, one after another. The first to arrive
   * takes the whole line with it: its head was running and the rest never started.
   */
  #lost(attempt: A, error: unknown): void {
    if (!this.#line.includes(attempt)) return;
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
    for (const pending of this.#pendingControl.splice(0)) message.controlPort.postMessage(pending);
    const head = this.#line[0];
    if (head && !head.started) this.#start(head);
  }
}
