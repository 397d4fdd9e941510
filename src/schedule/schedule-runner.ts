/**
 * The schedule runner: owns every schedule's timer and turns each fire into instances through
 * the ScheduleTarget seam (the job manager). The manager creates one runner, forwards its
 * events, calls `start()` after it has recovered its own instances from the store and
 * `stop()` before it stops, and tells it when an instance a schedule created has finished.
 *
 * A fire goes: fire plan (on time, or missed runs under the missed-run policy; see
 * fire-plan.ts) → for each run, the overlap policy → createInstance → next run from the due
 * time → save. Schedule states are described in schedule-state.ts.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../clock.js';
import { InvalidOptionError, JobloomError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { InstanceRecord } from '../types.js';
import { checkInteger } from '../validate/options.js';
import { FireTimer } from './fire-timer.js';
import { LatestWriter } from './latest-writer.js';
import { checkHasFutureRun, jittered, nextRunAfter, nextRuns } from './rule.js';
import { checkRunnerOptions, type ScheduleRunnerOptions } from './runner-options.js';
import {
  mergeUpdate,
  type ResolvedSchedule,
  resolveSchedule,
  type ScheduleDefinition,
  type ScheduleUpdate,
  sameRule,
  settingsToDefinition,
} from './schedule-definition.js';
import { ScheduleFiring } from './schedule-firing.js';
import {
  fromRecord,
  newState,
  runsLeft,
  type Schedule,
  type ScheduleState,
  toRecord,
  toView,
} from './schedule-state.js';
import type { ScheduleTarget } from './schedule-target.js';

export class ScheduleRunner {
  readonly #store: Store;
  readonly #target: ScheduleTarget;
  readonly #clock: Clock;
  readonly #defaultTimezone: string;
  readonly #logger: Logger | undefined;
  readonly #firing: ScheduleFiring;
  readonly #random: () => number;
  readonly #createId: () => string;
  readonly #states = new Map<string, ScheduleState>();
  readonly #timer: FireTimer;
  readonly #writer = new LatestWriter();
  #running = false;
  #startedAt = 0;

  constructor(options: ScheduleRunnerOptions) {
    const settings = checkRunnerOptions(options);
    this.#store = options.store;
    this.#target = options.target;
    this.#clock = options.clock ?? systemClock;
    this.#defaultTimezone = settings.defaultTimezone;
    this.#logger = options.logger;
    this.#firing = new ScheduleFiring({
      target: options.target,
      onEvent: options.onEvent,
      logger: options.logger,
      lateToleranceMs: settings.lateToleranceMs,
    });
    this.#random = options.random ?? Math.random;
    this.#createId = options.createId ?? randomUUID;
    this.#timer = new FireTimer(this.#clock, (id, fireAt, nowMs) => this.#fire(id, fireAt, nowMs));
  }

  get running(): boolean {
    return this.#running;
  }

  /**
   * Loads the schedules in the store, then applies the missed-run policy to runs that fell due
   * while stopped and arms the timers. Instances the manager recovered must already be known
   * to `target.isActive`, so overlap policies see them.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    for (const record of await this.#store.listSchedules()) {
      if (!this.#states.has(record.id)) {
        const state = fromRecord(record, this.#defaultTimezone);
        this.#states.set(state.id, state);
        this.#arm(state);
      }
    }
    this.#running = true;
    this.#startedAt = this.#clock.now();
    for (const state of this.#states.values()) {
      this.#firing.refreshActive(state, this.#startedAt, true);
    }
    this.#timer.start();
    this.#logger?.info({ schedules: this.#states.size }, 'schedule runner started');
  }

  /** Disarms every timer and waits for pending store writes. Schedules stay in the store. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer.stop();
    await this.#writer.idle();
    this.#logger?.info({ schedules: this.#states.size }, 'schedule runner stopped');
  }

  /** Checks the options, saves the schedule and arms it; throws before anything is created. */
  async create(definition: ScheduleDefinition): Promise<Schedule> {
    const nowMs = this.#clock.now();
    const resolved = this.#resolve(definition, nowMs);
    checkHasFutureRun(resolved.rule, nowMs);
    const id = resolved.id ?? this.#createId();
    const stored = await this.#store.getSchedule(id);
    if (stored || this.#states.has(id)) {
      throw new InvalidOptionError('schedule.id', 'an id no other schedule has', id);
    }

    const state = newState(id, resolved, nowMs);
    state.nextRunAt = this.#nextAfter(state, nowMs);
    this.#states.set(id, state);
    try {
      await this.#save(state);
    } catch (error) {
      this.#states.delete(id);
      throw error;
    }
    this.#arm(state);
    return toView(state);
  }

  get(id: string): Schedule | undefined {
    const state = this.#states.get(id);
    return state && toView(state);
  }

  /** Every schedule, oldest first. */
  list(): Schedule[] {
    const states = [...this.#states.values()];
    states.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    return states.map(toView);
  }

  /**
   * Changes a schedule; see ScheduleUpdate. A new rule takes effect from now; counters and
   * instances already created are kept. Throws before changing anything.
   */
  async update(id: string, update: ScheduleUpdate): Promise<Schedule> {
    const state = this.#require(id);
    const nowMs = this.#clock.now();
    const current = { ...settingsToDefinition(state.kind, state.settings), paused: state.paused };
    const resolved = this.#resolve(mergeUpdate(current, update), nowMs);
    const ruleChanged = !sameRule(resolved.settings, state.settings);
    if (ruleChanged) checkHasFutureRun(resolved.rule, nowMs);

    const wasPaused = state.paused;
    Object.assign(state, {
      kind: resolved.kind,
      paused: resolved.paused,
      settings: resolved.settings,
      rule: resolved.rule,
    });
    if (ruleChanged || wasPaused !== state.paused) state.nextRunAt = this.#nextAfter(state, nowMs);
    return this.#changed(state, nowMs);
  }

  /** Stops a schedule firing until `resume`; its settings and counters are kept. */
  async pause(id: string): Promise<Schedule> {
    const state = this.#require(id);
    state.paused = true;
    state.nextRunAt = null;
    return this.#changed(state, this.#clock.now());
  }

  /** Fires again from the first run after now; runs that fell during the pause are not made. */
  async resume(id: string): Promise<Schedule> {
    const state = this.#require(id);
    const nowMs = this.#clock.now();
    if (state.paused) {
      state.paused = false;
      state.nextRunAt = this.#nextAfter(state, nowMs);
    }
    return this.#changed(state, nowMs);
  }

  /** Deletes a schedule; the instances it created are left to finish. False if unknown. */
  async remove(id: string): Promise<boolean> {
    const known = this.#states.delete(id);
    this.#timer.delete(id);
    let deleted = false;
    await this.#writer.write(id, async () => {
      deleted = await this.#store.deleteSchedule(id);
    });
    return known || deleted;
  }

  /** The due times of the next `n` runs (before jitter), within `endAt` and `maxRuns`. */
  nextRuns(id: string, n: number): number[] {
    const state = this.#require(id);
    checkInteger(n, 'n', { min: 0, max: 100_000 });
    if (state.nextRunAt === null || n === 0) return [];
    const made = state.runCount + (state.buffered ? 1 : 0) + 1;
    const after = nextRuns(state.rule, state.nextRunAt, n - 1, made);
    return [state.nextRunAt, ...after];
  }

  /**
   * The latest instances a schedule created, newest first, as the store's history has them
   * (also after the schedule was removed, while the store keeps them).
   */
  lastRuns(id: string, limit = 10): Promise<InstanceRecord[]> {
    checkInteger(limit, 'limit', { min: 1, max: 10_000 });
    return this.#store.queryInstances({ scheduleId: id, order: 'desc', limit });
  }

  /**
   * Tells the runner that an instance a schedule created reached a final state, so that a fire
   * held by `bufferOne` can be created now. Unknown ids are ignored.
   */
  instanceFinished(instanceId: string, scheduleId: string): void {
    const state = this.#states.get(scheduleId);
    if (!state?.activeInstanceIds.includes(instanceId)) return;
    state.activeInstanceIds = state.activeInstanceIds.filter((id) => id !== instanceId);
    this.#firing.refreshActive(state, this.#clock.now(), this.#running);
    this.#saveInBackground(state);
  }

  #fire(id: string, fireAt: number, nowMs: number): void {
    const state = this.#states.get(id);
    if (!state || state.paused || state.nextRunAt === null) return;
    try {
      this.#firing.fire(state, fireAt, nowMs, this.#startedAt);
    } catch (error) {
      // A schedule whose maths throws stops here, visibly, rather than firing in a loop.
      state.nextRunAt = null;
      this.#firing.failed(state, 'fire', null, error);
    }
    state.updatedAt = nowMs;
    this.#arm(state);
    this.#saveInBackground(state);
  }

  #arm(state: ScheduleState): void {
    if (state.nextRunAt === null) this.#timer.delete(state.id);
    else this.#timer.set(state.id, jittered(state.rule, state.nextRunAt, this.#random));
  }

  #nextAfter(state: ScheduleState, fromMs: number): number | null {
    if (state.paused || runsLeft(state) === 0) return null;
    return nextRunAfter(state.rule, fromMs);
  }

  async #changed(state: ScheduleState, nowMs: number): Promise<Schedule> {
    state.updatedAt = nowMs;
    this.#firing.refreshActive(state, nowMs, this.#running);
    this.#arm(state);
    await this.#save(state);
    return toView(state);
  }

  #resolve(options: unknown, nowMs: number): ResolvedSchedule {
    const hasKind = (kind: string) => this.#target.hasKind(kind);
    const context = { defaultTimezone: this.#defaultTimezone, nowMs, hasKind };
    const resolved = resolveSchedule(options, context);
    const { args, overrides } = resolved.settings;
    this.#target.checkInstance?.(resolved.kind, args, overrides);
    return resolved;
  }

  #require(id: string): ScheduleState {
    const state = this.#states.get(id);
    if (!state) throw new JobloomError('ERR_NOT_FOUND', `schedule "${id}" not found`);
    return state;
  }

  /** Saves the schedule's current state; concurrent saves of one schedule collapse. */
  #save(state: ScheduleState): Promise<void> {
    return this.#writer.write(state.id, async () => {
      const current = this.#states.get(state.id);
      if (current) await this.#store.saveSchedule(toRecord(current));
    });
  }

  #saveInBackground(state: ScheduleState): void {
    this.#save(state).catch((error: unknown) => this.#firing.failed(state, 'save', null, error));
  }
}
