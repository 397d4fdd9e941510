import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobManager } from '../src/index.js';
import { startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

async function startOrder(m: JobManager, ids: string[]): Promise<string[]> {
  const history = await m.lookupInstanceHistory({ state: 'running', limit: 10_000 });
  const wanted = new Set(ids);
  return history.filter((h) => wanted.has(h.instanceId)).map((h) => h.instanceId);
}

describe('dispatch order under a saturated pool', () => {
  it('starts instances scheduled together in priority order, even on an idle pool', async () => {
    manager = await startManager({ concurrency: 1, prefetch: 1 });
    const m = manager;
    const priorities = [8, 8, 8, 0, 0, 0, 5];
    const ids = priorities.map(
      (priority, i) => m.schedule('sleep', { ms: 5, tag: i }, { priority }).id,
    );
    await m.onIdle();
    const started = await startOrder(m, ids);
    expect(started.map((id) => priorities[ids.indexOf(id)])).toEqual([0, 0, 0, 5, 8, 8, 8]);
  });

  // With prefetch, an attempt waits on its thread behind the one running there, so on several
  // threads start order can differ from dispatch order by one place; on one thread it cannot.
  for (const [concurrency, prefetch] of [
    [2, 1],
    [1, 2],
    [1, 4],
  ] as const) {
    it(`starts waiting instances in priority order, first-in first-out among equals (${concurrency} threads, prefetch ${prefetch})`, async () => {
      manager = await startManager({ concurrency, prefetch });
      const m = manager;
      await m.resize(concurrency); // resolves once every thread is up
      // Fill every place the pool has, so everything after waits in the ready queue.
      const places = concurrency * prefetch;
      const blockers = Array.from({ length: places }, () => m.schedule('sleep', { ms: 150 }));
      await Promise.resolve(); // the blockers are handed out before the rest is scheduled
      const priorities = fc.sample(fc.integer({ min: 0, max: 10 }), { numRuns: 40, seed: 42 });
      const waiting = priorities.map((priority, index) => ({
        priority,
        index,
        id: m.schedule('echo', index, { priority }).id,
      }));
      await m.onIdle();

      const expected = [...waiting]
        .sort((a, b) => a.priority - b.priority || a.index - b.index)
        .map((w) => w.id);
      expect(
        await startOrder(
          m,
          waiting.map((w) => w.id),
        ),
      ).toEqual(expected);
      expect(blockers).toHaveLength(places);
    });
  }

  it("keeps Piscina's own queue empty while everything waits in jobloom's", async () => {
    manager = await startManager({ concurrency: 2, prefetch: 2 });
    const m = manager;
    let checks = 0;
    let queuedInPiscina = 0;
    m.on('instance:state', () => {
      checks++;
      queuedInPiscina = Math.max(queuedInPiscina, m.stats().piscinaQueued);
    });
    for (let i = 0; i < 2_000; i++) m.schedule('echo', i, { priority: i % 11 });
    expect(m.stats().queued).toBeGreaterThan(0);
    await m.onIdle();
    expect(checks).toBeGreaterThan(2_000);
    expect(queuedInPiscina).toBe(0);
  });
});
