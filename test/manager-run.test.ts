import { afterEach, describe, expect, it } from 'vitest';
import type { JobManager } from '../src/index.js';
import { JobManager as Manager } from '../src/index.js';
import { fixture, startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

describe('running an instance', () => {
  it('returns the executor result through the handle', async () => {
    manager = await startManager();
    const handle = manager.schedule('echo', { n: 1 });
    const result = (await handle.result) as { args: unknown; attempt: number; instanceId: string };
    expect(result.args).toEqual({ n: 1 });
    expect(result.attempt).toBe(1);
    expect(result.instanceId).toBe(handle.id);
  });

  it('runs a named export and an async executor', async () => {
    manager = await startManager();
    await expect(manager.schedule('shout', { text: 'hi' }).result).resolves.toBe('HI');
    const slept = (await manager.schedule('sleep', { ms: 5, tag: 'a' }).result) as { tag: string };
    expect(slept.tag).toBe('a');
  });

  it('records created, scheduled, queued, running and completed in order, with time and attempt', async () => {
    manager = await startManager();
    const handle = manager.schedule('echo', {});
    await handle.result;
    const history = await manager.lookupInstanceHistory({ instanceId: handle.id });
    expect(history.map((h) => [h.state, h.attempt])).toEqual([
      ['created', 1],
      ['scheduled', 1],
      ['queued', 1],
      ['running', 1],
      ['completed', 1],
    ]);
    const times = history.map((h) => h.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const record = await manager.getInstance(handle.id);
    expect(record?.state).toBe('completed');
    expect(record?.result).toMatchObject({ args: {} });
  });

  it('registers a folder of worker modules, each under its file name', async () => {
    manager = new Manager({ concurrency: 1 });
    const jobs = manager.registerFolder(fixture(''));
    expect(jobs.map((job) => job.kind)).toEqual(
      expect.arrayContaining(['echo', 'sleep', 'spin', 'chatty', 'fail', 'crash']),
    );
    await manager.start();
    const result = (await manager.schedule('echo', 7).result) as { args: number };
    expect(result.args).toBe(7);
  });

  it('waits for onIdle until every scheduled instance has finished', async () => {
    manager = await startManager();
    const handles = Array.from({ length: 50 }, (_, i) => manager!.schedule('echo', i));
    await manager.onIdle();
    const done = await manager.queryInstances({ state: 'completed', limit: 1_000 });
    expect(done.map((r) => r.id).sort()).toEqual(handles.map((h) => h.id).sort());
    expect(manager.stats()).toMatchObject({ scheduled: 0, queued: 0, inFlight: 0 });
  });

  it('runs an instance after a delay or at a date', async () => {
    manager = await startManager();
    const before = Date.now();
    const delayed = manager.schedule('echo', 'later', { delayMs: 60 });
    const at = manager.schedule('echo', 'at', { at: new Date(Date.now() + 40) });
    expect((await manager.getInstance(delayed.id))?.state).not.toBe('running');
    await Promise.all([delayed.result, at.result]);
    const [running] = await manager.lookupInstanceHistory({
      instanceId: delayed.id,
      state: 'running',
    });
    expect(running!.at - before).toBeGreaterThanOrEqual(59);
  });
});
