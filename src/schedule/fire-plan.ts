/**
 * What one fire of a schedule does, as a pure function of its rule, its missed-run policy and
 * the time: which runs to make (each with the time it was due for), which runs were missed,
 * and when the next run is due.
 *
 * A fire is on time when the timer ran no more than `lateToleranceMs` after its fire time and
 * no later run has fallen due meanwhile: then it makes the one run it was armed for. Otherwise
 * (the runner was stopped, or the event loop was blocked) every run due from the armed one up
 * to now is a missed run, and the missed-run policy picks which of them still run, as catch-up
 * runs. Either way the next run is the rule's first run after the last one accounted for, so
 * late fires never shift the schedule.
 */

import { countRuns, latestRuns, nextRunAfter, type ScheduleRule } from './rule.js';
import type { MissedRunPolicy } from './schedule-definition.js';

/** Counting missed cron runs walks them one by one; past this many the count is a floor. */
export const MISSED_COUNT_LIMIT = 1_000;

export interface PlannedRun {
  /** The time the run was due for, ms since the epoch. */
  dueFor: number;
  /** True when it runs late, under the missed-run policy. */
  catchUp: boolean;
}

export interface MissedRuns {
  /** How many runs were not made; a floor when `countCapped`. */
  count: number;
  countCapped: boolean;
  firstDueFor: number;
  lastDueFor: number;
}

export interface FirePlan {
  runs: PlannedRun[];
  missed: MissedRuns | null;
  /** The next run after this fire, or null when the rule has no more. */
  nextRunAt: number | null;
}

export interface FireInput {
  rule: ScheduleRule;
  policy: { missed: MissedRunPolicy; maxCatchUp: number; missedGraceMs: number };
  /** The run the timer was armed for. */
  dueAt: number;
  /** When the timer was meant to go off: `dueAt` plus any jitter. */
  fireAt: number;
  nowMs: number;
  lateToleranceMs: number;
  /** Runs the schedule may still make under `maxRuns` (Infinity when unlimited). */
  runsLeft: number;
}

export function planFire(input: FireInput): FirePlan {
  const { rule, dueAt, fireAt, nowMs } = input;
  const following = nextRunAfter(rule, dueAt);
  const onTime = nowMs - fireAt <= input.lateToleranceMs;
  if (onTime && (following === null || following > nowMs)) {
    return { runs: [{ dueFor: dueAt, catchUp: false }], missed: null, nextRunAt: following };
  }
  return planCatchUp(input);
}

function planCatchUp(input: FireInput): FirePlan {
  const { rule, policy, dueAt, nowMs } = input;
  const graceFrom = Math.max(dueAt, nowMs - policy.missedGraceMs);
  const runs = latestRuns(rule, graceFrom, nowMs, catchUpCount(input)).map((dueFor) => ({
    dueFor,
    catchUp: true,
  }));
  return {
    runs,
    missed: missedBefore(input, runs[0]?.dueFor),
    nextRunAt: nextRunAfter(rule, nowMs),
  };
}

function catchUpCount({ policy, runsLeft }: FireInput): number {
  const wanted = { skip: 0, once: 1, all: policy.maxCatchUp }[policy.missed];
  return Math.min(wanted, runsLeft);
}

/** The runs due from `dueAt` up to the first catch-up run (or up to now when none runs). */
function missedBefore(input: FireInput, firstRun: number | undefined): MissedRuns | null {
  const { rule, dueAt, nowMs } = input;
  const until = firstRun === undefined ? nowMs : firstRun - 1;
  const count = countRuns(rule, dueAt, until, MISSED_COUNT_LIMIT);
  const lastDueFor = latestRuns(rule, dueAt, until, 1)[0];
  if (count === 0 || lastDueFor === undefined) return null;
  return { count, countCapped: count === MISSED_COUNT_LIMIT, firstDueFor: dueAt, lastDueFor };
}
