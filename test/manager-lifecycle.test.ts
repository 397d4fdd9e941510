import { afterEach, describe, expect, it } from 'vitest';
import { CanceledError, type JobManager, ManagerStateError } from '../src/index.js';
import { settle, startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

describe('events and handlers', () => {
  it('calls job handlers and per-call handlers for complete, terminate and state change', async () => {
    const calls: string[] = [];
    manager = await startManager();
    manager.register({
      kind: 'handled',
      module: (await import('./support/manager.js')).fixture('fail.ts'),
      onComplete: (result) => calls.push(`job complete ${JSON.stringify(result)}`),
      onTerminate: (error) => calls.push(`job terminate ${error.name}`),
    });
    await manager.schedule('handled', { succeedOn: 1 }).result;
    await settle(manager.schedule('handled', {}).result);
    const states: string[] = [];
    await manager.schedule(
      'handled',
      { succeedOn: 1 },
      {
        onStateChange: (state) => void states.push(state),
        onComplete: () => void calls.push('call complete'),
      },
    ).result;
    expect(calls).toEqual([
      'job complete {"attempt":1}',
      'job terminate ExecutorError',
      'call complete',
    ]);
    expect(states).toEqual(['created', 'scheduled', 'queued', 'running', 'completed']);
  });

  it('keeps running when a handler or a listener throws, and reports it as manager:error', async () => {
    manager = await startManager();
    const errors: string[] = [];
    manager.on('manager:error', (e) => errors.push(e.source));
    manager.on('instance:completed', () => {
      throw new Error('listener broke');
    });
    const result = await manager.schedule('echo', 1, {
      onComplete: () => {
        throw new Error('handler broke');
      },
      onStateChange: async () => {
        throw new Error('async handler broke');
      },
    }).result;
    expect(result).toMatchObject({ args: 1 });
    await manager.schedule('echo', 2).result;
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toContain('echo.onComplete');
    expect(errors).toContain('echo.onStateChange');
    expect(errors).toContain('listener of instance:completed');
  });

  it('emits a typed event for each state change and outcome', async () => {
    manager = await startManager();
    const events: string[] = [];
    manager.on('instance:state', (e) => events.push(e.state));
    manager.on('instance:completed', (e) => events.push(`completed:${e.kind}`));
    manager.on('instance:failed', (e) => events.push(`failed:${e.error.name}`));
    await manager.schedule('echo', 1).result;
    await settle(manager.schedule('fail', {}).result);
    expect(events).toContain('completed:echo');
    expect(events).toContain('failed:RangeError');
    expect(events.filter((e) => e === 'running')).toHaveLength(2);
  });
});

describe('lifecycle', () => {
  it('drains on stop: everything accepted runs to completion first', async () => {
    manager = await startManager();
    const handles = Array.from({ length: 10 }, (_, i) =>
      manager!.schedule('sleep', { ms: 20, tag: i }),
    );
    const delayed = manager.schedule('echo', 'late', { delayMs: 100 });
    const results = Promise.all([...handles, delayed].map((h) => h.result));
    const finishedEarly = manager.schedule('echo', 'early');
    await finishedEarly.result;
    const unread = manager.schedule('echo', 'unread');
    await manager.stop();
    expect(await results).toHaveLength(11);
    await expect(unread.result).rejects.toBeInstanceOf(ManagerStateError);
    manager = undefined;
  });

  it('cancels on stop in cancel mode, and after a drain timeout, leaving every instance final', async () => {
    manager = await startManager({ concurrency: 1 });
    const m = manager;
    const running = m.schedule('spin', { ms: 30_000 });
    const queued = m.schedule('echo', 'queued');
    const delayed = m.schedule('echo', 'delayed', { delayMs: 60_000 });
    const outcomes = Promise.all([running, queued, delayed].map((h) => settle(h.result)));
    await m.stop({ mode: 'drain', timeoutMs: 300 });
    manager = undefined;
    for (const outcome of await outcomes) expect(outcome.error).toBeInstanceOf(CanceledError);
  });

  it('refuses to schedule before start and after stop, and to start twice', async () => {
    const { JobManager: Manager } = await import('../src/index.js');
    const fresh = new Manager({ concurrency: 1 });
    fresh.register({
      kind: 'echo',
      module: (await import('./support/manager.js')).fixture('echo.ts'),
    });
    expect(() => fresh.schedule('echo', 1)).toThrow(ManagerStateError);
    await fresh.start();
    await expect(fresh.start()).rejects.toBeInstanceOf(ManagerStateError);
    await fresh.stop();
    expect(() => fresh.schedule('echo', 1)).toThrow(ManagerStateError);
  });

  it('resolves onIdle at once when nothing is scheduled, and again after later work', async () => {
    manager = await startManager();
    await manager.onIdle();
    manager.schedule('echo', 1);
    await manager.onIdle();
    expect(manager.stats()).toMatchObject({ queued: 0, inFlight: 0, scheduled: 0 });
  });
});

describe('a manager never started', () => {
  it('starts no thread, and stops at once', async () => {
    const { JobManager: Manager } = await import('../src/index.js');
    const idle = new Manager({ concurrency: 2 });
    expect(idle.stats().threads).toBe(0);
    expect(idle.concurrency).toBe(2);
    await idle.resize(3);
    expect(idle.concurrency).toBe(3);
    await idle.stop();
    expect(() => idle.schedule('echo', 1)).toThrow(ManagerStateError);
  });
});
