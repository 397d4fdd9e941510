import type { BackoffPolicy, InstanceRecord, InstanceState } from '../types.js';
import type { Job, JobHandlers } from './job-registry.js';

/**
 * An instance the manager is working on, from acceptance to its final state. The store holds
 * the record of truth; this is the manager's own working copy, dropped once the instance ends.
 */
export interface LiveInstance {
  readonly id: string;
  readonly job: Job;
  readonly args: unknown;
  readonly priority: number;
  readonly timeoutMs: number | null;
  readonly maxRetries: number;
  readonly backoff: BackoffPolicy;
  readonly handlers: JobHandlers;
  readonly createdAt: number;
  state: InstanceState;
  /** Attempts started so far. */
  attempt: number;
  /** When the next attempt is due, ms since the epoch. */
  dueAt: number;
  /** When the latest attempt started. */
  startedAt?: number;
  /** Set when someone asked for the result: settled once the final state is in the store. */
  waiter?: ResultWaiter;
  /** Set once cancel was asked for, with the reason. */
  cancelReason?: string;
  /** Where a schedule created it. */
  origin?: { scheduleId: string; dueFor: number; catchUp: boolean };
}

export interface ResultWaiter {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export function createWaiter(): ResultWaiter {
  let resolve!: (value: unknown) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The store's record of a newly accepted instance. */
export function toRecord(live: LiveInstance): InstanceRecord {
  const record: InstanceRecord = {
    id: live.id,
    kind: live.job.kind,
    args: live.args,
    priority: live.priority,
    state: live.state,
    attempt: live.attempt,
    maxRetries: live.maxRetries,
    timeoutMs: live.timeoutMs,
    backoff: live.backoff,
    createdAt: live.createdAt,
    dueAt: live.dueAt,
    updatedAt: live.createdAt,
    startedAt: null,
    finishedAt: null,
  };
  if (live.origin) {
    record.scheduleId = live.origin.scheduleId;
    record.dueFor = live.origin.dueFor;
    record.catchUp = live.origin.catchUp;
  }
  return record;
}
