import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { JobManager } from '../src/index.js';
import { startManager } from './managers.js';
import { seededRandom } from './random.js';
import { type Case, type RoundsOptions, runRounds } from './rounds.js';
import { quantile, summarize } from './stats.js';
import { formats, row, type SectionResult, targetText } from './table.js';

export interface DelayPrecisionOptions extends RoundsOptions {
  threads: number;
  /** Delayed instances per run. */
  delayed: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** How long the CPU backlog keeps every thread busy, in ms (longer than `maxDelayMs`). */
  busyMs: number;
  /** CPU time of one backlog job, in ms. */
  backlogJobMs: number;
  /** Hash rounds per ms of CPU, from the calibration. */
  roundsPerMs: number;
}

const SECTION = 'delay precision';
const TARGET_P99_MS = 5;

interface RunFigures {
  p50: number;
  p99: number;
  max: number;
  /** The same figures for bare `setTimeout` timers armed beside the instances. */
  timerP50: number;
  timerP99: number;
  timerMax: number;
  /** Share of the run the main thread's event loop was busy, 0..1. */
  mainBusy: number;
  /** The longest garbage-collection pause during the run, in ms. */
  longestGcMs: number;
  /** Delayed instances that became due while others waited, so every thread was full. */
  dueWhileBusy: number;
  lateness: number[];
}

/**
 * Lateness of delayed instances while every thread is busy with CPU work: the moment an
 * instance becomes due and enters the ready queue (its `queued` transition, timed with
 * `performance.now()` in the event listener) minus the due time the manager stored for it.
 * The moment it starts running is not measured: a busy pool cannot start it, by design.
 *
 * Beside each instance a bare `setTimeout` with the same delay is armed in the same process:
 * its lateness is what Node and the operating system add on this machine under this load, the
 * floor under jobloom's own figure.
 */
export async function measureDelayPrecision(
  options: DelayPrecisionOptions,
): Promise<SectionResult> {
  const manager = await startManager(['hash', 'trivial'], { concurrency: options.threads });
  const runs: RunFigures[] = [];
  const cases: Case[] = [
    {
      name: 'delays',
      run: async () => void runs.push(await oneRun(manager, options, runs.length)),
    },
  ];
  try {
    await runRounds(cases, options);
  } finally {
    await manager.stop();
  }
  return report(runs.slice(options.warmupRounds), options);
}

async function oneRun(
  manager: JobManager,
  options: DelayPrecisionOptions,
  seed: number,
): Promise<RunFigures> {
  const clock = preciseEpochClock();
  const queuedAt = new Map<string, number>();
  let dueWhileBusy = 0;
  const off = manager.on('instance:state', (event) => {
    if (event.state !== 'queued' || event.kind !== 'trivial') return;
    queuedAt.set(event.id, clock());
    // Others still wait in the ready queue only when no thread has room for another attempt.
    if (manager.stats().queued > 0) dueWhileBusy++;
  });
  const watch = watchMainThread();

  scheduleBacklog(manager, options);
  const timerLateness: number[] = [];
  const ids = scheduleDelayed(manager, options, seed, timerLateness);
  await manager.onIdle();
  off();
  while (timerLateness.length < ids.length) await sleep(10);
  const main = watch();

  const lateness = await latenessOf(manager, ids, queuedAt);
  return {
    p50: quantile(lateness, 0.5),
    p99: quantile(lateness, 0.99),
    max: Math.max(...lateness),
    timerP50: quantile(timerLateness, 0.5),
    timerP99: quantile(timerLateness, 0.99),
    timerMax: Math.max(...timerLateness),
    ...main,
    dueWhileBusy,
    lateness,
  };
}

/** Each instance's queued time minus the due time the store holds for it, in ms. */
async function latenessOf(
  manager: JobManager,
  ids: string[],
  queuedAt: Map<string, number>,
): Promise<number[]> {
  const lateness: number[] = [];
  for (const id of ids) {
    const record = await manager.getInstance(id);
    const at = queuedAt.get(id);
    if (record === undefined || at === undefined) throw new Error(`instance ${id} was not queued`);
    lateness.push(at - record.dueAt);
  }
  return lateness;
}

