import { availableParallelism } from 'node:os';
import { type Logger, pino } from 'pino';
import { type Clock, systemClock } from '../clock.js';
import { ManagerStateError } from '../errors.js';
import { HistoryWriter } from '../history/history-writer.js';
import { threadEntry } from '../pool/thread-entry-path.js';
import { DelayQueue } from '../queue/delay-queue.js';
import type { InstanceOverrides } from '../schedule/schedule-definition.js';
import { ScheduleRunner } from '../schedule/schedule-runner.js';
import type { ScheduleTarget } from '../schedule/schedule-target.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/store.js';
import type {
  ClearFilter,
  HistoryQuery,
  InstanceQuery,
  InstanceRecord,
  LogClearFilter,
  LogLine,
  LogQuery,
  StateTransition,
} from '../types.js';
import { assertCloneable } from '../validate/cloneable.js';
import {
  checkDurationMs,
  checkInteger,
  checkKnownKeys,
  checkObject,
  optional,
} from '../validate/options.js';
import { Dispatcher } from './dispatcher.js';
import { type JobManagerEventName, type JobManagerEvents, TypedEvents } from './events.js';
import { Handle, type InstanceHandle, timeOrderedId } from './instance-handle.js';
import { InstanceRunner } from './instance-runner.js';
import { type Job, type JobDefinition, JobRegistry, resolvePolicy } from './job-registry.js';
import { Lifecycle } from './lifecycle.js';
import type { LiveInstance } from './live-instance.js';
import { Loggers } from './loggers.js';
import { type JobManagerOptions, MANAGER_OPTION_KEYS, resolveStore } from './manager-options.js';

export type { InstanceHandle } from './instance-handle.js';
export type { JobManagerOptions } from './manager-options.js';

import { recoverInstances } from './recovery.js';
import { resolveScheduleOptions, type ScheduleOptions } from './schedule-options.js';

export interface StopOptions {
  /** `drain` runs everything accepted first; `cancel` cancels what has not finished. Default `drain`. */
  mode?: 'drain' | 'cancel';
  /** With `drain`, how long to wait before canceling what is left, in ms. Default: no limit. */
  timeoutMs?: number;
}

export interface ManagerStats {
  scheduled: number;
  queued: number;
  /** Attempts running on threads now. */
  running: number;
  /** Handed to threads: running, or waiting on a thread behind the running one. */
  inFlight: number;
  /** Tasks waiting in Piscina's own queues; the dispatcher keeps this at zero. */
  piscinaQueued: number;
  poolSize: number;
  threads: number;
}

type ManagerState = 'new' | 'starting' | 'started' | 'stopping' | 'stopped';

/**
 * go-job's Manager: the registry of jobs, the scheduler, the ready queue, the pool and the
 * history store, behind one object that a batch tool or service embeds.
 *
 * Manager states: new → starting → started → stopping → stopped. Jobs may be registered at any
 * time; instances are accepted only while started.
 */
export class JobManager {
  readonly #registry = new JobRegistry();
  readonly #events: TypedEvents;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #store: Store;
  readonly #writer: HistoryWriter;
  readonly #lifecycle: Lifecycle;
  readonly #delayed: DelayQueue<LiveInstance>;
  readonly #dispatcher: Dispatcher;
  readonly #runner: InstanceRunner;
  readonly #schedules: ScheduleRunner;
  #state: ManagerState = 'new';

