import { Bench } from 'tinybench';

/** One thing to measure: `run` does the whole batch once; its wall time is the sample. */
export interface Case {
  name: string;
  run: () => Promise<void>;
}

export interface RoundsOptions {
  /** Rounds run first and thrown away: threads start, modules load, the JIT settles. */
  warmupRounds: number;
  /** Rounds measured. */
  rounds: number;
  /** Told after each round, for a line of progress. */
  onRound?: (round: number, total: number, warmup: boolean) => void;
  /** A run that takes longer fails the bench instead of hanging it, in ms. Default 120,000. */
  caseTimeoutMs?: number;
}

const DEFAULT_CASE_TIMEOUT_MS = 120_000;

/**
 * Runs every case once per round, in tinybench, and returns each case's wall time per measured
 * round, in ms. Cases take turns within a round (the order flips every round) rather than each
 * running all its iterations in a row: on a noisy virtual machine a slow spell then hits every
 * case alike, so the ratios of figures taken in the same round stay fair.
 */
export async function runRounds(
  cases: readonly Case[],
  options: RoundsOptions,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const total = options.warmupRounds + options.rounds;

  for (let round = 0; round < total; round++) {
    const warmup = round < options.warmupRounds;
    const ordered = round % 2 === 0 ? cases : [...cases].reverse();
    const bench = new Bench({ iterations: 1, time: 0, warmup: false, throws: true });
    const timeoutMs = options.caseTimeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
    for (const c of ordered) bench.add(c.name, () => withTimeout(c, timeoutMs), { async: true });
    await bench.run();

    if (!warmup) {
      for (const task of bench.tasks) samples.get(task.name)?.push(wallMsOf(task.result));
    }
    options.onRound?.(round + 1, total, warmup);
  }
  return samples;
}

function withTimeout(c: Case, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${c.name}: a run took over ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([c.run(), expired]).finally(() => clearTimeout(timer));
}

function wallMsOf(result: { state: string; latency?: { mean: number } }): number {
  if (result.state !== 'completed' || result.latency === undefined) {
    throw new Error(`a benchmark case did not complete (state ${result.state})`);
  }
  return result.latency.mean;
}