/**
 * Starts watching the main thread; the function returned stops and tells how busy its event
 * loop was and the longest GC pause. Timers late while the loop was mostly idle and no pause
 * was long were late because the process did not get a CPU.
 */
function watchMainThread(): () => { mainBusy: number; longestGcMs: number } {
  const before = performance.eventLoopUtilization();
  let longestGcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longestGcMs = Math.max(longestGcMs, entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    return { mainBusy: performance.eventLoopUtilization(before).utilization, longestGcMs };
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU jobs enough to keep every thread busy for `busyMs`. */
function scheduleBacklog(manager: JobManager, options: DelayPrecisionOptions): void {
  const jobs = Math.ceil((options.threads * options.busyMs) / options.backlogJobMs);
  const rounds = Math.max(1, Math.round(options.roundsPerMs * options.backlogJobMs));
  for (let n = 0; n < jobs; n++) manager.schedule('hash', { rounds, seed: String(n) });
}

/** Schedules the delayed instances, each with a bare timer of the same delay beside it. */
function scheduleDelayed(
  manager: JobManager,
  options: DelayPrecisionOptions,
  seed: number,
  timerLateness: number[],
): string[] {
  const random = seededRandom(seed + 1);
  const spanMs = options.maxDelayMs - options.minDelayMs;
  const ids: string[] = [];
  for (let n = 0; n < options.delayed; n++) {
    const delayMs = options.minDelayMs + Math.round(random() * spanMs);
    ids.push(manager.schedule('trivial', { n }, { delayMs }).id);
    const dueMs = performance.now() + delayMs;
    setTimeout(() => timerLateness.push(performance.now() - dueMs), delayMs);
  }
  return ids;
}

/**
 * Epoch time with sub-millisecond resolution: `performance.now()` anchored at the instant
 * `Date.now()` ticks over, so it compares fairly with the whole-ms due times jobloom stores.
 */
function preciseEpochClock(): () => number {
  const first = Date.now();
  let epochMs = first;
  while (epochMs === first) epochMs = Date.now();
  const anchorMs = performance.now();
  return () => epochMs + (performance.now() - anchorMs);
}

function report(runs: RunFigures[], options: DelayPrecisionOptions): SectionResult {
  const p99 = summarize(runs.map((r) => r.p99));
  const all = runs.flatMap((r) => r.lateness);
  const pooledP99 = quantile(all, 0.99);
  const met = p99.median < TARGET_P99_MS;
  const busy = runs.reduce((sum, r) => sum + r.dueWhileBusy, 0);
  const s = SECTION;
  const what = `${options.delayed} delays of ${options.minDelayMs}-${options.maxDelayMs} ms`;

  return {
    rows: [
      row(s, `lateness p50, ${what}, pool busy`, summarize(runs.map((r) => r.p50)), formats.ms),
      row(s, 'lateness p99 (due → queued)', p99, formats.ms, targetText('< 5 ms', met)),
      row(s, 'lateness max', summarize(runs.map((r) => r.max)), formats.ms),
      row(s, 'bare setTimeout beside it, p50', summarize(runs.map((r) => r.timerP50)), formats.ms),
      row(s, 'bare setTimeout beside it, p99', summarize(runs.map((r) => r.timerP99)), formats.ms),
      row(s, 'bare setTimeout beside it, max', summarize(runs.map((r) => r.timerMax)), formats.ms),
      row(
        s,
        'main thread busy during a run',
        summarize(runs.map((r) => r.mainBusy)),
        formats.percent,
      ),
      row(s, 'longest GC pause in a run', summarize(runs.map((r) => r.longestGcMs)), formats.ms),
    ],
    raw: {
      measured:
        'queued transition time (performance.now, in the event listener) minus stored dueAt',
      delayedPerRun: options.delayed,
      busyMs: options.busyMs,
      backlogJobMs: options.backlogJobMs,
      dueWhileEveryThreadBusy: `${busy} of ${all.length}`,
      pooledP99Ms: pooledP99,
      perRun: runs.map(({ lateness: _lateness, ...figures }) => figures),
    },
    targets: { 'delay lateness p99 < 5 ms': met },
  };
}
