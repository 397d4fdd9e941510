import { afterEach, describe, expect, it } from 'vitest';
import type { JobManager } from '../src/index.js';
import { maxOverlap, startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

interface Ran {
  threadId: number;
  started: number;
  ended: number;
}

describe('resizing the pool at runtime', () => {
  it('grows at once: more attempts run side by side on more threads', async () => {
    manager = await startManager({ concurrency: 1, prefetch: 1 });
    await manager.resize(3);
    expect(manager.concurrency).toBe(3);
    const handles = Array.from({ length: 6 }, () => manager!.schedule('sleep', { ms: 200 }));
    const runs = (await Promise.all(handles.map((h) => h.result))) as Ran[];
    expect(new Set(runs.map((r) => r.threadId)).size).toBe(3);
    expect(maxOverlap(runs)).toBe(3);
  });

  it('shrinks without canceling running attempts, then runs at most n at once on n threads', async () => {
    manager = await startManager({ concurrency: 3, prefetch: 2 });
    const m = manager;
    const running = Array.from({ length: 3 }, () => m.schedule('sleep', { ms: 300 }));
    await Promise.resolve();
    expect(m.stats().inFlight).toBe(3);

    await m.resize(1);
    const before = (await Promise.all(running.map((h) => h.result))) as Ran[];
    expect(before).toHaveLength(3);
    expect(m.stats().threads).toBe(1);
    expect(m.threadIds()).toHaveLength(1);

    const after = (await Promise.all(
      Array.from({ length: 4 }, () => m.schedule('sleep', { ms: 60 }).result),
    )) as Ran[];
    expect(maxOverlap(after)).toBe(1);
    expect(new Set(after.map((r) => r.threadId))).toEqual(new Set(m.threadIds()));
    const states = await m.queryInstances({ limit: 100 });
    expect(states.every((r) => r.state === 'completed')).toBe(true);
  });

  it('lets the work queued during a shrink run exactly once', async () => {
    manager = await startManager({ concurrency: 2, prefetch: 2 });
    const m = manager;
    const handles = Array.from({ length: 20 }, (_, i) => m.schedule('sleep', { ms: 20, tag: i }));
    await m.resize(1);
    await m.resize(2);
    await m.onIdle();
    const runs = await m.lookupInstanceHistory({ state: 'running', limit: 1_000 });
    const ids = handles.map((h) => h.id);
    expect(runs.map((r) => r.instanceId).sort()).toEqual([...ids].sort());
  });

  it('refuses a size that is not a positive integer', async () => {
    manager = await startManager({ concurrency: 1 });
    await expect(manager.resize(0)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      path: 'size',
    });
    await expect(manager.resize(1.5)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});
