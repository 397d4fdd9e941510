import type { Spread } from './figures.js';
import type { Recommendation } from './recommend.js';

/**
 * What `runBench()` returns: every raw figure, the summaries per pool size, and the
 * recommendation. It is plain data, written as is by `jobloom bench --json`.
 *
 * Times are in ms. Per instance, **run time** is from its `running` transition to its final
 * one, and **queue wait** from `queued` to `running`, both taken from its state history. All
 * instances of a run are scheduled at once, so queue wait mostly measures the backlog ahead of
 * each instance; run time is what one attempt takes on a thread.
 */
export interface BenchReport {
  kind: string;
  folder: string;
  /** Instances per run. */
  instances: number;
  /** How many different argument samples the instances used in turn. */
  samples: number;
  warmupRuns: number;
  runs: number;
  machine: { cores: number; cpuModel: string; node: string; platform: string };
  /** When the benchmark started, ISO 8601. */
  startedAt: string;
  /** One entry per pool size, from 1 up. */
  sizes: SizeFigures[];
  recommendation: Recommendation;
  /** Warnings about the figures, in words (for example: runs too short to trust). */
  notes: string[];
}

/** The figures of one measured run at one pool size. */
export interface RunFigures {
  /** From the first `schedule()` to the last result, in ms. */
  wallMs: number;
  /** Instances completed per second over `wallMs`. */
  throughput: number;
  runMs: Percentiles;
  queueWaitMs: Percentiles;
  /** The highest resident set size sampled during the run, in bytes (see `SizeFigures`). */
  peakRssBytes: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
}

/** The runs at one pool size, summarised: each figure as the median over runs, with its spread. */
export interface SizeFigures {
  size: number;
  runs: RunFigures[];
  throughput: Spread;
  runMsP50: Spread;
  runMsP99: Spread;
  queueWaitMsP50: Spread;
  queueWaitMsP99: Spread;
  /**
   * Peak resident set size of the whole process (main thread, every worker thread and the
   * memory store), sampled during the measured runs. Threads share the process's memory, so
   * this is what the pool costs the machine, not one thread's share.
   */
  peakRssBytes: Spread;
  /** Median throughput here over median throughput with one thread. */
  speedup: number;
  /** Speedup divided by the pool size: 1 means every added thread added a full thread's work. */
  efficiency: number;
}

/** Where a benchmark is, for a progress bar. */
export interface BenchProgress {
  /** Pool size being measured, and the largest that will be. */
  size: number;
  maxSize: number;
  /** Run at this size, from 1, counting warm-up runs, and runs per size in all. */
  run: number;
  runsPerSize: number;
  warmup: boolean;
  /** Instances finished in this run, out of `instances`. */
  done: number;
  instances: number;
  /** Instances finished in the whole benchmark, out of `total`. */
  doneTotal: number;
  total: number;
}
