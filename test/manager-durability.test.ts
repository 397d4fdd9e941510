/**
 * A manager on a SQLite file (`database`), as a user runs it: what survives a restart, what
 * recovery does after the process was killed with SIGKILL (in a child process, see
 * fixtures/crash-child.ts), how soon history is in the file, retention, and faults.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isFinalState,
  JobManager,
  type JobManagerOptions,
  SqliteStore,
  type Store,
  StoreError,
  type StoreWrite,
} from '../src/index.js';
import { readExecutions, registerWork } from './fixtures/crash-files.js';
import {
  firstLine,
  kill,
  readInstances,
  readSchedules,
  startChild as startCrashChild,
} from './fixtures/crash-harness.js';
import { FakeClock } from './support/fake-clock.js';
import { fixture } from './support/manager.js';

const DAY_MS = 24 * 60 * 60 * 1000;

let dir: string;
let file: string;
const managers: JobManager[] = [];

/** The crash-test child on this test's file and directory. */
const startChild = (mode: string) => startCrashChild(mode, file, dir);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobloom-durability-'));
  file = join(dir, 'jobs.db');
});

afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop({ mode: 'cancel' });
  rmSync(dir, { recursive: true, force: true });
});

/** A manager with the `work` job of the crash tests and `echo` and `chatty`, not started. */
function createManager(options: JobManagerOptions): JobManager {
  const manager = new JobManager({ concurrency: 1, terminateGraceMs: 200, ...options });
  registerWork(manager);
  manager.register({ kind: 'echo', module: fixture('echo.ts') });
  manager.register({ kind: 'chatty', module: fixture('chatty.ts') });
  managers.push(manager);
  return manager;
}

async function startManager(options: JobManagerOptions): Promise<JobManager> {
  const manager = createManager(options);
  await manager.start();
  return manager;
}

describe('a manager on a SQLite file', () => {
  it('keeps results, state history, log history and schedules across a restart', async () => {
    const first = await startManager({ database: file });
    const chatty = first.schedule('chatty', { lines: 3 });
    expect(await chatty.result).toBe(3);
    const schedule = await first.schedules.create({ kind: 'echo', intervalMs: 60_000 });
    await first.stop();

    const second = await startManager({ database: file });
    expect(await second.getInstance(chatty.id)).toMatchObject({ state: 'completed', result: 3 });
    const states = (await second.lookupInstanceHistory({ instanceId: chatty.id })).map(
      (t) => t.state,
    );
    expect(states).toEqual(['created', 'scheduled', 'queued', 'running', 'completed']);
    const lines = await second.lookupInstanceLogs({ instanceId: chatty.id });
    expect(lines.map((line) => line.message)).toEqual(['line 0', 'line 1', 'line 2', 'done']);
    expect(second.schedules.get(schedule.id)).toMatchObject({ status: 'active', kind: 'echo' });
  });
});

