import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import {
  checkDurationMs,
  checkFunction,
  checkKnownKeys,
  checkObject,
  optional,
} from '../validate/options.js';
import { checkTimezone } from './rule.js';
import type { ScheduleEventSink } from './schedule-events.js';
import type { ScheduleTarget } from './schedule-target.js';

export interface ScheduleRunnerOptions {
  /**
   * Where schedules are kept (its schedule methods), and where `lastRuns` reads the instances
   * they created (`queryInstances`). Required; the runner does not open or close it.
   */
  store: Store;
  /** The job manager's side of the seam. Required. */
  target: ScheduleTarget;
  /** Reads the time and arms timers. Default: the system clock. */
  clock?: Clock;
  /** IANA timezone for cron expressions of schedules that name none. Default `UTC`. */
  defaultTimezone?: string;
  /** Receives `schedule:*` events. Default: none. */
  onEvent?: ScheduleEventSink;
  /** Logs start and stop (info), missed runs (warn) and failures (error). Default: none. */
  logger?: Logger;
  /**
   * How late, in ms, a timer may go off and still count as on time; a later fire is handled
   * by the missed-run policy. Default 1,000.
   */
  lateToleranceMs?: number;
  /** Random numbers in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Makes the id of a schedule created without one. Default `crypto.randomUUID`. */
  createId?: () => string;
}

export const DEFAULT_LATE_TOLERANCE_MS = 1_000;

const RUNNER_KEYS = [
  'store',
  'target',
  'clock',
  'defaultTimezone',
  'onEvent',
  'logger',
  'lateToleranceMs',
  'random',
  'createId',
];

const STORE_METHODS = [
  'saveSchedule',
  'getSchedule',
  'listSchedules',
  'deleteSchedule',
  'queryInstances',
];
const TARGET_METHODS = ['hasKind', 'createInstance', 'isActive', 'cancel'];
const CLOCK_METHODS = ['now', 'setTimeout', 'clearTimeout'];

/** The runner's options with defaults applied, checked before any timer exists. */
export interface RunnerSettings {
  defaultTimezone: string;
  lateToleranceMs: number;
}

export function checkRunnerOptions(input: unknown): RunnerSettings {
  const options = checkObject(input, 'options');
  checkKnownKeys(options, RUNNER_KEYS, 'options');
  checkMethods(options.store, 'options.store', STORE_METHODS);
  checkMethods(options.target, 'options.target', TARGET_METHODS);
  if (options.clock !== undefined) checkMethods(options.clock, 'options.clock', CLOCK_METHODS);
  for (const key of ['onEvent', 'random', 'createId'] as const) {
    if (options[key] !== undefined) checkFunction(options[key], `options.${key}`);
  }
  return {
    defaultTimezone: checkTimezone(options.defaultTimezone ?? 'UTC', 'options.defaultTimezone'),
    lateToleranceMs: optional(options.lateToleranceMs, DEFAULT_LATE_TOLERANCE_MS, (v) =>
      checkDurationMs(v, 'options.lateToleranceMs'),
    ),
  };
}

function checkMethods(value: unknown, path: string, methods: readonly string[]): void {
  const object = checkObject(value, path);
  for (const method of methods) checkFunction(object[method], `${path}.${method}`);
}
