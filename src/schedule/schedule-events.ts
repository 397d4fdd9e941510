/**
 * What the schedule runner announces, one object payload per event, colon-named like the
 * manager's own events so that the manager can forward them through its emitter unchanged.
 * Times are ms since the epoch.
 */

import type { MissedRunPolicy } from './schedule-definition.js';

interface ScheduleRef {
  scheduleId: string;
  kind: string;
}

export interface ScheduleEvents {
  /** A fire created an instance. `lateMs` is how long after its due time it was created. */
  'schedule:fired': ScheduleRef & {
    instanceId: string;
    dueFor: number;
    firedAt: number;
    lateMs: number;
    catchUp: boolean;
  };
  /**
   * A fire created no instance because of the overlap policy: `overlap` under `skip`,
   * `bufferFull` under `bufferOne` when a fire is already held.
   */
  'schedule:skipped': ScheduleRef & {
    dueFor: number;
    catchUp: boolean;
    reason: 'overlap' | 'bufferFull';
    activeInstanceIds: readonly string[];
  };
  /**
   * Runs that fell due while the schedule could not fire on time and were not made under the
   * missed-run policy (`stopped`: the runner was not running; `late`: the timer fired late).
   * `count` is a floor when `countCapped`.
   */
  'schedule:missed': ScheduleRef & {
    count: number;
    countCapped: boolean;
    firstDueFor: number;
    lastDueFor: number;
    policy: MissedRunPolicy;
    reason: 'stopped' | 'late';
  };
  /**
   * Something the runner could not do: create or cancel an instance, save the schedule, or
   * compute its next run (`fire`; the schedule then stops firing until it is updated).
   */
  'schedule:error': ScheduleRef & {
    during: 'createInstance' | 'cancel' | 'save' | 'fire';
    dueFor: number | null;
    error: unknown;
  };
}

export type ScheduleEventName = keyof ScheduleEvents;

/** Where the runner sends its events; it must not throw (a throw is caught and logged). */
export type ScheduleEventSink = <E extends ScheduleEventName>(
  event: E,
  payload: ScheduleEvents[E],
) => void;