describe('recovery after the process was killed', () => {
  interface Scenario {
    retried: string;
    died: string;
    queued: string[];
    soon: string;
    later: string;
  }

  /** Runs the child's scenario, kills it, and returns its ids and the file as it was left. */
  async function killScenario() {
    const child = startChild('scenario');
    const ids = JSON.parse(await firstLine(child)) as Scenario;
    await kill(child);
    const atKill = await readInstances(file);
    return { ids, atKill, childPid: child.pid };
  }

  it('retries, fails or resumes each instance by its state at the kill, in priority order', async () => {
    const { ids, atKill, childPid } = await killScenario();
    const stateAtKill = (id: string) => atKill.get(id)?.state;
    expect([ids.retried, ids.died].map(stateAtKill)).toEqual(['running', 'running']);
    expect(ids.queued.map(stateAtKill)).toEqual(Array(6).fill('queued'));
    expect([ids.soon, ids.later].map(stateAtKill)).toEqual(['scheduled', 'scheduled']);
    const soonDueAt = atKill.get(ids.soon)?.dueAt ?? 0;
    await sleep(soonDueAt + 20 - Date.now());

    const manager = createManager({ database: file, prefetch: 1 });
    const started: string[] = [];
    const finals = waitForFinals(manager, 9);
    manager.on('instance:state', (e) => e.state === 'running' && started.push(e.id));
    await manager.start();
    await finals;
    await manager.flushHistory();

    // Priorities: queued 5, 1, 9, 1, 0, 5; soon 3; retried 10 (and due only after its backoff).
    const [q5a, q1a, q9, q1b, q0, q5b] = ids.queued;
    expect(started).toEqual([q0, q1a, q1b, ids.soon, q5a, q5b, q9, ids.retried]);

    const retried = await manager.getInstance(ids.retried);
    expect(retried).toMatchObject({ state: 'completed', attempt: 2 });
    const retriedHistory = await manager.lookupInstanceHistory({ instanceId: ids.retried });
    const processDied = retriedHistory.find((t) => t.error?.name === 'ProcessDiedError');
    expect(processDied).toMatchObject({ state: 'scheduled', attempt: 2 });
    expect(processDied?.reason).toMatch(/^retry 1 of 2/);

    const died = await manager.getInstance(ids.died);
    expect(died).toMatchObject({ state: 'failed', attempt: 1 });
    expect(died?.error).toMatchObject({ name: 'ProcessDiedError', code: 'ERR_PROCESS_DIED' });
    expect(died?.error?.message).toMatch(/process running this attempt died/);

    const later = await manager.getInstance(ids.later);
    expect(later).toMatchObject({ state: 'scheduled', dueAt: atKill.get(ids.later)?.dueAt });

    // Each attempt ran once in this process; the dead process ran only the two that hung.
    const byPid = (pid: number | undefined) =>
      readExecutions(dir)
        .filter((e) => e.pid === pid)
        .map((e) => `${e.id} ${e.attempt}`);
    expect(byPid(childPid).sort()).toEqual([`${ids.retried} 1`, `${ids.died} 1`].sort());
    const expected = [...ids.queued, ids.soon].map((id) => `${id} 1`);
    expect(byPid(process.pid).sort()).toEqual([...expected, `${ids.retried} 2`].sort());
  });

  it('applies each schedule’s missed-run policy to the runs that fell due while it was dead', async () => {
    const child = startChild('schedules');
    expect(await firstLine(child)).toBe('ready');
    await kill(child);
    const stored = new Map((await readSchedules(file)).map((s) => [s.id, s.nextRunAt ?? 0]));

    // Restart 2,050 ms after the last stored next run: 21 or more runs of each were missed.
    const clock = new FakeClock(Math.max(...stored.values()) + 2_050);
    const manager = createManager({ database: file, clock });
    const missed = new Map<string, number>();
    manager.on('schedule:missed', (e) => {
      expect(e.reason).toBe('stopped');
      missed.set(e.scheduleId, (missed.get(e.scheduleId) ?? 0) + e.count);
    });
    await manager.start();
    await manager.onIdle();
    await manager.flushHistory();

    const dueSince = (id: string) => {
      const first = stored.get(id) ?? 0;
      return Array.from({ length: Math.floor((clock.now() - first) / 100) + 1 }, (_, i) => {
        return first + i * 100;
      });
    };
    for (const [policy, caughtUp] of [
      ['skip', 0],
      ['once', 1],
      ['all', 3],
    ] as const) {
      const id = `every-100-ms-${policy}`;
      const due = dueSince(id);
      const runs = await manager.queryInstances({ scheduleId: id });
      const catchUps = runs.filter((r) => r.catchUp && (r.dueFor ?? 0) >= (due[0] ?? 0));
      const dueFor = catchUps.map((r) => r.dueFor ?? 0).sort((a, b) => a - b);
      expect(dueFor, policy).toEqual(due.slice(due.length - caughtUp));
      expect(missed.get(id) ?? 0, policy).toBe(due.length - caughtUp);
      expect(manager.schedules.get(id)?.nextRunAt, policy).toBe((due.at(-1) ?? 0) + 100);
      expect(
        runs.every((r) => isFinalState(r.state)),
        policy,
      ).toBe(true);
    }
  });
});

describe('history writes on a SQLite file', () => {
  it('stores each final state in the first write batch after the instance completed', async () => {
    const tracker = new WriteTracker(new SqliteStore({ path: file }));
    const manager = await startManager({ store: tracker.store, concurrency: 2 });
    const completedAt = new Map<string, number>();
    manager.on('instance:completed', (e) => completedAt.set(e.id, performance.now()));

    for (let slice = 0; slice < 40; slice++) {
      for (let i = 0; i < 10; i++) manager.schedule('echo', { slice, i });
      await sleep(10);
    }
    await manager.onIdle();
    // onIdle resolves at once when nothing is live, history writes or not: flush as well.
    await manager.flushHistory();

    const waits: number[] = [];
    for (const [id, at] of completedAt) {
      const batch = tracker.batches.find((b) => b.startedAt > at);
      expect(batch?.finished.has(id), id).toBe(true);
      waits.push((batch?.endedAt ?? Infinity) - at);
    }
    expect(waits).toHaveLength(400);
    // The time is the machine's (bench/results/sqlite.md measures it: about 5 ms at the median
    // on an idle two-core VM); a writer waiting for something else would take seconds.
    expect(Math.max(...waits)).toBeLessThan(1_000);
  });

  it('splits a burst into batches of at most 1,000 changes, timers running between those sent after it', async () => {
    const tracker = new WriteTracker(new SqliteStore({ path: file }));
    const manager = await startManager({ store: tracker.store });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    tracker.onWrite = () => ticks;

    for (let n = 0; n < 5_000; n++) manager.schedule('echo', n, { delayMs: 3_600_000 });
    await manager.flushHistory();
    clearInterval(ticker);

    const sizes = tracker.batches.map((b) => b.size);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(5_000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1_000);
    // The store takes two writes at a time: the first two full batches go during the loop,
    // so its thread starts on them at once; each later one goes from a timer of its own.
    const ticksAt = tracker.batches.map((b) => b.ticks);
    expect(ticksAt.slice(0, 2)).toEqual([0, 0]);
    expect(ticksAt.slice(2).every((t, i) => t > (ticksAt[i + 1] ?? 0))).toBe(true);
    expect(await manager.store.countInstances({ state: 'scheduled' })).toBe(5_000);
  });
});

