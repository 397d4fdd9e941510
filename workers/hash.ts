/**
 * A CPU-heavy executor: chained SHA-256 over a buffer, for a number of rounds or for roughly
 * a number of milliseconds. Used by the demonstration and the CPU benchmark.
 *
 * The work runs in chunks. Between chunks the executor checks its signal and, every
 * `yieldEveryMs`, lets the thread's event loop turn: an abort reaches a thread as a message,
 * and a loop that never yields would never see it.
 */
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ExecutorContextApi } from '../src/executor.js';

export interface HashArgs {
  /** Rounds of SHA-256 to run. Give this or `ms`; with neither, 1,000 rounds. */
  rounds?: number;
  /** Hash until roughly this much time has passed, in ms (wall time on the thread). */
  ms?: number;
  /** Bytes of input hashed in every round besides the previous digest. Default 1,024. */
  bytes?: number;
  /** Makes the digest differ between instances. Default `jobloom`. */
  seed?: string;
  /** How many progress reports to send over the run; 0 sends none. Default 0. */
  progressSteps?: number;
  /** How often to let the thread's event loop turn, so an abort can arrive, in ms. Default 10. */
  yieldEveryMs?: number;
}

export interface HashResult {
  /** The first 16 hex digits of the final digest. */
  digest: string;
  rounds: number;
  elapsedMs: number;
}

const DEFAULT_ROUNDS = 1_000;
const DEFAULT_BYTES = 1_024;
const DEFAULT_YIELD_EVERY_MS = 10;
/** Rounds between two looks at the clock and the signal: about 0.1-0.3 ms of work here. */
const CHUNK_ROUNDS = 64;

/** The input every round hashes besides the previous digest: `bytes` bytes derived from `seed`. */
export function hashInput(seed: string, bytes: number): Buffer {
  const input = Buffer.alloc(bytes);
  const block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < bytes; at += block.length) block.copy(input, at);
  return input;
}

/** Runs `rounds` chained rounds from `digest`; each hashes the previous digest and `input`. */
export function hashRounds(input: Buffer, rounds: number, digest: Buffer = EMPTY): Buffer {
  let current = digest;
  for (let i = 0; i < rounds; i++) {
    current = createHash('sha256').update(current).update(input).digest();
  }
  return current;
}

const EMPTY = Buffer.alloc(0);

export default async function hash(args: HashArgs, ctx: ExecutorContextApi): Promise<HashResult> {
  const startedMs = performance.now();
  const input = hashInput(args.seed ?? 'jobloom', args.bytes ?? DEFAULT_BYTES);
  const plan = planOf(args);
  const yieldEveryMs = args.yieldEveryMs ?? DEFAULT_YIELD_EVERY_MS;
  const reporter = progressReporter(ctx, args.progressSteps ?? 0);

  let digest: Buffer = EMPTY;
  let rounds = 0;
  let yieldedMs = startedMs;
  while (!plan.done(rounds, performance.now() - startedMs)) {
    if (performance.now() - yieldedMs >= yieldEveryMs) {
      await nextTurn();
      yieldedMs = performance.now();
    }
    ctx.signal.throwIfAborted();

    const chunk = plan.chunk(rounds);
    digest = hashRounds(input, chunk, digest);
    rounds += chunk;
    reporter(plan.fraction(rounds, performance.now() - startedMs), rounds);
  }
  const elapsedMs = Math.round((performance.now() - startedMs) * 10) / 10;
  return { digest: digest.toString('hex').slice(0, 16), rounds, elapsedMs };
}

interface Plan {
  done(rounds: number, elapsedMs: number): boolean;
  chunk(rounds: number): number;
  fraction(rounds: number, elapsedMs: number): number;
}

/** Either a fixed number of rounds or a time budget; rounds win when both are given. */
function planOf(args: HashArgs): Plan {
  if (args.rounds === undefined && args.ms !== undefined) {
    const ms = args.ms;
    return {
      done: (_rounds, elapsedMs) => elapsedMs >= ms,
      chunk: () => CHUNK_ROUNDS,
      fraction: (_rounds, elapsedMs) => Math.min(1, elapsedMs / ms),
    };
  }
  const total = args.rounds ?? DEFAULT_ROUNDS;
  return {
    done: (rounds) => rounds >= total,
    chunk: (rounds) => Math.min(CHUNK_ROUNDS, total - rounds),
    fraction: (rounds) => (total === 0 ? 1 : rounds / total),
  };
}

/** Reports progress each time another 1/`steps` of the work is done; the last report is 1. */
function progressReporter(
  ctx: ExecutorContextApi,
  steps: number,
): (fraction: number, rounds: number) => void {
  if (steps <= 0) return () => {};
  let reported = 0;
  return (fraction, rounds) => {
    const step = Math.floor(fraction * steps);
    if (step <= reported) return;
    reported = step;
    ctx.progress({ fraction: step / steps, rounds });
  };
}
