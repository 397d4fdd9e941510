import { hashInput, hashRounds } from '../workers/hash.js';
import { runBatch, startManager } from './managers.js';
import { PlainThreads } from './plain-pool.js';
import { type Case, type RoundsOptions, runRounds } from './rounds.js';
import { pairwise, summarize } from './stats.js';
import { formats, row, type SectionResult, targetText } from './table.js';

export interface CpuScalingOptions extends RoundsOptions {
  /** Hash jobs per run. */
  jobs: number;
  /** Rounds of SHA-256 per job (calibrated to about 10 ms). */
  roundsPerJob: number;
}

const SECTION = 'CPU-heavy scaling';
const TARGET = 0.95;

/**
 * How many hash rounds take about `jobMs` on this machine, timed on the main thread: the
 * fastest of a few tries, so a slow spell of the VM does not inflate the jobs.
 */
export function calibrateRounds(jobMs: number): number {
  const input = hashInput('calibrate', 1_024);
  const probe = 500;
  let fastestMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 7; i++) {
    const startedMs = performance.now();
    hashRounds(input, probe);
    fastestMs = Math.min(fastestMs, performance.now() - startedMs);
  }
  return Math.max(1, Math.round((probe * jobMs) / fastestMs));
}

/**
 * The same hash jobs through jobloom on 2 threads and on 1, beside the ceiling: plain threads
 * each running its share in one loop with no messages, on 2 and on 1. Jobloom's speedup is
 * divided by the ceiling's, round by round.
 */
export async function measureCpuScaling(options: CpuScalingOptions): Promise<SectionResult> {
  const { jobs, roundsPerJob: rounds } = options;
  const two = await startManager(['hash'], { concurrency: 2 });
  const one = await startManager(['hash'], { concurrency: 1 });
  const plainTwo = await PlainThreads.start(2);
  const plainOne = await PlainThreads.start(1);
  const argsOf = (n: number) => ({ rounds, seed: String(n) });

  const cases: Case[] = [
    { name: 'jobloom-2', run: () => runBatch(two, 'hash', jobs, argsOf) },
    { name: 'jobloom-1', run: () => runBatch(one, 'hash', jobs, argsOf) },
    { name: 'plain-2', run: () => plainTwo.hash(jobs, rounds) },
    { name: 'plain-1', run: () => plainOne.hash(jobs, rounds) },
  ];
  try {
    return report(await runRounds(cases, options), options);
  } finally {
    await Promise.all([two.stop(), one.stop(), plainTwo.close(), plainOne.close()]);
  }
}

function report(wallMs: Map<string, number[]>, options: CpuScalingOptions): SectionResult {
  const ms = (name: string) => wallMs.get(name) ?? [];
  const speedup = pairwise(ms('jobloom-1'), ms('jobloom-2'));
  const ceiling = pairwise(ms('plain-1'), ms('plain-2'));
  const ofCeiling = summarize(pairwise(speedup, ceiling));
  const met = ofCeiling.median >= TARGET;
  const s = SECTION;

  return {
    rows: [
      row(
        s,
        `jobloom, 1 thread, ${options.jobs} jobs`,
        summarize(ms('jobloom-1')),
        formats.seconds,
      ),
      row(s, 'jobloom, 2 threads', summarize(ms('jobloom-2')), formats.seconds),
      row(s, 'jobloom speedup, 2 vs 1', summarize(speedup), formats.speedup),
      row(s, 'ceiling: plain threads, one loop, 1', summarize(ms('plain-1')), formats.seconds),
      row(s, 'ceiling: plain threads, one loop, 2', summarize(ms('plain-2')), formats.seconds),
      row(s, 'ceiling speedup, 2 vs 1', summarize(ceiling), formats.speedup),
      row(s, 'jobloom speedup / ceiling', ofCeiling, formats.ratio, targetText('≥ 0.95', met)),
    ],
    raw: {
      jobs: options.jobs,
      roundsPerJob: options.roundsPerJob,
      wallMs: Object.fromEntries(wallMs),
      speedup,
      ceilingSpeedup: ceiling,
    },
    targets: { 'CPU speedup vs ceiling ≥ 0.95': met },
  };
}
