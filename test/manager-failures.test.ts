import { afterEach, describe, expect, it } from 'vitest';
import {
  CanceledError,
  ExecutorError,
  type JobManager,
  ThreadCrashedError,
  TimeoutError,
} from '../src/index.js';
import { backoffDelayMs, DEFAULT_BACKOFF } from '../src/manager/backoff.js';
import { settle, startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

describe('failed attempts', () => {
  for (const async of [false, true]) {
    it(`fails on a ${async ? 'rejected promise' : 'throw'}, keeping name, message, stack and cause`, async () => {
      manager = await startManager();
      const handle = manager.schedule('fail', { async });
      const { error } = await settle(handle.result);
      expect(error).toBeInstanceOf(ExecutorError);
      const cause = error!.cause as Error & { code: string; cause: Error & { code: string } };
      expect(cause.name).toBe('RangeError');
      expect(cause.message).toBe('attempt 1 failed');
      expect(cause.stack).toContain('fail.ts');
      expect(cause.cause.message).toBe('disk on fire');
      expect(cause.cause.code).toBe('EFIRE');

      const record = await manager.getInstance(handle.id);
      expect(record).toMatchObject({ state: 'failed', attempt: 1 });
      expect(record?.error).toMatchObject({
        name: 'RangeError',
        cause: { message: 'disk on fire' },
      });
    });
  }

  it('fails on a thrown non-Error and on a result that cannot leave the thread', async () => {
    manager = await startManager();
    const thrown = await settle(manager.schedule('throwString').result);
    expect((thrown.error!.cause as Error).message).toBe('plain string');
    const uncloneable = await settle(manager.schedule('returnFunction').result);
    expect((uncloneable.error!.cause as Error).message).toContain('result.callback');
  });

  it('retries n times after the first attempt with maxRetries: n', async () => {
    manager = await startManager();
    const handle = manager.schedule('fail', {}, { maxRetries: 2 });
    await settle(handle.result);
    const history = await manager.lookupInstanceHistory({ instanceId: handle.id });
    expect(history.filter((h) => h.state === 'running').map((h) => h.attempt)).toEqual([1, 2, 3]);
    const retries = history.filter((h) => h.state === 'scheduled' && h.error);
    expect(retries.map((h) => h.attempt)).toEqual([2, 3]);
    expect(retries[0]!.error?.message).toBe('attempt 1 failed');
    expect(history.at(-1)).toMatchObject({ state: 'failed', attempt: 3 });
  });

  it('completes on a later attempt when one succeeds', async () => {
    manager = await startManager();
    const result = await manager.schedule('fail', { succeedOn: 3 }, { maxRetries: 5 }).result;
    expect(result).toEqual({ attempt: 3 });
  });

  it('does not retry an attempt that threw DoNotRetryError', async () => {
    manager = await startManager();
    const handle = manager.schedule('fail', { doNotRetry: true }, { maxRetries: 5 });
    const { error } = await settle(handle.result);
    expect((error!.cause as Error).name).toBe('DoNotRetryError');
    expect(await manager.getInstance(handle.id)).toMatchObject({ state: 'failed', attempt: 1 });
  });

  it('waits the backoff between attempts on a timer, not on a thread', async () => {
    manager = await startManager({ concurrency: 1, prefetch: 1 });
    const slow = manager.schedule(
      'fail',
      {},
      { maxRetries: 1, backoff: { type: 'fixed', delayMs: 300, jitter: 0 } },
    );
    // While the retry waits, the single thread is free for other work.
    const other = manager.schedule('sleep', { ms: 10 }, { delayMs: 50 });
    await other.result;
    expect((await manager.getInstance(slow.id))?.state).toBe('scheduled');
    await settle(slow.result);
    const runs = await manager.lookupInstanceHistory({ instanceId: slow.id, state: 'running' });
    expect(runs[1]!.at - runs[0]!.at).toBeGreaterThanOrEqual(300);
  });
});

describe('backoff', () => {
  it('grows exponentially up to its cap, and jitter stays within its fraction', () => {
    const policy = { ...DEFAULT_BACKOFF, delayMs: 100, maxDelayMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(policy, n))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    const fixed = { ...policy, type: 'fixed' as const };
    expect([1, 5].map((n) => backoffDelayMs(fixed, n))).toEqual([100, 100]);
    const jittered = { ...policy, jitter: 0.2 };
    expect(backoffDelayMs(jittered, 1, () => 0)).toBe(80);
    expect(backoffDelayMs(jittered, 1, () => 0.999_999)).toBe(120);
  });
});

describe('timeouts', () => {
  it('aborts the signal of an executor that listens, and records timed_out', async () => {
    manager = await startManager({ concurrency: 1, terminateGraceMs: 5_000 });
    await manager.schedule('sleep', { ms: 1 }).result;
    const handle = manager.schedule('sleep', { ms: 10_000 }, { timeoutMs: 100 });
    const { error } = await settle(handle.result);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).terminated).toBe(false);
    expect(await manager.getInstance(handle.id)).toMatchObject({ state: 'timed_out' });
  });

  it('terminates the thread of a CPU loop that ignores its signal, and the pool carries on', async () => {
    manager = await startManager({ concurrency: 1, prefetch: 2, terminateGraceMs: 100 });
    await manager.schedule('spin', { ms: 1 }).result;
    const stuck = manager.schedule('spin', {}, { timeoutMs: 100 });
    const behind = manager.schedule('echo', 'next');
    const { error } = await settle(stuck.result);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).terminated).toBe(true);
    const after = (await behind.result) as { args: string; attempt: number };
    expect(after).toMatchObject({ args: 'next', attempt: 1 });
    expect(manager.stats().threads).toBe(1);
  });

  it('retries a timed-out attempt when retries remain', async () => {
    manager = await startManager();
    const handle = manager.schedule(
      'sleep',
      { ms: 10_000 },
      { timeoutMs: 50, maxRetries: 1, backoff: { delayMs: 1 } },
    );
    await settle(handle.result);
    expect(await manager.getInstance(handle.id)).toMatchObject({ state: 'timed_out', attempt: 2 });
  });
});

