import type { Clock } from '../clock.js';
import {
  CanceledError,
  ExecutorError,
  JobloomError,
  ManagerStateError,
  ThreadCrashedError,
  TimeoutError,
} from '../errors.js';
import type { HistoryWriter } from '../history/history-writer.js';
import type { DelayQueue } from '../queue/delay-queue.js';
import type { Store } from '../store/store.js';
import type {
  InstanceQuery,
  InstanceRecord,
  InstanceState,
  LogLevel,
  SerializedError,
} from '../types.js';
import { deserializeError, serializeError } from '../validate/serialize-error.js';
import { backoffDelayMs } from './backoff.js';
import type { Dispatcher, Verdict } from './dispatcher.js';
import type { TypedEvents } from './events.js';
import type { Lifecycle } from './lifecycle.js';
import { createWaiter, type LiveInstance } from './live-instance.js';

export interface InstanceRunnerOptions {
  clock: Clock;
  lifecycle: Lifecycle;
  writer: HistoryWriter;
  events: TypedEvents;
  delayed: DelayQueue<LiveInstance>;
  dispatcher: Dispatcher;
  store: Store;
  /** True once the manager has closed its store. */
  stopped: () => boolean;
  /** Called as each instance reaches its final state. */
  finished: (live: LiveInstance) => void;
}

/**
 * Carries each instance through its states: waiting for its due time, queued, running, and
 * then retried or ended. It decides retries, settles result promises once the final state is
 * in the store, and runs the job's handlers.
 */
export class InstanceRunner {
  readonly #o: InstanceRunnerOptions;
  readonly #live = new Map<string, LiveInstance>();
  #idleWaiters: (() => void)[] = [];

  constructor(options: InstanceRunnerOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#live.size;
  }

  isLive(id: string): boolean {
    return this.#live.has(id);
  }

