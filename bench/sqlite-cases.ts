/**
 * What the SQLite benchmark measures, one function per figure; `bench/sqlite.ts` runs them
 * and writes the results. Every manager runs the trivial executor on the machine's cores.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  JobManager,
  type JobManagerOptions,
  SqliteStore,
  type Store,
  type StoreWrite,
} from '../src/index.js';
import { percentile } from './sqlite-stats.js';

export const TRIVIAL = fileURLToPath(new URL('./sqlite-trivial.js', import.meta.url));

export async function startManager(options: JobManagerOptions): Promise<JobManager> {
  const manager = new JobManager(options);
  manager.register({ kind: 'trivial', module: TRIVIAL });
  await manager.start();
  return manager;
}

export interface BatchRun {
  /** Instances a second, from the first `schedule()` until all are in history. */
  rate: number;
  /** CPU time of the main thread per instance, in µs, or null where it cannot be read. */
  mainUs: number | null;
}

/** Schedules `count` trivial instances at once and waits until all are in history. */
export async function runBatch(manager: JobManager, count: number): Promise<BatchRun> {
  const cpuBefore = mainThreadCpuMs();
  const started = performance.now();
  for (let n = 0; n < count; n++) manager.schedule('trivial', { n });
  await manager.onIdle();
  // onIdle resolves once nothing is live; the last changes may still be on their way.
  await manager.flushHistory();
  const rate = (count * 1_000) / (performance.now() - started);
  const cpuAfter = mainThreadCpuMs();
  const mainUs =
    cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1_000) / count;
  return { rate, mainUs };
}

/**
 * CPU time of the calling thread (user and system), in ms, from /proc/thread-self/stat on
 * Linux (clock ticks of 10 ms: a run of a second reads to about 1%); null elsewhere. Unlike
 * wall time, it does not grow when other processes take the cores.
 */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Instances a second and main-thread CPU per instance (µs), run by run, of one case. */
export interface CaseRuns {
  rates: number[];
  mainUs: number[];
}

export interface ThroughputRuns {
  /** The memory store, with its defaults (10,000 finished instances kept). */
  memory: CaseRuns;
  /** A SQLite file with its defaults (100,000 kept: never reached here). */
  sqlite: CaseRuns;
  /** A SQLite file kept at 10,000 finished instances, as the memory store: pruning as it goes. */
  pruning: CaseRuns;
  /** SQLite's rates over the memory store's, round by round. */
  ratio: number[];
  pruningRatio: number[];
}

/**
 * Trivial-job throughput with the memory store and with SQLite files. The cases take turns
 * within each round (who goes first rotates every round), so a slow spell of a shared
 * machine hits all of them, and the ratios are taken within the round.
 */
export async function throughput(
  dir: string,
  tasks: number,
  warmupRounds: number,
  rounds: number,
): Promise<ThroughputRuns> {
  const pruningStore = new SqliteStore({ path: join(dir, 'pruning.db'), maxFinished: 10_000 });
  const managers = [
    await startManager({}),
    await startManager({ database: join(dir, 'throughput.db') }),
    await startManager({ store: pruningStore }),
  ];
  const cases = managers.map((): CaseRuns => ({ rates: [], mainUs: [] }));
  try {
    for (let round = 0; round < warmupRounds + rounds; round++) {
      const runs = new Map<number, BatchRun>();
      for (let turn = 0; turn < managers.length; turn++) {
        const which = (round + turn) % managers.length;
        runs.set(which, await runBatch(managers[which] as JobManager, tasks));
      }
      if (round < warmupRounds) continue;
      for (const [which, run] of runs) {
        cases[which]?.rates.push(run.rate);
        if (run.mainUs !== null) cases[which]?.mainUs.push(run.mainUs);
      }
    }
  } finally {
    await Promise.all(managers.map((manager) => manager.stop()));
  }
  const [memory, sqlite, pruning] = cases as [CaseRuns, CaseRuns, CaseRuns];
  const over = (top: CaseRuns) => top.rates.map((rate, i) => rate / (memory.rates[i] ?? NaN));
  return { memory, sqlite, pruning, ratio: over(sqlite), pruningRatio: over(pruning) };
}

