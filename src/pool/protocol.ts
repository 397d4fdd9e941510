import type { MessagePort } from 'node:worker_threads';
import type { LogLevel, SerializedError } from '../types.js';

/**
 * The messages between the main thread and a thread of the pool.
 *
 * Three channels, each ordered on its own:
 * - Piscina's task channel carries a batch of AttemptTasks in; the task ends when the batch
 *   has run;
 * - a control channel carries ControlMessages in (abort an attempt) and an OutcomeMessage out
 *   as each attempt ends;
 * - a comlink channel carries the executor's calls to the main thread (HostApi): log lines
 *   and progress.
 *
 * Messages on different channels can overtake each other, so an outcome says how many host
 * calls its attempt made, and the main thread holds the outcome until it has received that
 * many. That is what keeps every log line ahead of the verdict.
 */

export interface AttemptTask {
  /** Identifies this attempt on its thread and in host calls. */
  key: number;
  /** File URL of the worker module and the export that holds the executor. */
  moduleUrl: string;
  exportName: string;
  instanceId: string;
  kind: string;
  attempt: number;
  args: unknown;
}

export type AttemptOutcome =
  | { ok: true; value: unknown; hostCalls: number }
  | {
      ok: false;
      error: SerializedError;
      /** The executor threw DoNotRetryError, or it could not be loaded. */
      doNotRetry: boolean;
      /** The attempt's signal was aborted before it ended. */
      aborted: boolean;
      hostCalls: number;
    };

/** An attempt ended: its outcome, and how long it ran on the thread. */
export interface OutcomeMessage {
  key: number;
  outcome: AttemptOutcome;
  runMs: number;
}

export interface ControlMessage {
  type: 'abort';
  key: number;
  reason: 'timeout' | 'cancel';
}

/** What a thread sends once at start-up, through Piscina's message event. */
export interface ThreadHello {
  jobloomThread: true;
  threadId: number;
  hostPort: MessagePort;
  controlPort: MessagePort;
}

/** A log line or a progress report, as an executor made it. */
export type HostEntry =
  | { type: 'log'; level: LogLevel; message: string; data: unknown; at: number }
  | { type: 'progress'; value: unknown; at: number };

/** The main thread's side of the executor's calls: entries of one attempt, in order. */
export interface HostApi {
  report(key: number, entries: readonly HostEntry[]): void;
}

export function isThreadHello(message: unknown): message is ThreadHello {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as Partial<ThreadHello>).jobloomThread === true
  );
}