describe('cancel', () => {
  it('removes queued and delayed instances and aborts running ones, touching nothing else', async () => {
    manager = await startManager({ concurrency: 1, prefetch: 1, terminateGraceMs: 100 });
    const running = manager.schedule('spin', { ms: 20_000 });
    const queued = manager.schedule('echo', 'queued');
    const delayed = manager.schedule('echo', 'delayed', { delayMs: 60_000 });
    const bystander = manager.schedule('echo', 'bystander');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const canceled = await manager.cancel({ ids: [running.id, queued.id, delayed.id] });
    expect(canceled.sort()).toEqual([running.id, queued.id, delayed.id].sort());
    for (const handle of [running, queued, delayed]) {
      expect((await settle(handle.result)).error).toBeInstanceOf(CanceledError);
    }
    await expect(bystander.result).resolves.toMatchObject({ args: 'bystander' });
    expect((await manager.getInstance(queued.id))?.state).toBe('canceled');
    const ran = await manager.lookupInstanceHistory({ instanceId: queued.id, state: 'running' });
    expect(ran).toEqual([]);
  });

  it('cancels by kind only the matching instances', async () => {
    manager = await startManager({ concurrency: 1, prefetch: 1 });
    const sleeper = manager.schedule('sleep', { ms: 150 });
    const echoes = [1, 2, 3].map((n) => manager!.schedule('echo', n));
    const canceled = await manager.cancel({ kind: 'echo' });
    expect(canceled.sort()).toEqual(echoes.map((h) => h.id).sort());
    await expect(sleeper.result).resolves.toBeDefined();
    expect(await manager.cancel('no-such-id')).toEqual([]);
  });

  it('cancels an instance waiting on its thread behind another without running it', async () => {
    manager = await startManager({ concurrency: 1, prefetch: 2 });
    const first = manager.schedule('sleep', { ms: 200 });
    const behind = manager.schedule('echo', 'behind');
    await Promise.resolve();
    expect(manager.stats().inFlight).toBe(2);
    await manager.cancel(behind.id);
    expect((await settle(behind.result)).error).toBeInstanceOf(CanceledError);
    await first.result;
    await manager.onIdle();
    expect(
      await manager.lookupInstanceHistory({ instanceId: behind.id, state: 'running' }),
    ).toEqual([]);
  });
});

describe('crashes inside a thread', () => {
  for (const [kind, args] of [
    ['exit', { code: 7 }],
    ['uncaught', {}],
  ] as const) {
    it(`fails the attempt on ${kind}, recovers the pool and loses no other instance`, async () => {
      manager = await startManager({ concurrency: 1, prefetch: 2 });
      const crashing = manager.schedule(kind, args);
      const others = [1, 2, 3].map((n) => manager!.schedule('echo', n));
      const { error } = await settle(crashing.result);
      expect(error).toBeInstanceOf(ThreadCrashedError);
      const results = (await Promise.all(others.map((h) => h.result))) as { attempt: number }[];
      expect(results.map((r) => r.attempt)).toEqual([1, 1, 1]);
      expect(await manager.getInstance(crashing.id)).toMatchObject({ state: 'failed' });
    });
  }

  it('fails an attempt past the thread memory limit', async () => {
    manager = await startManager({
      concurrency: 1,
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    const { error } = await settle(manager.schedule('hog').result);
    expect(error).toBeInstanceOf(ThreadCrashedError);
    expect(String((error!.cause as Error).message)).toMatch(/memory/i);
    await expect(manager.schedule('echo', 'after').result).resolves.toMatchObject({
      args: 'after',
    });
  });
});
