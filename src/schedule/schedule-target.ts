/**
 * The seam between the schedule runner and the job manager. The runner decides when a
 * schedule fires and what each fire does; the manager, through this interface, owns the
 * instances: it knows the registered kinds, creates and enqueues instances, and tracks their
 * state. The runner never touches the queue, the pool or instance records directly.
 */

import type { InstanceOverrides } from './schedule-definition.js';

/** What an instance created by a schedule records about where it came from. */
export interface ScheduleFireMeta {
  scheduleId: string;
  /** The time the run was due for, ms since the epoch (before any jitter). */
  dueFor: number;
  /** True for a run made late under the missed-run policy. */
  catchUp: boolean;
}

export interface ScheduleTarget {
  /** True when a job of this kind is registered. Checked when a schedule is created or changed. */
  hasKind(kind: string): boolean;

  /**
   * Throws the manager's own typed error (NotCloneableError, InvalidOptionError) when these
   * arguments or overrides could not be used for an instance of `kind`. Called when a schedule
   * is created or changed, so bad input stops there and not at the first fire. Optional.
   */
  checkInstance?(kind: string, args: unknown, overrides: InstanceOverrides): void;

  /**
   * Creates an instance and accepts it for running, with the schedule's arguments and
   * overrides and `meta` recorded on it (`InstanceRecord.scheduleId`, `dueFor`, `catchUp`).
   * Synchronous: it runs on the main thread at each fire and must stay O(log n); store writes
   * may complete later. A throw is reported as `schedule:error` and the run is not retried.
   */
  createInstance(
    kind: string,
    args: unknown,
    overrides: InstanceOverrides,
    meta: ScheduleFireMeta,
  ): { id: string };

  /** True while the instance is not in a final state (created, scheduled, queued or running). */
  isActive(instanceId: string): boolean;

  /** Cancels an active instance; used by the `cancelPrevious` overlap policy. */
  cancel(instanceId: string, reason: string): void;
}