  constructor(options: JobManagerOptions = {}) {
    const checked = checkObject(options, 'options');
    checkKnownKeys(checked, MANAGER_OPTION_KEYS, 'options');
    const concurrency = optional(options.concurrency, availableParallelism(), (v) =>
      checkInteger(v, 'options.concurrency', { min: 1, max: 1024 }),
    );
    const prefetch = optional(options.prefetch, 2, (v) =>
      checkInteger(v, 'options.prefetch', { min: 1, max: 64 }),
    );
    const terminateGraceMs = optional(options.terminateGraceMs, 1_000, (v) =>
      checkDurationMs(v, 'options.terminateGraceMs'),
    );

    this.#logger = options.logger ?? pino({ enabled: false });
    this.#clock = options.clock ?? systemClock;
    this.#store = resolveStore(options, this.#clock);
    this.#events = new TypedEvents((error, event) => this.#listenerFailed(error, event));
    const defaultDelayMs = this.#store instanceof MemoryStore ? 0 : 5;
    this.#writer = new HistoryWriter({
      store: this.#store,
      batchDelayMs: optional(options.historyBatchDelayMs, defaultDelayMs, (v) =>
        checkDurationMs(v, 'options.historyBatchDelayMs'),
      ),
      onError: (error) => this.#storeFailed(error),
    });
    this.#lifecycle = new Lifecycle(this.#writer, this.#events, new Loggers(this.#logger));
    this.#delayed = new DelayQueue<LiveInstance>({
      clock: this.#clock,
      onDue: (live) => this.#runner.due(live),
    });
    const entry = threadEntry(options.execArgv);
    this.#dispatcher = new Dispatcher({
      clock: this.#clock,
      size: concurrency,
      depth: prefetch,
      threadEntry: entry.filename,
      terminateGraceMs,
      niceIncrement: optional(options.threadNice, 10, (v) =>
        checkInteger(v, 'options.threadNice', { min: 0, max: 19 }),
      ),
      sink: {
        started: (live, attempt, at) => this.#runner.started(live, attempt, at),
        ended: (live, verdict) => this.#runner.ended(live, verdict),
        log: (live, attempt, level, message, data, at) =>
          this.#runner.log(live, attempt, level, message, data, at),
        progress: (live, attempt, value, at) => this.#runner.progress(live, attempt, value, at),
        threadError: (error, slot) => this.#threadError(error, slot),
      },
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
    });
    this.#runner = new InstanceRunner({
      clock: this.#clock,
      lifecycle: this.#lifecycle,
      writer: this.#writer,
      events: this.#events,
      delayed: this.#delayed,
      dispatcher: this.#dispatcher,
      store: this.#store,
      stopped: () => this.#state === 'stopped',
      finished: (live) => {
        if (live.origin) this.#schedules.instanceFinished(live.id, live.origin.scheduleId);
      },
    });
    this.#schedules = new ScheduleRunner({
      store: this.#store,
      target: this.#scheduleTarget(),
      clock: this.#clock,
      logger: this.#logger,
      onEvent: (event, payload) =>
        this.#events.emit(event, payload as JobManagerEvents[typeof event]),
      ...(options.timezone !== undefined ? { defaultTimezone: options.timezone } : {}),
    });
  }

  /**
   * Recurring schedules (cron, intervals): create, list, pause, resume, update and remove
   * them, and look at their next and last runs. Use after `start()`.
   */
  get schedules(): ScheduleRunner {
    return this.#schedules;
  }

  /** Registers a job by kind. Throws if the kind is taken or the definition is invalid. */
  register(definition: JobDefinition): Job {
    const job = this.#registry.register(definition);
    this.#logger.debug({ kind: job.kind, module: job.moduleUrl }, 'job registered');
    return job;
  }

  /** Registers every worker module in a folder, each under its file name as kind. */
  registerFolder(folder: string | URL, defaults?: Omit<JobDefinition, 'kind' | 'module'>): Job[] {
    return this.#registry.registerFolder(folder, defaults);
  }

  jobs(): Job[] {
    return this.#registry.list();
  }

  hasJob(kind: string): boolean {
    return this.#registry.has(kind);
  }

  get store(): Store {
    return this.#store;
  }

  get concurrency(): number {
    return this.#dispatcher.poolSize;
  }

  /**
   * Opens the store, recovers what a previous process left unfinished, and starts dispatching.
   * If the store cannot be opened, it rejects with the store's error and the manager is stopped.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new ManagerStateError(`cannot start a manager that is ${this.#state}`);
    this.#state = 'starting';
    try {
      await this.#store.open();
    } catch (error) {
      // Nothing has started: the manager is done, and the caller can make a new one.
      this.#state = 'stopped';
      throw error;
    }
    const recovered = await recoverInstances({
      store: this.#store,
      registry: this.#registry,
      runner: this.#runner,
      clock: this.#clock,
      logger: this.#logger,
    });
    this.#state = 'started';
    this.#dispatcher.resume();
    await this.#schedules.start();
    this.#logger.info(
      { concurrency: this.concurrency, store: this.#store.name, recovered },
      'started',
    );
  }

  /**
   * Accepts an instance of `kind`. Everything is validated first: an unknown kind, arguments
   * that cannot cross into a thread, or an invalid option throws, and nothing is enqueued.
   */
  schedule<Result = unknown>(
    kind: string,
    args?: unknown,
    options?: ScheduleOptions<Result>,
  ): InstanceHandle<Result> {
    const live = this.#accept(kind, args, options as ScheduleOptions | undefined);
    return this.#handle<Result>(live.id, kind);
  }

  /**
   * Cancels instances by id or by query. Queued and scheduled ones end at once as canceled;
   * running ones are aborted (their thread terminated after the grace period) and end as
   * canceled when they stop. Nothing else is touched. Returns the ids it canceled.
   */
  async cancel(target: string | InstanceQuery, reason = 'canceled by request'): Promise<string[]> {
    const ids = typeof target === 'string' ? [target] : this.#runner.matching(target);
    return ids.filter((id) => this.#runner.cancel(id, reason));
  }

  /** Changes the number of threads. Resolves once exactly `size` threads are alive. */
  async resize(size: number): Promise<void> {
    checkInteger(size, 'size', { min: 1, max: 1024 });
    const settled = this.#dispatcher.resize(size);
    this.#logger.info({ size }, 'pool resizing');
    await settled;
    this.#events.emit('pool:resized', { size, threads: this.#dispatcher.threadCount });
  }

  /** Resolves when no instance is scheduled, queued or running (at once if none is). */
  onIdle(): Promise<void> {
    return this.#runner.onIdle();
  }

  stats(): ManagerStats {
    return {
      scheduled: this.#delayed.size,
      queued: this.#dispatcher.queued,
      running: this.#dispatcher.running,
      inFlight: this.#dispatcher.inFlight,
      piscinaQueued: this.#dispatcher.piscinaQueued,
      poolSize: this.#dispatcher.poolSize,
      threads: this.#dispatcher.threadCount,
    };
  }

  /** Ids of the threads alive now. */
  threadIds(): number[] {
    return this.#dispatcher.threadIds();
  }

  /**
   * Stops the manager: no new instances are accepted; then it drains (runs what it has) or
   * cancels, closes the pool, writes the last history and closes the store.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    if (this.#state === 'new') {
      this.#state = 'stopped';
      return;
    }
    const mode = options.mode ?? 'drain';
    this.#state = 'stopping';
    await this.#schedules.stop();
    if (mode === 'drain') await this.#drain(options.timeoutMs);
    await this.#cancelAll('manager stopped');
    await this.#dispatcher.close();
    await this.#writer.flush();
    await this.#store.close();
    this.#state = 'stopped';
    this.#logger.info('stopped');
  }

  on<E extends JobManagerEventName>(
    event: E,
    listener: (payload: JobManagerEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  once<E extends JobManagerEventName>(
    event: E,
    listener: (payload: JobManagerEvents[E]) => void,
  ): () => void {
    return this.#events.once(event, listener);
  }

  off<E extends JobManagerEventName>(
    event: E,
    listener: (payload: JobManagerEvents[E]) => void,
  ): void {
    this.#events.off(event, listener);
  }

  /** Resolves once every change made so far is in the store. */
  flushHistory(): Promise<void> {
    return this.#writer.flush();
  }

  getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.#store.getInstance(id);
  }

  queryInstances(query: InstanceQuery = {}): Promise<InstanceRecord[]> {
    return this.#store.queryInstances(query);
  }

  /** go-job's LookupInstanceHistory. */
  lookupInstanceHistory(query: HistoryQuery): Promise<StateTransition[]> {
    return this.#store.lookupInstanceHistory(query);
  }

  /** go-job's LookupInstanceLogs. */
  lookupInstanceLogs(query: LogQuery): Promise<LogLine[]> {
    return this.#store.lookupInstanceLogs(query);
  }

  clearInstanceHistory(filter: ClearFilter): Promise<number> {
    return this.#store.clearInstanceHistory(filter);
  }

  clearInstanceLogs(filter: LogClearFilter): Promise<number> {
    return this.#store.clearInstanceLogs(filter);
  }

  #accept(
    kind: string,
    args: unknown,
    options: ScheduleOptions | undefined,
    origin?: LiveInstance['origin'],
  ): LiveInstance {
    if (this.#state !== 'started') {
      throw new ManagerStateError(`cannot schedule on a manager that is ${this.#state}`);
    }
    const job = this.#registry.get(kind);
    const now = this.#clock.now();
    const resolved = resolveScheduleOptions(job, options, now);
    assertCloneable(args, 'args');

    const live: LiveInstance = {
      id: timeOrderedId(now),
      job,
      args,
      priority: resolved.priority,
      timeoutMs: resolved.timeoutMs,
      maxRetries: resolved.maxRetries,
      backoff: resolved.backoff,
      handlers: resolved.handlers,
      createdAt: now,
      state: 'created',
      attempt: 0,
      dueAt: resolved.dueAt,
    };
    if (origin) live.origin = origin;
    this.#runner.accept(live, now, origin?.catchUp ? 'catch-up run of a schedule' : undefined);
    return live;
  }

  /** The manager's side of the schedule runner's seam. */
  #scheduleTarget(): ScheduleTarget {
    return {
      hasKind: (kind) => this.#registry.has(kind),
      checkInstance: (kind, args, overrides) => {
        assertCloneable(args, 'args');
        resolvePolicy(overrides as Record<string, unknown>, 'schedule', this.#registry.get(kind));
      },
      createInstance: (kind, args, overrides: InstanceOverrides, meta) =>
        this.#accept(kind, args, overrides as ScheduleOptions, meta),
      isActive: (id) => this.#runner.isLive(id),
      cancel: (id, reason) => void this.#runner.cancel(id, reason),
    };
  }

  #handle<Result>(id: string, kind: string): InstanceHandle<Result> {
    return new Handle<Result>(id, kind, this.#runner);
  }

  async #drain(timeoutMs: number | undefined): Promise<void> {
    if (timeoutMs === undefined) return this.onIdle();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.onIdle(), timedOut]);
    clearTimeout(timer);
  }

  async #cancelAll(reason: string): Promise<void> {
    for (const id of this.#runner.liveIds()) this.#runner.cancel(id, reason);
    await this.onIdle();
  }

  #listenerFailed(error: unknown, event: JobManagerEventName): void {
    this.#logger.error({ err: error, event }, 'event listener failed');
    this.#events.emit('manager:error', { error, source: `listener of ${event}` });
  }

  #storeFailed(error: unknown): void {
    this.#logger.error({ err: error, store: this.#store.name }, 'history write failed; will retry');
    this.#events.emit('manager:error', { error, source: `store ${this.#store.name}` });
  }

  #threadError(error: unknown, slot: number): void {
    this.#logger.error({ err: error, slot }, 'thread error outside any attempt');
    this.#events.emit('manager:error', { error, source: `thread slot ${slot}` });
  }
}