  liveIds(): string[] {
    return [...this.#live.keys()];
  }

  /** Takes a newly accepted instance: records it, then queues it or waits for its due time. */
  accept(live: LiveInstance, now: number, reason?: string): void {
    this.#live.set(live.id, live);
    const dueNow = live.dueAt <= now;
    this.#o.lifecycle.accept(live, now, dueNow, reason);
    if (dueNow) this.#o.dispatcher.enqueue(live);
    else this.#o.delayed.add(live);
  }

  /**
   * Takes back an instance recovered from a durable store. One that was running when its
   * process died counts as a failed attempt: retried if it has retries left, else failed.
   */
  recover(live: LiveInstance, wasRunning: boolean): void {
    this.#live.set(live.id, live);
    const now = this.#o.clock.now();
    if (wasRunning) {
      this.#failed(live, PROCESS_DIED, false, now);
      return;
    }
    if (live.dueAt <= now) this.#enqueue(live, now);
    else this.#o.delayed.add(live);
  }

  due(live: LiveInstance): void {
    this.#enqueue(live, this.#o.clock.now());
  }

  started(live: LiveInstance, attempt: number, at: number): void {
    live.attempt = attempt;
    live.startedAt = at;
    this.#o.lifecycle.move(live, 'running', { at, patch: { startedAt: at } });
  }

  ended(live: LiveInstance, verdict: Verdict): void {
    const at = this.#o.clock.now();
    if (verdict.type === 'completed') this.#complete(live, verdict.value, at);
    else if (verdict.type === 'timedOut') this.#timedOut(live, verdict, at);
    else if (verdict.type === 'failed') this.#failed(live, verdict.error, verdict.doNotRetry, at);
    else
      this.#finish(live, 'canceled', at, { error: canceledError(live), reason: live.cancelReason });
  }

  log(
    live: LiveInstance,
    attempt: number,
    level: LogLevel,
    message: string,
    data: unknown,
    at: number,
  ): void {
    const line = {
      instanceId: live.id,
      kind: live.job.kind,
      attempt,
      level,
      message,
      at,
      seq: this.#o.writer.nextSeq(),
    };
    this.#o.writer.write({ op: 'log', line: data === undefined ? line : { ...line, data } });
    if (this.#o.events.has('instance:log')) {
      const payload = { id: live.id, kind: live.job.kind, attempt, level, message, at };
      this.#o.events.emit('instance:log', data === undefined ? payload : { ...payload, data });
    }
  }

  progress(live: LiveInstance, attempt: number, value: unknown, at: number): void {
    this.#o.writer.write({ op: 'update', id: live.id, patch: { progress: value, updatedAt: at } });
    this.#o.events.emit('instance:progress', {
      id: live.id,
      kind: live.job.kind,
      attempt,
      value,
      at,
    });
  }

  /** Cancels one live instance. Returns false if it is not live (unknown or already final). */
  cancel(id: string, reason: string): boolean {
    const live = this.#live.get(id);
    if (!live || live.cancelReason !== undefined) return false;
    live.cancelReason = reason;
    const now = this.#o.clock.now();

    if (this.#o.delayed.remove(id)) {
      this.#finish(live, 'canceled', now, { error: canceledError(live), reason });
      return true;
    }
    const outcome = this.#o.dispatcher.cancel(live);
    if (outcome === 'removed')
      this.#finish(live, 'canceled', now, { error: canceledError(live), reason });
    return outcome !== false;
  }

  /** Ids of live instances matching the filter part of a query (limit and offset apply after). */
  matching(query: InstanceQuery): string[] {
    const kinds = asSet(query.kind);
    const states = asSet(query.state);
    const ids = query.ids ? new Set(query.ids) : undefined;
    const matches: LiveInstance[] = [];
    for (const live of this.#live.values()) {
      if (live.cancelReason !== undefined) continue;
      if (ids && !ids.has(live.id)) continue;
      if (kinds && !kinds.has(live.job.kind)) continue;
      if (states && !states.has(live.state)) continue;
      if (query.scheduleId !== undefined && live.origin?.scheduleId !== query.scheduleId) continue;
      if (query.createdAfter !== undefined && !(live.createdAt > query.createdAfter)) continue;
      if (query.createdBefore !== undefined && !(live.createdAt < query.createdBefore)) continue;
      matches.push(live);
    }
    const offset = query.offset ?? 0;
    const end = query.limit === undefined ? undefined : offset + query.limit;
    return matches.slice(offset, end).map((live) => live.id);
  }

  /** The outcome of an instance, live or already finished. */
  resultOf(id: string): Promise<unknown> {
    const live = this.#live.get(id);
    if (live) {
      live.waiter ??= createWaiter();
      return live.waiter.promise;
    }
    if (this.#o.stopped()) {
      const message = `instance ${id} ended before its result was asked for, and the manager has stopped: read results before stop(), or query the store`;
      return Promise.reject(new ManagerStateError(message));
    }
    return this.#o.writer
      .flush()
      .then(() => this.#o.store.getInstance(id))
      .then(outcomeOf);
  }

  onIdle(): Promise<void> {
    if (this.#live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #enqueue(live: LiveInstance, at: number): void {
    this.#o.lifecycle.move(live, 'queued', { at });
    this.#o.dispatcher.enqueue(live);
  }

  #complete(live: LiveInstance, value: unknown, at: number): void {
    const startedAt = live.startedAt ?? at;
    this.#finish(live, 'completed', at, { result: value });
    if (this.#o.events.has('instance:completed')) {
      const ref = { id: live.id, kind: live.job.kind, attempt: live.attempt };
      this.#o.events.emit('instance:completed', {
        ...ref,
        result: value,
        durationMs: at - startedAt,
      });
    }
    const handler = live.handlers.onComplete;
    if (handler)
      this.#o.lifecycle.runHandler(live, 'onComplete', () =>
        handler(value, this.#o.lifecycle.info(live)),
      );
  }

  #timedOut(live: LiveInstance, verdict: Extract<Verdict, { type: 'timedOut' }>, at: number): void {
    const error = serializeError(new TimeoutError(verdict.timeoutMs, verdict.terminated));
    const ref = { id: live.id, kind: live.job.kind, attempt: live.attempt };
    this.#o.events.emit('instance:timedOut', {
      ...ref,
      timeoutMs: verdict.timeoutMs,
      terminated: verdict.terminated,
    });
    if (this.#retry(live, error, at)) return;
    this.#finish(live, 'timed_out', at, { error });
  }

  #failed(live: LiveInstance, error: SerializedError, doNotRetry: boolean, at: number): void {
    this.#o.lifecycle.logger(live).error({ err: error }, 'attempt failed');
    if (!doNotRetry && this.#retry(live, error, at)) return;
    this.#finish(live, 'failed', at, { error });
    this.#o.events.emit('instance:failed', {
      id: live.id,
      kind: live.job.kind,
      attempt: live.attempt,
      error,
    });
  }

  /** Schedules the next attempt if retries remain; a retry's wait is a timer, never a thread. */
  #retry(live: LiveInstance, error: SerializedError, at: number): boolean {
    if (live.attempt > live.maxRetries) return false;
    const delayMs = backoffDelayMs(live.backoff, live.attempt);
    live.dueAt = at + delayMs;
    const reason = `retry ${live.attempt} of ${live.maxRetries} in ${delayMs} ms`;
    this.#o.lifecycle.move(live, 'scheduled', { at, error, reason, patch: { dueAt: live.dueAt } });
    this.#o.events.emit('instance:retrying', {
      id: live.id,
      kind: live.job.kind,
      attempt: live.attempt,
      error,
      delayMs,
    });
    this.#o.delayed.add(live);
    return true;
  }

  #finish(
    live: LiveInstance,
    state: InstanceState,
    at: number,
    details: { result?: unknown; error?: SerializedError; reason?: string | undefined },
  ): void {
    const { reason, ...rest } = details;
    this.#o.lifecycle.move(live, state, {
      at,
      ...rest,
      ...(reason ? { reason } : {}),
      patch: { finishedAt: at },
    });
    this.#live.delete(live.id);
    this.#o.finished(live);
    if (state === 'canceled')
      this.#o.events.emit('instance:canceled', {
        id: live.id,
        kind: live.job.kind,
        attempt: live.attempt,
        reason: reason ?? '',
      });
    if (state !== 'completed') this.#terminated(live, state, details.error);
    this.#settleAfterFlush(live, state, details);
    if (this.#live.size === 0) this.#idle();
  }

  #terminated(live: LiveInstance, state: InstanceState, error: SerializedError | undefined): void {
    const handler = live.handlers.onTerminate;
    if (!handler) return;
    const failure = errorFor(state, error, live.timeoutMs);
    this.#o.lifecycle.runHandler(live, 'onTerminate', () =>
      handler(failure, this.#o.lifecycle.info(live)),
    );
  }

  #settleAfterFlush(
    live: LiveInstance,
    state: InstanceState,
    details: { result?: unknown; error?: SerializedError },
  ): void {
    const waiter = live.waiter;
    if (!waiter) return;
    this.#o.writer.afterFlush(() => {
      if (state === 'completed') waiter.resolve(details.result);
      else waiter.reject(errorFor(state, details.error, live.timeoutMs));
    });
  }

  #idle(): void {
    const waiters = this.#idleWaiters;
    if (waiters.length === 0 && !this.#o.events.has('manager:idle')) return;
    this.#idleWaiters = [];
    this.#o.writer.afterFlush(() => {
      for (const resolve of waiters) resolve();
      this.#o.events.emit('manager:idle', { at: this.#o.clock.now() });
    });
  }
}