export interface Amplification {
  /** The file's size after the store closed (which checkpoints), per finished instance. */
  fileBytes: number;
  /** Bytes the process handed to write(2) while running and closing, per instance. */
  writtenBytes: number | null;
}

/** Runs `count` trivial instances on a new file, stops, and weighs the file. */
export async function writeAmplification(file: string, count: number): Promise<Amplification> {
  const writtenBefore = writtenBytes();
  const manager = await startManager({ database: file });
  await runBatch(manager, count);
  await manager.stop();
  const writtenAfter = writtenBytes();

  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    fileBytes: statSync(file).size / count,
    writtenBytes:
      writtenBefore === null || writtenAfter === null
        ? null
        : (writtenAfter - writtenBefore) / count,
  };
}

/** `wchar` of /proc/self/io (Linux): bytes passed to write(2) and its kin, or null. */
function writtenBytes(): number | null {
  try {
    const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export interface StreamFigures {
  /** Event-loop delay while the stream ran, ms: how late a timer could be. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** From `instance:completed` to the end of the store write holding the final state, ms. */
  visibleP50Ms: number;
  visibleP99Ms: number;
  visibleMaxMs: number;
  /** A write batch's round trip to the store (its transaction runs on the store's thread), ms. */
  batchP99Ms: number;
  batchMaxMs: number;
  batches: number;
  /** Bytes handed to write(2) per instance (WAL frames and checkpoints), or null. */
  writtenBytes: number | null;
}

/**
 * A steady stream of trivial instances, `perSecond` for `seconds`, scheduled in slices every
 * 10 ms, as a service would see them. Measures the event loop's delay, how long after an
 * instance completed its final state was in the store, and how long each store write took.
 */
export async function stream(
  store: Store,
  perSecond: number,
  seconds: number,
): Promise<StreamFigures> {
  const tracker = new WriteTracker();
  const tracked = await startManager({ store: tracker.wrap(store) });
  const completedAt = new Map<string, number>();
  tracked.on('instance:completed', (e) => completedAt.set(e.id, performance.now()));

  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const writtenBefore = writtenBytes();
  const slice = Math.max(1, Math.round(perSecond / 100));
  let n = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (let i = 0; i < slice; i++) tracked.schedule('trivial', { n: n++ });
      if (n >= perSecond * seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  await tracked.onIdle();
  loop.disable();
  const writtenAfter = writtenBytes();
  await tracked.stop();

  const visible = [...completedAt].map(([id, at]) => (tracker.storedAt.get(id) ?? Infinity) - at);
  visible.sort((a, b) => a - b);
  const batches = [...tracker.durations].sort((a, b) => a - b);
  return {
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    loopDelayMaxMs: loop.max / 1e6,
    visibleP50Ms: percentile(visible, 0.5),
    visibleP99Ms: percentile(visible, 0.99),
    visibleMaxMs: visible.at(-1) ?? Number.NaN,
    batchP99Ms: percentile(batches, 0.99),
    batchMaxMs: batches.at(-1) ?? Number.NaN,
    batches: batches.length,
    writtenBytes:
      writtenBefore === null || writtenAfter === null ? null : (writtenAfter - writtenBefore) / n,
  };
}

/** Wraps a store to time its write batches and note when each final state was stored. */
class WriteTracker {
  readonly durations: number[] = [];
  readonly storedAt = new Map<string, number>();

  wrap(store: Store): Store {
    const write = async (batch: readonly StoreWrite[]) => {
      const started = performance.now();
      await store.write(batch);
      const ended = performance.now();
      this.durations.push(ended - started);
      for (const change of batch) {
        if (change.op === 'update' && change.patch.finishedAt !== undefined) {
          this.storedAt.set(change.id, ended);
        }
      }
    };
    return new Proxy(store, {
      get(target, key) {
        if (key === 'write') return write;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}
