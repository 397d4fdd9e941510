/**
 * `npm run demo`: jobloom's main job. A batch of CPU-heavy hash instances of mixed priorities,
 * with a few report instances that log and report progress, runs across the pool; the pool
 * grows half way through; a progress bar follows the manager's events; and a summary is read
 * back from history. Exits 1 if any instance did not complete.
 */
import { availableParallelism } from 'node:os';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { type JobManager, Priority } from '../src/index.js';
import { printSummary } from './demo-summary.js';
import { startManager } from './managers.js';
import { seededRandom } from './random.js';

const HASH_INSTANCES = 64;
const REPORT_INSTANCES = 6;
const TOTAL = HASH_INSTANCES + REPORT_INSTANCES;
/** Wall time each hash instance works for: 250-550 ms, 400 ms on average. */
const HASH_MIN_MS = 250;
const HASH_SPREAD_MS = 300;
const PRIORITIES = [Priority.HIGHEST, Priority.HIGH, Priority.DEFAULT, Priority.LOW];
const START_THREADS = 1;
const GROWN_THREADS = Math.max(2, availableParallelism());
const FINAL_STATES = new Set(['completed', 'failed', 'canceled', 'timed_out']);
const BAR_FORMAT = [
  '{bar} {value}/{total} done',
  'running {running} ({progress})',
  'queued {queued}',
  'threads {threads}',
  '{elapsed} s',
].join(' | ');

async function main(): Promise<void> {
  const hashMs = `${HASH_MIN_MS}-${HASH_MIN_MS + HASH_SPREAD_MS} ms`;
  console.log(`jobloom demo: ${HASH_INSTANCES} hash instances (${hashMs} of SHA-256 each,`);
  console.log(`  priorities ${PRIORITIES.join('/')}, lower first) and ${REPORT_INSTANCES} reports`);
  console.log(
    `  the pool starts with ${START_THREADS} thread, grows to ${GROWN_THREADS} half way\n`,
  );

  const manager = await startManager(['hash', 'report'], { concurrency: START_THREADS });
  const bars = new MultiBar(
    { format: BAR_FORMAT, hideCursor: true, noTTYOutput: true, notTTYSchedule: 2_000 },
    Presets.shades_classic,
  );
  const startedMs = performance.now();
  const progress = new BarProgress(manager, bars, startedMs);
  followEvents(manager, progress);

  scheduleBatch(manager);
  await manager.onIdle();
  const wallMs = performance.now() - startedMs;
  progress.refresh();
  bars.stop();

  await printSummary(manager, wallMs);
  const notCompleted = (await manager.queryInstances({})).filter((r) => r.state !== 'completed');
  await manager.stop();
  if (notCompleted.length > 0) {
    console.error(`\n${notCompleted.length} instances did not complete`);
    process.exitCode = 1;
  }
}

/** Reports first (they take the free thread while the batch queues), then the hash batch. */
function scheduleBatch(manager: JobManager): void {
  for (let n = 0; n < REPORT_INSTANCES; n++) {
    manager.schedule('report', { title: `report ${n + 1}`, steps: 5, stepMs: 60 });
  }
  const random = seededRandom(42);
  for (let n = 0; n < HASH_INSTANCES; n++) {
    const priority = PRIORITIES[Math.floor(random() * PRIORITIES.length)] ?? Priority.DEFAULT;
    const ms = HASH_MIN_MS + Math.round(random() * HASH_SPREAD_MS);
    manager.schedule('hash', { ms, seed: `demo ${n}`, progressSteps: 4 }, { priority });
  }
}

/** The bar and what it shows besides the count, kept up to date from the manager's events. */
class BarProgress {
  finished = 0;
  /** Running instances, each with the latest progress it reported, as text. */
  readonly running = new Map<string, string>();
  readonly bars: MultiBar;
  readonly #manager: JobManager;
  readonly #bar: SingleBar;
  readonly #startedMs: number;

  constructor(manager: JobManager, bars: MultiBar, startedMs: number) {
    this.#manager = manager;
    this.bars = bars;
    this.#startedMs = startedMs;
    this.#bar = bars.create(TOTAL, 0, this.#payload());
  }

  get elapsedSeconds(): string {
    return ((performance.now() - this.#startedMs) / 1000).toFixed(1);
  }

  refresh(): void {
    this.#bar.update(this.finished, this.#payload());
  }

  #payload(): Record<string, unknown> {
    const stats = this.#manager.stats();
    return {
      running: this.running.size,
      progress: [...this.running.values()].join(' ') || '-',
      queued: stats.queued,
      threads: stats.threads,
      elapsed: this.elapsedSeconds,
    };
  }
}

/** Feeds the bar from state changes and progress reports; grows the pool half way. */
function followEvents(manager: JobManager, progress: BarProgress): void {
  let grown = false;
  manager.on('instance:state', (event) => {
    if (event.state === 'running') progress.running.set(event.id, '0%');
    else progress.running.delete(event.id);
    if (FINAL_STATES.has(event.state)) progress.finished++;
    progress.refresh();

    if (grown || progress.finished < TOTAL / 2) return;
    grown = true;
    const when = `after ${progress.finished}/${TOTAL} finished, ${progress.elapsedSeconds} s`;
    progress.bars.log(`resizing the pool ${START_THREADS} → ${GROWN_THREADS} threads (${when})\n`);
    void manager.resize(GROWN_THREADS);
  });
  manager.on('instance:progress', (event) => {
    if (progress.running.has(event.id)) progress.running.set(event.id, progressText(event.value));
    progress.refresh();
  });
  manager.on('pool:resized', ({ size, threads }) => {
    progress.bars.log(`pool resized: ${size} threads asked for, ${threads} alive\n`);
  });
}

/** hash reports `{ fraction }`, report reports `{ done, total }`. */
function progressText(value: unknown): string {
  const v = value as { fraction?: number; done?: number; total?: number };
  if (typeof v?.fraction === 'number') return `${Math.round(v.fraction * 100)}%`;
  if (typeof v?.done === 'number') return `${v.done}/${v.total}`;
  return '?';
}

await main();
