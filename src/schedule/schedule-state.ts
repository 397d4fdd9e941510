/**
 * One schedule as the runner holds it, and its two outside forms: the record a store keeps
 * (`ScheduleRecord`, with the runner's own fields in `spec`) and the read-only view callers get.
 *
 * States of a schedule (`status`):
 *
 *   active ──pause──► paused ──resume──► active
 *   active ──no next run (endAt passed, maxRuns made)──► finished
 *   any ──update──► active, paused or finished, as the new rule and `paused` say
 *   any ──remove──► (gone; instances it created are left to finish)
 *
 * An active schedule has a `nextRunAt` and, while the runner runs, a fire time (`nextRunAt`
 * plus jitter). A paused one keeps its settings and counters but has no next run, and a fire
 * held by `bufferOne` stays held; resuming computes the first run after the time of the
 * resume, so runs that fell during the pause are neither run nor counted as missed.
 */

import { StoreError } from '../errors.js';
import type { ScheduleRecord } from '../types.js';
import type { PlannedRun } from './fire-plan.js';
import type { ScheduleRule } from './rule.js';
import {
  type ResolvedSchedule,
  resolveSchedule,
  type ScheduleSettings,
  settingsToDefinition,
} from './schedule-definition.js';

export type ScheduleStatus = 'active' | 'paused' | 'finished';

/** A schedule as callers see it: its settings and its progress. */
export interface Schedule extends Readonly<ScheduleSettings> {
  readonly id: string;
  readonly kind: string;
  readonly status: ScheduleStatus;
  /** The next run's due time (before jitter), or null when paused or finished. */
  readonly nextRunAt: number | null;
  /** When the schedule last created an instance (the clock's time, not the due time). */
  readonly lastRunAt: number | null;
  /** Instances created so far; `maxRuns` counts these. */
  readonly runCount: number;
  /** Fires the overlap policy turned away. */
  readonly skippedCount: number;
  /** Runs not made under the missed-run policy. */
  readonly missedCount: number;
  /** Instances it created that were still active when last checked. */
  readonly activeInstanceIds: readonly string[];
  /** The due time of a fire held by `bufferOne`, or null. */
  readonly bufferedDueFor: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The runner's mutable state of one schedule. */
export interface ScheduleState {
  id: string;
  kind: string;
  paused: boolean;
  settings: ScheduleSettings;
  rule: ScheduleRule;
  nextRunAt: number | null;
  lastRunAt: number | null;
  runCount: number;
  skippedCount: number;
  missedCount: number;
  activeInstanceIds: string[];
  buffered: PlannedRun | null;
  createdAt: number;
  updatedAt: number;
}

const SPEC_VERSION = 1;

/** The state of a schedule just created from checked settings. */
export function newState(id: string, resolved: ResolvedSchedule, nowMs: number): ScheduleState {
  const { kind, paused, settings, rule } = resolved;
  return {
    id,
    kind,
    paused,
    settings,
    rule,
    nextRunAt: null,
    lastRunAt: null,
    runCount: 0,
    skippedCount: 0,
    missedCount: 0,
    activeInstanceIds: [],
    buffered: null,
    createdAt: nowMs,
    updatedAt: nowMs,
  };
}

export function statusOf(state: ScheduleState): ScheduleStatus {
  if (state.paused) return 'paused';
  return state.nextRunAt === null ? 'finished' : 'active';
}

/**
 * How many more runs `maxRuns` allows (Infinity without a limit). A fire held by `bufferOne`
 * counts as made, so holding it can finish the schedule before the held instance exists.
 */
export function runsLeft(state: ScheduleState): number {
  const { maxRuns } = state.rule;
  if (maxRuns === null) return Number.POSITIVE_INFINITY;
  return Math.max(0, maxRuns - state.runCount - (state.buffered ? 1 : 0));
}

export function toView(state: ScheduleState): Schedule {
  return Object.freeze({
    ...state.settings,
    overrides: Object.freeze({ ...state.settings.overrides }),
    id: state.id,
    kind: state.kind,
    status: statusOf(state),
    nextRunAt: state.nextRunAt,
    lastRunAt: state.lastRunAt,
    runCount: state.runCount,
    skippedCount: state.skippedCount,
    missedCount: state.missedCount,
    activeInstanceIds: Object.freeze([...state.activeInstanceIds]),
    bufferedDueFor: state.buffered?.dueFor ?? null,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  });
}

export function toRecord(state: ScheduleState): ScheduleRecord {
  const { overrides } = state.settings;
  // JSON has no Infinity: unlimited retries are stored as null.
  const storedOverrides =
    overrides.maxRetries === Number.POSITIVE_INFINITY
      ? { ...overrides, maxRetries: null }
      : overrides;
  return {
    id: state.id,
    kind: state.kind,
    paused: state.paused,
    nextRunAt: state.nextRunAt,
    lastRunAt: state.lastRunAt,
    runCount: state.runCount,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    spec: {
      version: SPEC_VERSION,
      settings: { ...state.settings, overrides: storedOverrides },
      skippedCount: state.skippedCount,
      missedCount: state.missedCount,
      activeInstanceIds: [...state.activeInstanceIds],
      buffered: state.buffered,
    },
  };
}

/** Reads a stored schedule back; a StoreError (ERR_STORE_CORRUPT) names one it cannot read. */
export function fromRecord(record: ScheduleRecord, defaultTimezone: string): ScheduleState {
  try {
    return decode(record, defaultTimezone);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const message = `schedule "${record.id}" in the store cannot be read: ${why}`;
    throw new StoreError(message, { cause, code: 'ERR_STORE_CORRUPT' });
  }
}

function decode(record: ScheduleRecord, defaultTimezone: string): ScheduleState {
  const { spec } = record;
  if (spec.version !== SPEC_VERSION) throw new Error(`unknown spec version ${spec.version}`);
  const stored = spec.settings as ScheduleSettings;
  const overrides = { ...stored.overrides };
  if (overrides.maxRetries === null) overrides.maxRetries = Number.POSITIVE_INFINITY;

  const options = settingsToDefinition(record.kind, { ...stored, overrides });
  const context = { defaultTimezone, nowMs: record.createdAt, hasKind: () => true };
  const { settings, rule } = resolveSchedule(options, context);
  return {
    id: record.id,
    kind: record.kind,
    paused: record.paused,
    settings,
    rule,
    nextRunAt: record.nextRunAt,
    lastRunAt: record.lastRunAt,
    runCount: count(record.runCount),
    skippedCount: count(spec.skippedCount),
    missedCount: count(spec.missedCount),
    activeInstanceIds: ids(spec.activeInstanceIds),
    buffered: plannedRun(spec.buffered),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

function count(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new Error('bad counter');
  return value as number;
}

function ids(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
    throw new Error('bad activeInstanceIds');
  }
  return [...value];
}

function plannedRun(value: unknown): PlannedRun | null {
  if (value === null || value === undefined) return null;
  const run = value as PlannedRun;
  if (!Number.isFinite(run.dueFor) || typeof run.catchUp !== 'boolean') {
    throw new Error('bad buffered run');
  }
  return { dueFor: run.dueFor, catchUp: run.catchUp };
}
