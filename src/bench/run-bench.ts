import { arch, availableParallelism, cpus, platform } from 'node:os';
import { type Clock, systemClock } from '../clock.js';
import { ExecutorError, JobloomError } from '../errors.js';
import { JobManager } from '../manager/job-manager.js';
import type { StateTransition } from '../types.js';
import {
  type BenchOptions,
  type ResolvedBenchOptions,
  resolveBenchOptions,
} from './bench-options.js';
import type {
  BenchProgress,
  BenchReport,
  Percentiles,
  RunFigures,
  SizeFigures,
} from './bench-report.js';
import { quantile, spreadOf } from './figures.js';
import { recommendPoolSize } from './recommend.js';
import { RssSampler } from './rss-sampler.js';

/**
 * The clock of every manager the benchmark starts: the system's timers, with a sub-millisecond
 * `now()`. State history takes its times from the manager's clock, and a 1 ms resolution would
 * round most run times and queue waits of a quick executor to 0 or 1.
 */
const preciseClock: Clock = {
  ...systemClock,
  now: () => performance.timeOrigin + performance.now(),
};

/** Runs shorter than this are mostly start-up and timer noise; the report says so. */
const SHORT_RUN_MS = 200;
const PROGRESS_EVERY_MS = 100;

/**
 * Measures one executor at pool sizes 1 to `maxThreads`: at each size, a fresh JobManager
 * (memory store, default prefetch) runs warm-up runs and then measured runs, each scheduling
 * every instance at once and waiting for all results. Figures per instance come from its
 * state history. Resolves with the report; rejects at the first instance that fails, with an
 * ExecutorError whose cause is the instance's own error.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const o = resolveBenchOptions(options);
  const startedAt = new Date().toISOString();
  const progress = new ProgressTracker(o);

  const sizes: SizeFigures[] = [];
  for (let size = 1; size <= o.maxThreads; size++) {
    const runs = await measureSize(o, size, progress);
    sizes.push(summarizeSize(size, runs, sizes[0]));
  }

  const points = sizes.map((s) => ({ size: s.size, throughput: s.throughput.median }));
  return {
    kind: o.kind,
    folder: o.folder,
    instances: o.instances,
    samples: o.samples.length,
    warmupRuns: o.warmupRuns,
    runs: o.runs,
    machine: machine(),
    startedAt,
    sizes,
    recommendation: recommendPoolSize(points, o.tolerance),
    notes: notesOn(sizes),
  };
}

/** One pool size: a manager of its own, so threads and history of other sizes do not count. */
async function measureSize(
  o: ResolvedBenchOptions,
  size: number,
  progress: ProgressTracker,
): Promise<RunFigures[]> {
  const manager = new JobManager({ concurrency: size, clock: preciseClock });
  const sampler = new RssSampler(o.rssSampleMs);
  const runs: RunFigures[] = [];
  try {
    // Started before registering: a manager that was never started cannot be stopped (its
    // history flush waits on a store that was never opened), and its threads already run.
    await manager.start();
    manager.registerFolder(o.folder);
    for (let run = 1; run <= o.warmupRuns + o.runs; run++) {
      const warmup = run <= o.warmupRuns;
      progress.beginRun(size, run, warmup);
      sampler.start();
      const figures = await measureRun(manager, o, progress);
      const peakRssBytes = sampler.stop();
      if (!warmup) runs.push({ ...figures, peakRssBytes });
    }
  } finally {
    sampler.stop();
    await manager.stop({ mode: 'cancel' });
  }
  return runs;
}

async function measureRun(
  manager: JobManager,
  o: ResolvedBenchOptions,
  progress: ProgressTracker,
): Promise<Omit<RunFigures, 'peakRssBytes'>> {
  const startedMs = performance.now();
  const results: Promise<void>[] = [];
  for (let i = 0; i < o.instances; i++) {
    const handle = manager.schedule(o.kind, o.samples[i % o.samples.length]);
    results.push(handle.result.then(() => progress.instanceDone()));
  }
  try {
    await Promise.all(results);
  } catch (error) {
    throw failed(o.kind, error);
  }
  const wallMs = performance.now() - startedMs;

  await manager.flushHistory();
  const timings = timingsOf(await manager.lookupInstanceHistory({ kind: o.kind }));
  await manager.clearInstanceHistory({ finishedBefore: Number.MAX_SAFE_INTEGER });
  return {
    wallMs,
    throughput: (o.instances * 1000) / wallMs,
    runMs: percentiles(timings.runMs),
    queueWaitMs: percentiles(timings.queueWaitMs),
  };
}

