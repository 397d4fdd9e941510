/**
 * The work every peer runs, in whatever thread or process it runs jobs: note when the job
 * started, then either nothing (the trivial workload) or `rounds` rounds of chained SHA-256
 * (the CPU-heavy one, calibrated to about 10 ms). The start time comes back with the result,
 * so enqueue-to-start latency is measured the same way for every peer.
 *
 * The default export is the jobloom executor and the Piscina task; Bree, BullMQ's sandbox and
 * the in-process peers call `runTask` through their own small entry files.
 */
import { hashInput, hashRounds } from '../../workers/hash.js';

export interface PeerPayload {
  /** Which job of the batch this is. */
  seq: number;
  /** When it was handed to the peer, in ms since the epoch with sub-ms precision. */
  enqueuedAt: number;
  /** SHA-256 rounds to run; 0 for the trivial workload. */
  rounds: number;
}

export interface PeerResult {
  seq: number;
  /** When the job's code began, same clock as `enqueuedAt`. */
  startedAt: number;
}

/** Milliseconds since the epoch, sub-ms, comparable across the threads of one process. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

const INPUT = hashInput('jobloom-peers', 1_024);

export function runTask(payload: PeerPayload): PeerResult {
  const startedAt = preciseNow();
  if (payload.rounds > 0) hashRounds(INPUT, payload.rounds);
  return { seq: payload.seq, startedAt };
}

export default runTask;
