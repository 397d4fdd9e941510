/**
 * What a caller gives to create or change a schedule, and the checked, storable form of it.
 * Every check runs before anything is created: a bad option is an InvalidOptionError whose
 * `path` names the field (`schedule.cron`, `schedule.timezone`, …).
 */

import { InvalidOptionError, UnknownKindError } from '../errors.js';
import { Priority } from '../types.js';
import {
  checkDurationMs,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
  optional,
} from '../validate/options.js';
import { parseRule, RULE_OPTION_KEYS, type RuleOptions, type ScheduleRule } from './rule.js';

export const OVERLAP_POLICIES = ['allow', 'skip', 'bufferOne', 'cancelPrevious'] as const;

/**
 * What a fire does while an instance the schedule created earlier is still active (created,
 * scheduled, queued or running): `allow` creates another; `skip` creates none and records the
 * skip; `bufferOne` holds one fire and creates it when the active instances have finished,
 * skipping (and recording) any fire while one is held; `cancelPrevious` cancels the active
 * instances, then creates the new one.
 */
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const MISSED_RUN_POLICIES = ['skip', 'once', 'all'] as const;

/**
 * What happens to runs that fell due while the schedule could not fire on time (the runner
 * was stopped, or the event loop was blocked past the late tolerance): `skip` runs none of
 * them; `once` runs the latest one; `all` runs the latest `maxCatchUp` of them, oldest first.
 * Only runs due within `missedGraceMs` of the time they are found can run; every run not made
 * is recorded as missed.
 */
export type MissedRunPolicy = (typeof MISSED_RUN_POLICIES)[number];

/** Per-schedule values for the instances it creates; an absent one takes the job's default. */
export interface InstanceOverrides {
  /** Lower runs first: 0 (HIGHEST) to 10 (LOWEST). */
  priority?: number;
  /** Per-attempt timeout in ms (at least 1), or null for none. */
  timeoutMs?: number | null;
  /** Retries after the first attempt: an integer >= 0, or `Infinity`. */
  maxRetries?: number;
}

export interface ScheduleDefinition extends RuleOptions, InstanceOverrides {
  /** The schedule's id. Default: a random UUID. Must not be taken by another schedule. */
  id?: string;
  /** The job whose instances the schedule creates; it must be registered. Required. */
  kind: string;
  /** The arguments of every instance it creates. Default undefined. */
  args?: unknown;
  /** See OverlapPolicy. Default `allow`, as cron does. */
  overlap?: OverlapPolicy;
  /** See MissedRunPolicy. Default `once`. */
  missed?: MissedRunPolicy;
  /** With `missed: 'all'`, the most catch-up runs made at once: 1 to 1,000. Default 10. */
  maxCatchUp?: number;
  /** How old, in ms, a missed run may be and still be caught up. Default 86,400,000 (1 day). */
  missedGraceMs?: number;
  /** Create the schedule paused: it fires only after `resume`. Default false. */
  paused?: boolean;
}

/**
 * A change to a schedule: the fields given replace the current ones. Giving `cron` or
 * `intervalMs` replaces the whole rule (and its anchor). `null` clears an optional field, back
 * to its default; `timeoutMs: null` keeps its meaning of no timeout.
 */
export type ScheduleUpdate = {
  [K in Exclude<keyof ScheduleDefinition, 'id'>]?: ScheduleDefinition[K] | null;
};

/**
 * The checked settings of a schedule, defaults filled in, in the form a store keeps (times in
 * ms, no Dates, null for none). Each field means what it means in ScheduleDefinition.
 */
export interface ScheduleSettings {
  args?: unknown;
  cron: string | null;
  intervalMs: number | null;
  /** For intervals, the resolved anchor; null for cron rules. */
  anchorAt: number | null;
  timezone: string;
  startAt: number | null;
  endAt: number | null;
  maxRuns: number | null;
  jitterMs: number;
  overlap: OverlapPolicy;
  missed: MissedRunPolicy;
  maxCatchUp: number;
  missedGraceMs: number;
  overrides: InstanceOverrides;
}

export interface ResolveContext {
  defaultTimezone: string;
  /** Now, ms since the epoch: the default anchor of an interval. */
  nowMs: number;
  hasKind(kind: string): boolean;
}

export interface ResolvedSchedule {
  id: string | null;
  kind: string;
  paused: boolean;
  settings: ScheduleSettings;
  rule: ScheduleRule;
}

export const DEFAULT_MAX_CATCH_UP = 10;
/** Catch-up runs are found by walking back from now; this bounds that walk at each fire. */
export const MAX_CATCH_UP = 1_000;
export const DEFAULT_MISSED_GRACE_MS = 86_400_000;

