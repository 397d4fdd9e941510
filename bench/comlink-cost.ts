import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import type { JobManager } from '../src/index.js';
import { runBatch, startManager } from './managers.js';
import { type Case, type RoundsOptions, runRounds } from './rounds.js';
import { pairwise, summarize } from './stats.js';
import { formats, row, type SectionResult } from './table.js';

export interface ComlinkCostOptions extends RoundsOptions {
  threads: number;
  /** Instances per run. */
  instances: number;
  /** Log lines each instance writes in the logging case. */
  lines: number;
}

const SECTION = 'comlink cost';

/**
 * What log lines cost: trivial instances that write `lines` lines each against ones that write
 * none, through the same manager. A line travels from the thread to the main thread over
 * comlink and into the store; the extra main-thread time is read from the event loop's
 * utilisation (time the main thread was busy), per line.
 */
export async function measureComlinkCost(options: ComlinkCostOptions): Promise<SectionResult> {
  const manager = await startManager(['trivial'], { concurrency: options.threads });
  const busyMs = { silent: [] as number[], logging: [] as number[] };
  const timed = (lines: number, into: number[]) => () =>
    busyWhile(manager, options.instances, lines, into);

  const cases: Case[] = [
    { name: 'silent', run: timed(0, busyMs.silent) },
    { name: 'logging', run: timed(options.lines, busyMs.logging) },
  ];
  try {
    const wallMs = await runRounds(cases, options);
    const skip = options.warmupRounds;
    return report(wallMs, busyMs.silent.slice(skip), busyMs.logging.slice(skip), options);
  } finally {
    await manager.stop();
  }
}

async function busyWhile(
  manager: JobManager,
  instances: number,
  lines: number,
  into: number[],
): Promise<void> {
  const before: EventLoopUtilization = performance.eventLoopUtilization();
  await runBatch(manager, 'trivial', instances, (n) => ({ n, logLines: lines }));
  into.push(performance.eventLoopUtilization(before).active);
}

function report(
  wallMs: Map<string, number[]>,
  silentBusyMs: number[],
  loggingBusyMs: number[],
  options: ComlinkCostOptions,
): SectionResult {
  const rate = (name: string) =>
    (wallMs.get(name) ?? []).map((ms) => (options.instances * 1000) / ms);
  const silent = rate('silent');
  const logging = rate('logging');
  const totalLines = options.instances * options.lines;
  const perLine = (a: number, b: number) => ((a - b) * 1000) / totalLines;
  const busyPerLine = summarize(pairwise(loggingBusyMs, silentBusyMs, perLine));
  const wallPerLine = summarize(
    pairwise(wallMs.get('logging') ?? [], wallMs.get('silent') ?? [], perLine),
  );
  const s = SECTION;

  return {
    rows: [
      row(
        s,
        `jobloom, no log lines, ${options.instances.toLocaleString('en-US')} instances`,
        summarize(silent),
        formats.rate,
      ),
      row(s, `jobloom, ${options.lines} log lines per instance`, summarize(logging), formats.rate),
      row(
        s,
        'throughput with lines / without',
        summarize(pairwise(logging, silent)),
        formats.ratio,
      ),
      row(s, 'extra main-thread busy time per line', busyPerLine, formats.micros),
      row(s, 'extra wall time per line', wallPerLine, formats.micros),
    ],
    raw: {
      instances: options.instances,
      linesPerInstance: options.lines,
      instancesPerSecond: { silent, logging },
      mainThreadBusyMs: { silent: silentBusyMs, logging: loggingBusyMs },
    },
    targets: {},
  };
}
