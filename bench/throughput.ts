import { Piscina } from 'piscina';
import { runBatch, startManager } from './managers.js';
import { workerModule } from './paths.js';
import { PlainThreads } from './plain-pool.js';
import { type Case, type RoundsOptions, runRounds } from './rounds.js';
import { pairwise, summarize } from './stats.js';
import { formats, row, type SectionResult, targetText } from './table.js';

export interface ThroughputOptions extends RoundsOptions {
  /** Trivial instances submitted at once in each run. */
  tasks: number;
  threads: number;
}

const SECTION = 'trivial-job throughput';
const TARGET = 0.7;

/**
 * Trivial jobs, all submitted at once: jobloom (memory store, history on) with its default
 * prefetch of 2 and with 1, raw Piscina with the same threads and its defaults, and plain
 * `worker_threads` with one message per task. Every pool lives across rounds, so each run
 * sees threads past V8's slowdown point (about 850 tasks per thread, see the baselines).
 */
export async function measureThroughput(options: ThroughputOptions): Promise<SectionResult> {
  const { tasks, threads } = options;
  const prefetch2 = await startManager(['trivial'], { concurrency: threads });
  const prefetch1 = await startManager(['trivial'], { concurrency: threads, prefetch: 1 });
  const piscina = new Piscina({
    filename: workerModule('trivial'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  const plain = await PlainThreads.start(threads);
  const argsOf = (n: number) => ({ n });

  const cases: Case[] = [
    { name: 'jobloom', run: () => runBatch(prefetch2, 'trivial', tasks, argsOf) },
    { name: 'jobloom-prefetch-1', run: () => runBatch(prefetch1, 'trivial', tasks, argsOf) },
    { name: 'piscina', run: () => runPiscina(piscina, tasks) },
    { name: 'plain', run: () => plain.trivial(tasks) },
  ];
  try {
    const wallMs = await runRounds(cases, options);
    return report(wallMs, tasks);
  } finally {
    await Promise.all([prefetch2.stop(), prefetch1.stop(), piscina.destroy(), plain.close()]);
  }
}

async function runPiscina(pool: Piscina, tasks: number): Promise<void> {
  const runs: Promise<unknown>[] = [];
  for (let n = 0; n < tasks; n++) runs.push(pool.run({ n }));
  await Promise.all(runs);
}

function report(wallMs: Map<string, number[]>, tasks: number): SectionResult {
  const rate = (name: string) => (wallMs.get(name) ?? []).map((ms) => (tasks * 1000) / ms);
  const jobloom = rate('jobloom');
  const prefetch1 = rate('jobloom-prefetch-1');
  const piscina = rate('piscina');
  const plain = rate('plain');
  const vsPiscina = summarize(pairwise(jobloom, piscina));
  const met = vsPiscina.median >= TARGET;
  const s = SECTION;
  const batch = `${tasks.toLocaleString('en-US')} at once`;

  return {
    rows: [
      row(s, `jobloom, prefetch 2 (default), ${batch}`, summarize(jobloom), formats.rate),
      row(s, 'jobloom, prefetch 1', summarize(prefetch1), formats.rate),
      row(s, 'raw Piscina, same threads, run() x N', summarize(piscina), formats.rate),
      row(s, 'plain worker_threads, 1 message/task', summarize(plain), formats.rate),
      row(s, 'jobloom / raw Piscina', vsPiscina, formats.ratio, targetText('≥ 0.70', met)),
      row(s, 'jobloom / plain worker_threads', summarize(pairwise(jobloom, plain)), formats.ratio),
      row(s, 'prefetch 1 / prefetch 2', summarize(pairwise(prefetch1, jobloom)), formats.ratio),
    ],
    raw: { tasks, tasksPerSecond: { jobloom, prefetch1, piscina, plain } },
    targets: { 'throughput vs Piscina ≥ 0.7': met },
  };
}