const SCHEDULE_KEYS = [
  'id',
  'kind',
  'args',
  ...RULE_OPTION_KEYS,
  'overlap',
  'missed',
  'maxCatchUp',
  'missedGraceMs',
  'priority',
  'timeoutMs',
  'maxRetries',
  'paused',
];

/** Checks schedule options and resolves defaults; throws before anything is created. */
export function resolveSchedule(input: unknown, context: ResolveContext): ResolvedSchedule {
  const options = checkObject(input, 'schedule');
  checkKnownKeys(options, SCHEDULE_KEYS, 'schedule');
  const id = optional(options.id, null, (v) => checkString(v, 'schedule.id'));
  const kind = checkString(options.kind, 'schedule.kind');
  if (!context.hasKind(kind)) throw new UnknownKindError(kind);

  const rule = parseRule(options as RuleOptions, {
    defaultTimezone: context.defaultTimezone,
    createdAt: context.nowMs,
  });
  const settings: ScheduleSettings = {
    cron: options.cron === undefined ? null : (options.cron as string),
    intervalMs: options.intervalMs === undefined ? null : rule.intervalMs,
    anchorAt: rule.anchorAt,
    timezone: rule.timezone,
    startAt: rule.startAt,
    endAt: rule.endAt,
    maxRuns: rule.maxRuns,
    jitterMs: rule.jitterMs,
    ...resolvePolicies(options),
    overrides: resolveOverrides(options),
  };
  if (options.args !== undefined) settings.args = options.args;
  const paused = optional(options.paused, false, (v) => checkBoolean(v, 'schedule.paused'));
  return { id, kind, paused, settings, rule };
}

/** The options that would create a schedule with these settings, to merge an update into. */
export function settingsToDefinition(kind: string, settings: ScheduleSettings): ScheduleDefinition {
  const options: Record<string, unknown> = { kind, ...settings.overrides };
  for (const [key, value] of Object.entries(settings)) {
    if (key !== 'overrides' && value !== null && value !== undefined) options[key] = value;
  }
  return options as unknown as ScheduleDefinition;
}

/** Applies an update to the options of a schedule; see ScheduleUpdate. */
export function mergeUpdate(current: ScheduleDefinition, update: unknown): Record<string, unknown> {
  const patch = checkObject(update, 'schedule');
  if ('id' in patch) throw new InvalidOptionError('schedule.id', 'no id in an update', patch.id);
  const merged: Record<string, unknown> = { ...current };
  if (patch.cron !== undefined || patch.intervalMs !== undefined) {
    delete merged.cron;
    delete merged.intervalMs;
    delete merged.anchorAt;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null && key !== 'timeoutMs') delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** True when two settings name the same run times, so a change keeps the next run. */
export function sameRule(a: ScheduleSettings, b: ScheduleSettings): boolean {
  const key = (s: ScheduleSettings) =>
    JSON.stringify([s.cron, s.intervalMs, s.anchorAt, s.timezone, s.startAt, s.endAt, s.maxRuns]);
  return key(a) === key(b);
}

function resolvePolicies(options: Record<string, unknown>) {
  return {
    overlap: optional(options.overlap, 'allow' as OverlapPolicy, (v) =>
      checkOneOf(v, 'schedule.overlap', OVERLAP_POLICIES),
    ),
    missed: optional(options.missed, 'once' as MissedRunPolicy, (v) =>
      checkOneOf(v, 'schedule.missed', MISSED_RUN_POLICIES),
    ),
    maxCatchUp: optional(options.maxCatchUp, DEFAULT_MAX_CATCH_UP, (v) =>
      checkInteger(v, 'schedule.maxCatchUp', { min: 1, max: MAX_CATCH_UP }),
    ),
    missedGraceMs: optional(options.missedGraceMs, DEFAULT_MISSED_GRACE_MS, (v) =>
      checkDurationMs(v, 'schedule.missedGraceMs'),
    ),
  };
}

function resolveOverrides(options: Record<string, unknown>): InstanceOverrides {
  const overrides: InstanceOverrides = {};
  if (options.priority !== undefined) {
    const bounds = { min: Priority.HIGHEST, max: Priority.LOWEST };
    overrides.priority = checkInteger(options.priority, 'schedule.priority', bounds);
  }
  if (options.timeoutMs !== undefined) {
    const { timeoutMs } = options;
    overrides.timeoutMs =
      timeoutMs === null ? null : checkDurationMs(timeoutMs, 'schedule.timeoutMs', 1);
  }
  if (options.maxRetries !== undefined) {
    const { maxRetries } = options;
    overrides.maxRetries =
      maxRetries === Number.POSITIVE_INFINITY
        ? maxRetries
        : checkInteger(maxRetries, 'schedule.maxRetries', { min: 0 });
  }
  return overrides;
}

function checkBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(path, 'true or false', value);
  return value;
}
