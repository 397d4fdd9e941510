/**
 * Waits, without using the CPU: for the demonstration, and for tests and benchmarks that need
 * a thread held for a while. An abort ends the wait at once and fails the attempt with the
 * abort's reason, so a timeout or a cancel does not have to terminate the thread.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { ExecutorContextApi } from '../src/executor.js';

export interface SleepArgs {
  /** How long to wait, in ms. */
  ms: number;
}

export interface SleepResult {
  sleptMs: number;
}

export default async function sleep(
  args: SleepArgs,
  ctx: ExecutorContextApi,
): Promise<SleepResult> {
  const startedMs = performance.now();
  try {
    await wait(args.ms, undefined, { signal: ctx.signal });
  } catch (error) {
    throw ctx.signal.aborted ? ctx.signal.reason : error;
  }
  return { sleptMs: Math.round(performance.now() - startedMs) };
}