describe('retention of a manager’s SQLite file', () => {
  it('keeps a week of finished instances by default, pruning older ones as it writes', async () => {
    const clock = new FakeClock(Date.now());
    const manager = await startManager({ database: file, clock });
    const old = await Promise.all([1, 2, 3].map((n) => manager.schedule('echo', n)));
    await Promise.all(old.map((handle) => handle.result));

    // Retention passes run as the file is written, at most once a second (of this clock).
    clock.jump(7 * DAY_MS - 2_000);
    await manager.schedule('echo', 4).result;
    expect(await manager.store.countInstances({})).toBe(4);

    clock.jump(4_000);
    const fresh = manager.schedule('echo', 5);
    await fresh.result;
    expect((await manager.queryInstances({})).map((r) => r.args)).toEqual([4, 5]);
    expect(await manager.lookupInstanceHistory({ instanceId: old[0]?.id ?? '' })).toEqual([]);
  });

  it('prunes finished instances past maxFinished, those that finished first going first', async () => {
    const store = new SqliteStore({ path: file, maxFinished: 5, pruneIntervalMs: 0 });
    const manager = await startManager({ store });
    const handles = [];
    for (let n = 0; n < 12; n++) {
      const handle = manager.schedule('echo', n);
      await handle.result;
      handles.push(handle);
    }
    const waiting = manager.schedule('echo', 'later', { delayMs: 3_600_000 });
    await manager.flushHistory();

    const kept = await manager.queryInstances({});
    const finished = kept.filter((r) => r.finishedAt !== null).map((r) => r.args as number);
    expect(finished.sort((a, b) => a - b)).toEqual([7, 8, 9, 10, 11]);
    expect(kept.filter((r) => r.finishedAt === null)).toMatchObject([
      { id: waiting.id, state: 'scheduled' },
    ]);
    expect(await manager.lookupInstanceLogs({ instanceId: handles[0]?.id ?? '' })).toEqual([]);
  });
});

describe('faults of a manager’s SQLite file', () => {
  it('refuses to start on a path in a missing directory, naming the file', async () => {
    const missing = join(dir, 'missing', 'x.db');
    const manager = createManager({ database: missing });
    const error = await manager.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toMatch(/does not exist/);
  });

  it('refuses a file that is not a database and leaves it as it was', async () => {
    writeFileSync(file, 'these are not the pages you are looking for\n'.repeat(200));
    const before = sha256(file);
    const manager = createManager({ database: file });
    const error = await manager.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    expect((error as Error).message).toContain(file);
    expect(sha256(file)).toBe(before);
  });

  it('refuses a second manager on a file in use, and the first carries on', async () => {
    const first = await startManager({ database: file });
    const second = createManager({ database: file });
    const error = await second.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/locked by another connection/);
    expect(await first.schedule('echo', 'still here').result).toMatchObject({
      args: 'still here',
    });
  });
});

/** Wraps a store to note each write batch: when it started and ended, its size, and finals. */
class WriteTracker {
  readonly store: Store;
  readonly batches: {
    startedAt: number;
    endedAt: number;
    size: number;
    ticks: number;
    finished: Set<string>;
  }[] = [];
  onWrite: () => number = () => 0;

  constructor(inner: Store) {
    const write = async (batch: readonly StoreWrite[]) => {
      const startedAt = performance.now();
      const ticks = this.onWrite();
      await inner.write(batch);
      const finished = new Set<string>();
      for (const change of batch) {
        if (change.op === 'update' && change.patch.finishedAt !== undefined)
          finished.add(change.id);
      }
      this.batches.push({
        startedAt,
        endedAt: performance.now(),
        size: batch.length,
        ticks,
        finished,
      });
    };
    this.store = new Proxy(inner, {
      get(target, key) {
        if (key === 'write') return write;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}

/** Resolves once `count` instances have reached a final state in this manager. */
function waitForFinals(manager: JobManager, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    manager.on('instance:state', (e) => {
      if (isFinalState(e.state) && ++seen === count) resolve();
    });
  });
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
