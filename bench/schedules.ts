/**
 * `npm run bench:schedules`: how late recurring schedules fire while every thread is busy.
 *
 * 1,000 schedules fire every second (all at the same instant: the worst case) for a minute
 * while each thread hashes without a break. Lateness is the time from when a run was due to
 * when its instance was created, as the `schedule:fired` event reports it. The main thread
 * never waits on executors, so a busy pool must not make fires late.
 *
 * Then the main-thread cost of one fire is measured alone: the same 1,000 schedules driven by
 * a fake clock, so the time measured is the runner's and the manager's own work per fire.
 *
 * JOBLOOM_BENCH_SECONDS shortens the live run (default 60).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Clock, JobManager, TimerHandle } from '../src/index.js';
import { MemoryStore, Priority } from '../src/index.js';
import { machineInfo, machineLine } from './machine.js';
import { startManager } from './managers.js';
import { quantile, summarize } from './stats.js';

const SCHEDULES = 1_000;
const SECONDS = Number(process.env.JOBLOOM_BENCH_SECONDS ?? 60);
const COST_ROUNDS = 7;
const COST_FIRES_PER_ROUND = 10;

async function main(): Promise<void> {
  const machine = machineInfo();
  console.log(`jobloom schedule bench · ${machineLine(machine)}`);
  const live = await measureLateness();
  const cost = await measureCostPerFire();
  const report = { machine, schedules: SCHEDULES, seconds: SECONDS, live, cost };
  write(report, renderMarkdown(report, machineLine(machine)));
}

interface Lateness {
  fires: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuJobsDone: number;
  threads: number;
}

async function measureLateness(): Promise<Lateness> {
  const threads = availableParallelism();
  const manager = await startManager(['hash', 'trivial'], { concurrency: threads });
  const stopFeeding = keepThreadsBusy(manager, threads * 2);

  for (let i = 0; i < SCHEDULES; i++) {
    await manager.schedules.create({ kind: 'trivial', args: { i }, cron: '* * * * * *' });
  }
  // Creating the schedules is setup, not firing: count only runs due after it has finished.
  const measuredFrom = Math.ceil((Date.now() + 1) / 1_000) * 1_000;
  const lateness: number[] = [];
  const worstBySecond = new Map<number, number>();
  manager.on('schedule:fired', (event) => {
    if (event.dueFor < measuredFrom) return;
    lateness.push(event.lateMs);
    worstBySecond.set(event.dueFor, Math.max(worstBySecond.get(event.dueFor) ?? 0, event.lateMs));
  });
  console.log(`${SCHEDULES} schedules every second for ${SECONDS} s on ${threads} busy threads…`);
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1_000));

  for (const schedule of manager.schedules.list()) await manager.schedules.pause(schedule.id);
  const cpuJobsDone = stopFeeding();
  if (process.env.JOBLOOM_BENCH_DEBUG) console.log([...worstBySecond.values()].join(' '));
  await manager.stop({ mode: 'cancel' });
  const result = {
    fires: lateness.length,
    p50Ms: quantile(lateness, 0.5),
    p99Ms: quantile(lateness, 0.99),
    maxMs: Math.max(...lateness),
    cpuJobsDone,
    threads,
  };
  console.log(
    `fires ${result.fires}, lateness p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, max ${result.maxMs.toFixed(2)} ms (target p99 < 10 ms: ${result.p99Ms < 10 ? 'met' : 'MISSED'})`,
  );
  return result;
}

/** Keeps `depth` CPU-heavy instances queued or running at all times; returns a stop function. */
function keepThreadsBusy(manager: JobManager, depth: number): () => number {
  let feeding = true;
  let done = 0;
  const feed = () => {
    if (!feeding) return;
    const handle = manager.schedule('hash', { ms: 50 }, { priority: Priority.LOW });
    handle.result.then(
      () => {
        done++;
        feed();
      },
      () => {},
    );
  };
  for (let i = 0; i < depth; i++) feed();
  return () => {
    feeding = false;
    return done;
  };
}

interface CostPerFire {
  /** Main-thread µs per fire, median over rounds, with the spread. */
  medianUs: number;
  minUs: number;
  maxUs: number;
}

/** A clock whose timers run only when the bench advances it: measures work, not waiting. */
class SteppedClock implements Clock {
  #now = Date.UTC(2026, 0, 1);
  #timers = new Map<number, { at: number; run: () => void }>();
  #next = 1;

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + delayMs, run: callback });
    return { unref: () => undefined, id } as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete((handle as { id: number }).id);
  }

  advance(ms: number): void {
    this.#now += ms;
    for (const [id, timer] of [...this.#timers]) {
      if (timer.at <= this.#now && this.#timers.delete(id)) timer.run();
    }
  }
}

async function measureCostPerFire(): Promise<CostPerFire> {
  const clock = new SteppedClock();
  const manager = await startManager(['trivial'], {
    concurrency: 1,
    clock,
    store: new MemoryStore({ clock, maxFinished: 1_000 }),
  });
  for (let i = 0; i < SCHEDULES; i++) {
    await manager.schedules.create({ kind: 'trivial', args: { i }, intervalMs: 1_000 });
  }
  const perFireUs: number[] = [];
  for (let round = 0; round < COST_ROUNDS + 1; round++) {
    const started = process.hrtime.bigint();
    for (let fire = 0; fire < COST_FIRES_PER_ROUND; fire++) clock.advance(1_000);
    const elapsedUs = Number(process.hrtime.bigint() - started) / 1_000;
    if (round > 0) perFireUs.push(elapsedUs / (COST_FIRES_PER_ROUND * SCHEDULES));
    await manager.onIdle();
  }
  await manager.stop({ mode: 'cancel' });
  const summary = summarize(perFireUs);
  console.log(
    `main-thread cost per fire: ${summary.median.toFixed(1)} µs (min ${summary.min.toFixed(1)}, max ${summary.max.toFixed(1)}, ${COST_ROUNDS} rounds)`,
  );
  return { medianUs: summary.median, minUs: summary.min, maxUs: summary.max };
}

function renderMarkdown(
  report: { live: Lateness; cost: CostPerFire; seconds: number },
  machine: string,
): string {
  const { live, cost } = report;
  return [
    `Schedules (\`npm run bench:schedules\`) · ${machine}`,
    '',
    '| measure | value |',
    '| --- | ---: |',
    `| fires (${SCHEDULES} schedules × ${report.seconds} s, ${live.threads} threads busy hashing) | ${live.fires} |`,
    `| fire lateness p50 / p99 / max | ${live.p50Ms.toFixed(2)} / ${live.p99Ms.toFixed(2)} / ${live.maxMs.toFixed(2)} ms |`,
    `| target p99 < 10 ms | ${live.p99Ms < 10 ? 'met' : 'missed'} |`,
    `| main-thread cost per fire (median, min–max of ${COST_ROUNDS} rounds) | ${cost.medianUs.toFixed(1)} µs (${cost.minUs.toFixed(1)}–${cost.maxUs.toFixed(1)}) |`,
    '',
  ].join('\n');
}

function write(report: object, markdown: string): void {
  const folder = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(folder, { recursive: true });
  writeFileSync(`${folder}schedules.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${folder}schedules.md`, markdown);
  console.log(`wrote ${folder}schedules.json and schedules.md`);
}

await main();
