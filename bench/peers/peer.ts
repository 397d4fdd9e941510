import type { PeerPayload, PeerResult } from './tasks.js';

/** The two workloads every peer runs. */
export interface Workload {
  name: 'trivial' | 'cpu';
  /** SHA-256 rounds per job; 0 for trivial. */
  rounds: number;
}

/**
 * One system under test, started for one workload with the configuration its docs recommend
 * for throughput, in a fresh queue or schema of its own that `close()` removes.
 */
export interface Peer {
  /** Enqueues every payload (in bulk where the peer can) and resolves when all are done. */
  run(payloads: readonly PeerPayload[]): Promise<PeerResult[]>;
  /**
   * After `run`: waits until the peer's own records show every job finished, for peers whose
   * workers write completions without waiting for them. Not timed; its CPU is counted.
   */
  settle?(): Promise<void>;
  /** Server processes doing this peer's work (Redis, its PostgreSQL backends), for CPU time. */
  serverPids(): Promise<number[]>;
  close(): Promise<void>;
}

/** What the benchmark knows about a peer before starting it. */
export interface PeerSpec {
  name: string;
  /** The configuration, in words, for the table. */
  config: (workload: Workload) => string;
  /** Why it cannot run here, or undefined when it can. */
  unavailable: () => Promise<string | undefined>;
  start: (workload: Workload) => Promise<Peer>;
}

/** Results of jobs that finish elsewhere (a worker's event, a handler), matched by `seq`. */
export class Completions {
  readonly #waiting = new Map<
    number,
    { resolve: (r: PeerResult) => void; reject: (e: unknown) => void }
  >();
  readonly #started = new Map<number, number>();

  /** A promise for the result of job `seq`. */
  expect(seq: number): Promise<PeerResult> {
    return new Promise((resolve, reject) => this.#waiting.set(seq, { resolve, reject }));
  }

  /** Notes a job's start, for peers whose completion signal does not carry the result. */
  started(result: PeerResult): void {
    this.#started.set(result.seq, result.startedAt);
  }

  /** Job `seq` is done; its result is `result`, or the start noted earlier. */
  done(seq: number, result?: PeerResult): void {
    const startedAt = result?.startedAt ?? this.#started.get(seq);
    this.#started.delete(seq);
    const waiting = this.#waiting.get(seq);
    this.#waiting.delete(seq);
    if (waiting && startedAt !== undefined) waiting.resolve({ seq, startedAt });
  }

  /** A job failed: every job still awaited fails with it, so the benchmark stops. */
  failAll(error: unknown): void {
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}

/** Splits `items` into arrays of at most `size`, for bulk enqueue calls. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size));
  return out;
}