const PROCESS_DIED: SerializedError = {
  name: 'ProcessDiedError',
  message: 'the process running this attempt died before the attempt ended',
  code: 'ERR_PROCESS_DIED',
};

function canceledError(live: LiveInstance): SerializedError {
  return serializeError(new CanceledError(live.cancelReason ?? 'canceled'));
}

/** The typed error a result promise rejects with for a final state other than completed. */
function errorFor(
  state: InstanceState,
  error: SerializedError | undefined,
  timeoutMs?: number | null,
): Error {
  const cause = error ? deserializeError(error) : undefined;
  const message = error?.message ?? state;
  switch (state) {
    case 'canceled':
      return new CanceledError(message.replace(/^instance canceled: /, ''));
    case 'timed_out':
      return new TimeoutError(timeoutMs ?? 0, message.includes('terminated'));
    default:
      if (error?.code === 'ERR_THREAD_CRASHED')
        return new ThreadCrashedError(message, { cause: cause?.cause });
      return new ExecutorError(message, { cause });
  }
}

function outcomeOf(record: InstanceRecord | undefined): unknown {
  if (!record) throw new JobloomError('ERR_NOT_FOUND', 'no such instance in the store');
  if (record.state === 'completed') return record.result;
  if (record.finishedAt === null)
    throw new JobloomError('ERR_NOT_FOUND', `instance ${record.id} is not live in this manager`);
  throw errorFor(record.state, record.error, record.timeoutMs);
}

function asSet<T>(value: T | readonly T[] | undefined): Set<T> | undefined {
  if (value === undefined) return undefined;
  return new Set(Array.isArray(value) ? value : [value as T]);
}