/** Run time and queue wait of every instance, from its `queued`, `running` and final entries. */
function timingsOf(history: readonly StateTransition[]): {
  runMs: number[];
  queueWaitMs: number[];
} {
  const byInstance = new Map<string, { queued?: number; running?: number; ended?: number }>();
  for (const entry of history) {
    let times = byInstance.get(entry.instanceId);
    if (!times) {
      times = {};
      byInstance.set(entry.instanceId, times);
    }
    if (entry.state === 'queued') times.queued = entry.at;
    else if (entry.state === 'running') times.running = entry.at;
    else if (entry.state === 'completed') times.ended = entry.at;
  }

  const runMs: number[] = [];
  const queueWaitMs: number[] = [];
  for (const { queued, running, ended } of byInstance.values()) {
    if (queued === undefined || running === undefined || ended === undefined) continue;
    runMs.push(ended - running);
    queueWaitMs.push(running - queued);
  }
  return { runMs, queueWaitMs };
}

function percentiles(values: readonly number[]): Percentiles {
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
}

function summarizeSize(
  size: number,
  runs: RunFigures[],
  one: SizeFigures | undefined,
): SizeFigures {
  const throughput = spreadOf(runs.map((r) => r.throughput));
  const speedup = one ? throughput.median / one.throughput.median : 1;
  return {
    size,
    runs,
    throughput,
    runMsP50: spreadOf(runs.map((r) => r.runMs.p50)),
    runMsP99: spreadOf(runs.map((r) => r.runMs.p99)),
    queueWaitMsP50: spreadOf(runs.map((r) => r.queueWaitMs.p50)),
    queueWaitMsP99: spreadOf(runs.map((r) => r.queueWaitMs.p99)),
    peakRssBytes: spreadOf(runs.map((r) => r.peakRssBytes)),
    speedup,
    efficiency: speedup / size,
  };
}

function notesOn(sizes: readonly SizeFigures[]): string[] {
  const notes: string[] = [];
  const oneThread = sizes[0]?.runs ?? [];
  if (oneThread.some((r) => r.wallMs < SHORT_RUN_MS)) {
    const ms = Math.round(Math.min(...oneThread.map((r) => r.wallMs)));
    notes.push(
      `runs with one thread took as little as ${ms} ms; runs under ${SHORT_RUN_MS} ms are dominated by start-up and timer noise, so raise the number of instances`,
    );
  }
  for (const size of sizes) {
    const { median, min, max } = size.throughput;
    if ((max - min) / median > 0.25) {
      notes.push(
        `throughput with ${size.size === 1 ? '1 thread' : `${size.size} threads`} varied by more than 25% between runs; the machine may be busy with other work`,
      );
    }
  }
  return notes;
}

function failed(kind: string, error: unknown): ExecutorError {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof JobloomError ? error.code : 'ERR_EXECUTOR_FAILED';
  return new ExecutorError(
    `an instance of "${kind}" failed, so the benchmark stopped: ${message}`,
    {
      cause: error,
      code,
    },
  );
}

function machine(): BenchReport['machine'] {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${arch()}`,
  };
}

/** Counts finished instances and tells `onProgress`, at most every 100 ms and at each run's end. */
class ProgressTracker {
  readonly #o: ResolvedBenchOptions;
  readonly #state: BenchProgress;
  #toldMs = 0;

  constructor(o: ResolvedBenchOptions) {
    this.#o = o;
    const runsPerSize = o.warmupRuns + o.runs;
    this.#state = {
      size: 1,
      maxSize: o.maxThreads,
      run: 0,
      runsPerSize,
      warmup: true,
      done: 0,
      instances: o.instances,
      doneTotal: 0,
      total: o.maxThreads * runsPerSize * o.instances,
    };
  }

  beginRun(size: number, run: number, warmup: boolean): void {
    Object.assign(this.#state, { size, run, warmup, done: 0 });
    this.#tell();
  }

  instanceDone(): void {
    this.#state.done++;
    this.#state.doneTotal++;
    const now = performance.now();
    if (this.#state.done === this.#state.instances || now - this.#toldMs >= PROGRESS_EVERY_MS) {
      this.#tell();
    }
  }

  #tell(): void {
    this.#toldMs = performance.now();
    this.#o.onProgress({ ...this.#state });
  }
}
