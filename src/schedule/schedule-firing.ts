/**
 * What one fire of a schedule does, once its timer has gone off: the fire plan (on time, or
 * missed runs under the missed-run policy; see fire-plan.ts), then for each run the overlap
 * policy, then `createInstance` through the ScheduleTarget seam, and the events that report
 * each outcome. It changes the schedule's state in memory; the runner arms and saves it.
 *
 * Everything here runs on the main thread at each fire, so it stays O(active instances of the
 * schedule) plus one next-run computation.
 */

import type { Logger } from 'pino';
import { type PlannedRun, planFire } from './fire-plan.js';
import type { ScheduleEventName, ScheduleEventSink, ScheduleEvents } from './schedule-events.js';
import { runsLeft, type ScheduleState } from './schedule-state.js';
import type { ScheduleTarget } from './schedule-target.js';

export interface ScheduleFiringOptions {
  target: ScheduleTarget;
  onEvent: ScheduleEventSink | undefined;
  logger: Logger | undefined;
  /** How late, in ms, a timer may go off and still count as on time. */
  lateToleranceMs: number;
}

type ErrorStep = ScheduleEvents['schedule:error']['during'];

export class ScheduleFiring {
  readonly #target: ScheduleTarget;
  readonly #onEvent: ScheduleEventSink | undefined;
  readonly #logger: Logger | undefined;
  readonly #lateToleranceMs: number;

  constructor(options: ScheduleFiringOptions) {
    this.#target = options.target;
    this.#onEvent = options.onEvent;
    this.#logger = options.logger;
    this.#lateToleranceMs = options.lateToleranceMs;
  }

  /**
   * Makes one fire of a schedule whose run `dueAt` came due: applies the missed-run and the
   * overlap policy, creates instances, and sets `nextRunAt` (null once `maxRuns` are made).
   * `startedAt` is when the runner started, to tell runs missed while stopped from late ones.
   */
  fire(state: ScheduleState, fireAt: number, nowMs: number, startedAt: number): void {
    const dueAt = state.nextRunAt;
    if (dueAt === null || runsLeft(state) === 0) {
      state.nextRunAt = null;
      return;
    }
    const plan = planFire({
      rule: state.rule,
      policy: state.settings,
      dueAt,
      fireAt,
      nowMs,
      lateToleranceMs: this.#lateToleranceMs,
      runsLeft: runsLeft(state),
    });

    if (plan.missed) {
      const reason = dueAt < startedAt ? 'stopped' : 'late';
      state.missedCount += plan.missed.count;
      this.#emit('schedule:missed', {
        ...refOf(state),
        ...plan.missed,
        policy: state.settings.missed,
        reason,
      });
      this.#logger?.warn({ scheduleId: state.id, ...plan.missed, reason }, 'schedule missed runs');
    }

    this.refreshActive(state, nowMs, true);
    for (const run of plan.runs) this.#run(state, run, nowMs);
    state.nextRunAt = runsLeft(state) === 0 ? null : plan.nextRunAt;
  }

  /** Applies the overlap policy to one run. */
  #run(state: ScheduleState, run: PlannedRun, nowMs: number): void {
    const overlap = state.activeInstanceIds.length === 0 ? 'allow' : state.settings.overlap;
    switch (overlap) {
      case 'allow':
        this.#createInstance(state, run, nowMs);
        break;
      case 'skip':
        this.#skip(state, run, 'overlap');
        break;
      case 'bufferOne':
        if (state.buffered) this.#skip(state, run, 'bufferFull');
        else state.buffered = run;
        break;
      case 'cancelPrevious':
        this.#cancelActive(state, run);
        this.#createInstance(state, run, nowMs);
        break;
    }
  }

  #createInstance(state: ScheduleState, run: PlannedRun, nowMs: number): void {
    const { kind, settings } = state;
    const meta = { scheduleId: state.id, dueFor: run.dueFor, catchUp: run.catchUp };
    try {
      const { id } = this.#target.createInstance(kind, settings.args, settings.overrides, meta);
      state.activeInstanceIds.push(id);
      state.runCount += 1;
      state.lastRunAt = nowMs;
      this.#emit('schedule:fired', {
        ...refOf(state),
        instanceId: id,
        dueFor: run.dueFor,
        firedAt: nowMs,
        lateMs: nowMs - run.dueFor,
        catchUp: run.catchUp,
      });
    } catch (error) {
      this.failed(state, 'createInstance', run.dueFor, error);
    }
  }

  #skip(state: ScheduleState, run: PlannedRun, reason: 'overlap' | 'bufferFull'): void {
    state.skippedCount += 1;
    this.#emit('schedule:skipped', {
      ...refOf(state),
      dueFor: run.dueFor,
      catchUp: run.catchUp,
      reason,
      activeInstanceIds: [...state.activeInstanceIds],
    });
  }

  #cancelActive(state: ScheduleState, run: PlannedRun): void {
    const reason = `schedule ${state.id} made a newer run, due ${new Date(run.dueFor).toISOString()}`;
    for (const instanceId of state.activeInstanceIds) {
      try {
        this.#target.cancel(instanceId, reason);
      } catch (error) {
        this.failed(state, 'cancel', run.dueFor, error);
      }
    }
    state.activeInstanceIds = [];
  }

  /**
   * Drops instances that are no longer active and, when none is left, creates the fire held by
   * `bufferOne` (unless the schedule is paused or `mayCreate` is false: the runner is stopped).
   */
  refreshActive(state: ScheduleState, nowMs: number, mayCreate: boolean): void {
    state.activeInstanceIds = state.activeInstanceIds.filter((id) => this.#target.isActive(id));
    const held = state.buffered;
    if (!held || state.activeInstanceIds.length > 0 || state.paused || !mayCreate) return;
    state.buffered = null;
    this.#createInstance(state, held, nowMs);
  }

  /** Reports something the runner could not do, as `schedule:error` and an error log line. */
  failed(state: ScheduleState, during: ErrorStep, dueFor: number | null, error: unknown): void {
    this.#logger?.error({ scheduleId: state.id, during, dueFor, err: error }, 'schedule error');
    this.#emit('schedule:error', { ...refOf(state), during, dueFor, error });
  }

  #emit<E extends ScheduleEventName>(event: E, payload: ScheduleEvents[E]): void {
    try {
      this.#onEvent?.(event, payload);
    } catch (error) {
      this.#logger?.error({ event, err: error }, 'schedule event listener threw');
    }
  }
}

function refOf(state: ScheduleState): { scheduleId: string; kind: string } {
  return { scheduleId: state.id, kind: state.kind };
}
