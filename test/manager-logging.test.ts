import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobManager } from '../src/index.js';
import { settle, startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
  vi.restoreAllMocks();
});

function collectingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('logging', () => {
  it('logs through the injected pino logger, with children bound to kind, instance and attempt', async () => {
    const { logger, lines } = collectingLogger();
    manager = await startManager({ logger });
    const handle = manager.schedule('fail', {});
    await settle(handle.result);
    const failed = lines.find((l) => l.msg === 'attempt failed');
    expect(failed).toMatchObject({ level: 50, kind: 'fail', instanceId: handle.id, attempt: 1 });
    const changes = lines.filter((l) => l.msg === 'state changed' && l.instanceId === handle.id);
    expect(changes.map((l) => l.state)).toEqual([
      'created',
      'scheduled',
      'queued',
      'running',
      'failed',
    ]);
    expect(lines.some((l) => l.msg === 'started' && l.level === 30)).toBe(true);
  });

  it('never writes to the console, even when things fail', async () => {
    const writes = [
      vi.spyOn(process.stdout, 'write'),
      vi.spyOn(process.stderr, 'write'),
      vi.spyOn(console, 'log'),
      vi.spyOn(console, 'error'),
      vi.spyOn(console, 'warn'),
    ];
    manager = await startManager();
    await settle(manager.schedule('fail', {}).result);
    await settle(manager.schedule('exit', {}).result);
    await manager.schedule('chatty', { lines: 5 }).result;
    await manager.stop();
    manager = undefined;
    for (const spy of writes) expect(spy).not.toHaveBeenCalled();
  });
});
