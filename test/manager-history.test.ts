import { afterEach, describe, expect, it } from 'vitest';
import { type JobManager, MemoryStore } from '../src/index.js';
import { startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

describe('log history and progress', () => {
  it('stores every line with level, time and attempt, in the order written', async () => {
    manager = await startManager();
    const handle = manager.schedule('chatty', { lines: 30 });
    await handle.result;
    const lines = await manager.lookupInstanceLogs({ instanceId: handle.id, limit: 1_000 });
    expect(lines.map((l) => l.message)).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `line ${i}`),
      'done',
    ]);
    expect(lines.at(-1)).toMatchObject({ level: 'warn', attempt: 1, data: { lines: 30 } });
    const warnings = await manager.lookupInstanceLogs({ instanceId: handle.id, minLevel: 'warn' });
    expect(warnings.map((l) => l.message)).toEqual(['done']);
    expect((await manager.getInstance(handle.id))?.progress).toEqual({ done: 20, total: 30 });
  });

  // Piscina's result and the executor's calls travel on different channels and can overtake
  // each other. Watch the store while chatty instances finish: whenever one is seen in its
  // final state, every line it wrote must already be there.
  it('never shows a final state before all of the lines written before it', async () => {
    const store = new MemoryStore();
    manager = await startManager({ store, concurrency: 2 });
    const lines = 200;
    const handles = Array.from({ length: 40 }, (_, i) =>
      manager!.schedule('chatty', { lines, async: i % 2 === 0 }),
    );
    const ids = handles.map((h) => h.id);
    let checks = 0;
    let early = 0;
    const watch = async () => {
      while (manager && manager.stats().inFlight + manager.stats().queued > 0) {
        for (const record of await store.queryInstances({ ids, state: 'completed' })) {
          const logged = await store.lookupInstanceLogs({ instanceId: record.id, limit: 10_000 });
          checks++;
          if (logged.length !== lines + 1) early++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all([watch(), ...handles.map((h) => h.result)]);
    expect(checks).toBeGreaterThan(0);
    expect(early).toBe(0);
    for (const id of ids) {
      const logged = await store.lookupInstanceLogs({ instanceId: id, limit: 10_000 });
      expect(logged.map((l) => l.message).slice(0, 3)).toEqual(['line 0', 'line 1', 'line 2']);
      expect(logged).toHaveLength(lines + 1);
    }
  });

  it('streams progress from an executor that never yields, while it still runs', async () => {
    manager = await startManager();
    await manager.schedule('stream', { ms: 1, everyMs: 1 }).result;
    const received: number[] = [];
    manager.on('instance:progress', () => received.push(Date.now()));
    const { ended } = (await manager.schedule('stream', { ms: 600, everyMs: 20 }).result) as {
      ended: number;
    };
    expect(received.length).toBeGreaterThan(2);
    expect(received[0]!).toBeLessThan(ended - 200);
  });

  it('emits log and progress events as lines arrive', async () => {
    manager = await startManager();
    const seen: string[] = [];
    manager.on('instance:log', (e) => seen.push(`log:${e.message}`));
    manager.on('instance:progress', (e) =>
      seen.push(`progress:${(e.value as { done: number }).done}`),
    );
    await manager.schedule('chatty', { lines: 11 }).result;
    expect(seen.slice(0, 3)).toEqual(['log:line 0', 'progress:0', 'log:line 1']);
    expect(seen).toContain('progress:10');
  });
});

describe('instance queries', () => {
  it('finds instances by kind, state and time window, with limit and offset in a stable order', async () => {
    manager = await startManager();
    const t0 = Date.now() - 1;
    const echoes = Array.from({ length: 6 }, (_, i) => manager!.schedule('echo', i));
    const shouts = [manager.schedule('shout', { text: 'a' })];
    await manager.onIdle();
    const all = await manager.queryInstances({
      kind: 'echo',
      state: 'completed',
      createdAfter: t0,
    });
    expect(all.map((r) => r.id).sort()).toEqual(echoes.map((h) => h.id).sort());
    const page = await manager.queryInstances({ kind: 'echo', limit: 2, offset: 2 });
    expect(page.map((r) => r.id)).toEqual(all.slice(2, 4).map((r) => r.id));
    expect(await manager.queryInstances({ kind: 'echo', limit: 2, offset: 2 })).toEqual(page);
    const other = await manager.queryInstances({ kind: ['shout'] });
    expect(other.map((r) => r.id)).toEqual(shouts.map((h) => h.id));
  });
});
