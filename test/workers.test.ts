import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { JobManager } from '../src/index.js';
import { hashInput, hashRounds } from '../workers/hash.js';
import { settle } from './support/manager.js';

const workersFolder = fileURLToPath(new URL('../workers/', import.meta.url));

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

/** A started manager with every bundled worker module registered under its file name. */
async function startWithWorkers(terminateGraceMs = 5_000): Promise<JobManager> {
  const started = new JobManager({ concurrency: 2, terminateGraceMs });
  started.registerFolder(workersFolder);
  await started.start();
  return started;
}

describe('the bundled worker modules', () => {
  it('registers hash, report, sleep and trivial from the workers folder', async () => {
    manager = await startWithWorkers();
    expect(manager.jobs().map((job) => job.kind)).toEqual(['hash', 'report', 'sleep', 'trivial']);
  });
});

describe('hash', () => {
  it('runs the rounds asked for and returns the chained digest', async () => {
    manager = await startWithWorkers();
    const result = await manager.schedule('hash', { rounds: 300, seed: 'a' }).result;
    const expected = hashRounds(hashInput('a', 1_024), 300).toString('hex').slice(0, 16);
    expect(result).toMatchObject({ rounds: 300, digest: expected });
  });

  it('gives a different digest for a different seed', async () => {
    manager = await startWithWorkers();
    const a = (await manager.schedule('hash', { rounds: 50, seed: 'a' }).result) as {
      digest: string;
    };
    const b = (await manager.schedule('hash', { rounds: 50, seed: 'b' }).result) as {
      digest: string;
    };
    expect(a.digest).not.toBe(b.digest);
  });

  it('works for roughly the time asked for', async () => {
    manager = await startWithWorkers();
    const result = (await manager.schedule('hash', { ms: 60 }).result) as {
      elapsedMs: number;
      rounds: number;
    };
    expect(result.elapsedMs).toBeGreaterThanOrEqual(60);
    expect(result.elapsedMs).toBeLessThan(1_000);
    expect(result.rounds).toBeGreaterThan(0);
  });

  it('reports progress in steps up to 1 when asked, and keeps the last report', async () => {
    manager = await startWithWorkers();
    const { seen, handle } = await runWatchingProgress(manager, 'hash', {
      rounds: 640,
      progressSteps: 4,
    });
    expect(seen.map((value) => (value as { fraction: number }).fraction)).toEqual([
      0.25, 0.5, 0.75, 1,
    ]);
    expect((await manager.getInstance(handle.id))?.progress).toEqual({ fraction: 1, rounds: 640 });
  });

  it('stops at its signal: a timeout ends it without terminating the thread', async () => {
    manager = await startWithWorkers(10_000);
    const timedOut: boolean[] = [];
    manager.on('instance:timedOut', (event) => timedOut.push(event.terminated));
    const startedMs = Date.now();
    const outcome = await settle(
      manager.schedule('hash', { ms: 20_000 }, { timeoutMs: 100 }).result,
    );
    expect(outcome.error?.name).toBe('TimeoutError');
    expect(Date.now() - startedMs).toBeLessThan(3_000);
    expect(timedOut).toEqual([false]);
  });
});

describe('sleep', () => {
  it('waits the time asked for', async () => {
    manager = await startWithWorkers();
    const startedMs = Date.now();
    const result = (await manager.schedule('sleep', { ms: 80 }).result) as { sleptMs: number };
    expect(result.sleptMs).toBeGreaterThanOrEqual(79);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(79);
  });

  it('stops early when its instance is canceled', async () => {
    manager = await startWithWorkers(10_000);
    const handle = manager.schedule('sleep', { ms: 20_000 });
    await waitForState(manager, handle.id, 'running');
    const startedMs = Date.now();
    await manager.cancel(handle.id);
    const outcome = await settle(handle.result);
    expect(outcome.error?.name).toBe('CanceledError');
    expect(Date.now() - startedMs).toBeLessThan(2_000);
  });
});

describe('report', () => {
  it('writes lines at every level, in order, before its summary is visible', async () => {
    manager = await startWithWorkers();
    const handle = manager.schedule('report', { title: 'nightly', steps: 3, stepMs: 5 });
    const summary = await handle.result;
    expect(summary).toEqual({
      title: 'nightly',
      steps: 3,
      lines: { debug: 3, info: 2, warn: 1, error: 1 },
    });

    const logs = await manager.lookupInstanceLogs({ instanceId: handle.id });
    expect(logs.map((line) => line.level)).toEqual([
      'info',
      'debug',
      'debug',
      'debug',
      'warn',
      'error',
      'info',
    ]);
    expect(logs[0]?.message).toBe('nightly: starting');
    expect(logs.at(-1)?.message).toBe('nightly: done');
    expect(logs.every((line) => line.attempt === 1 && line.kind === 'report')).toBe(true);
  });

  it('reports progress through its steps', async () => {
    manager = await startWithWorkers();
    const { seen, handle } = await runWatchingProgress(manager, 'report', { steps: 3, stepMs: 5 });
    expect(seen).toEqual([
      { done: 1, total: 3 },
      { done: 2, total: 3 },
      { done: 3, total: 3 },
    ]);
    expect((await manager.getInstance(handle.id))?.progress).toEqual({ done: 3, total: 3 });
  });

  it('keeps only the lines at or above a level when asked', async () => {
    manager = await startWithWorkers();
    const handle = manager.schedule('report', { steps: 2, stepMs: 1 });
    await handle.result;
    const warnings = await manager.lookupInstanceLogs({ instanceId: handle.id, minLevel: 'warn' });
    expect(warnings.map((line) => line.level)).toEqual(['warn', 'error']);
  });
});

describe('trivial', () => {
  it('returns a small object and writes the log lines asked for', async () => {
    manager = await startWithWorkers();
    const handle = manager.schedule('trivial', { n: 7, logLines: 3 });
    expect(await handle.result).toEqual({ n: 7, ok: true });
    const logs = await manager.lookupInstanceLogs({ instanceId: handle.id });
    expect(logs.map((line) => line.data)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  it('records the full state history of each instance', async () => {
    manager = await startWithWorkers();
    const handle = manager.schedule('trivial', {});
    await handle.result;
    const history = await manager.lookupInstanceHistory({ instanceId: handle.id });
    expect(history.map((entry) => entry.state)).toEqual([
      'created',
      'scheduled',
      'queued',
      'running',
      'completed',
    ]);
  });
});

/** Runs one instance to its end and returns every progress value it reported, in order. */
async function runWatchingProgress(target: JobManager, kind: string, args: unknown) {
  const seen: unknown[] = [];
  target.on('instance:progress', (event) => seen.push(event.value));
  const handle = target.schedule(kind, args);
  await handle.result;
  return { seen, handle };
}

/** Resolves once the instance has reached `state`. */
function waitForState(target: JobManager, id: string, state: string): Promise<void> {
  return new Promise((resolve) => {
    const off = target.on('instance:state', (event) => {
      if (event.id === id && event.state === state) {
        off();
        resolve();
      }
    });
  });
}
