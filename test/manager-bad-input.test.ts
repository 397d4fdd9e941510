import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  JobManager,
  NotCloneableError,
  UnknownKindError,
} from '../src/index.js';
import { fixture, startManager } from './support/manager.js';

let manager: JobManager | undefined;
afterEach(async () => {
  await manager?.stop({ mode: 'cancel' });
  manager = undefined;
});

async function expectNothingEnqueued(m: JobManager): Promise<void> {
  expect(m.stats()).toMatchObject({ scheduled: 0, queued: 0, inFlight: 0 });
  await m.flushHistory();
  expect(await m.queryInstances({})).toEqual([]);
}

class Point {
  constructor(readonly x: number) {}
}

describe('bad input stops at the boundary', () => {
  it('refuses an unknown kind', async () => {
    manager = await startManager();
    expect(() => manager!.schedule('nope', {})).toThrow(UnknownKindError);
    await expectNothingEnqueued(manager);
  });

  it.each([
    ['a function', { onDone: () => 1 }, 'args.onDone'],
    ['a class instance', { items: [1, new Point(1)] }, 'args.items[1]'],
    ['a symbol', { deep: { s: Symbol('x') } }, 'args.deep.s'],
    ['a promise', Promise.resolve(1), 'args'],
  ])('refuses arguments holding %s, naming the path', async (_what, args, path) => {
    manager = await startManager();
    let thrown: unknown;
    try {
      manager.schedule('echo', args);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NotCloneableError);
    expect((thrown as NotCloneableError).path).toBe(path);
    await expectNothingEnqueued(manager);
  });

  it('refuses a socket in the arguments', async () => {
    manager = await startManager();
    const server = createServer();
    try {
      expect(() => manager!.schedule('echo', { server })).toThrow(
        /args\.server: an instance of Server/,
      );
    } finally {
      server.close();
    }
    await expectNothingEnqueued(manager);
  });

  it('accepts plain data of every cloneable kind', async () => {
    manager = await startManager();
    const args = {
      d: new Date(0),
      m: new Map([['k', [1]]]),
      s: new Set([1]),
      b: new Uint8Array([1]),
      n: null,
    };
    const result = (await manager.schedule('echo', args).result) as { args: typeof args };
    expect(result.args.m.get('k')).toEqual([1]);
  });

  it.each([
    [{ delayMs: -1 }, 'options.delayMs'],
    [{ priority: 1.5 }, 'options.priority'],
    [{ priority: 11 }, 'options.priority'],
    [{ timeoutMs: 0 }, 'options.timeoutMs'],
    [{ maxRetries: -1 }, 'options.maxRetries'],
    [{ backoff: { type: 'linear' } }, 'options.backoff.type'],
    [{ backoff: { jitter: 2 } }, 'options.backoff.jitter'],
    [{ at: new Date('nonsense') }, 'options.at'],
    [{ delayMs: 1, at: Date.now() }, 'options.at'],
    [{ priorty: 1 }, 'options.priorty'],
    [{ onComplete: 'yes' }, 'options.onComplete'],
  ])('refuses schedule options %j, naming %s', async (options, path) => {
    manager = await startManager();
    expect(() => manager!.schedule('echo', 1, options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', path }),
    );
    await expectNothingEnqueued(manager);
  });

  it.each([
    [{ concurrency: 0 }, 'options.concurrency'],
    [{ concurrency: 2.5 }, 'options.concurrency'],
    [{ prefetch: 0 }, 'options.prefetch'],
    [{ terminateGraceMs: -5 }, 'options.terminateGraceMs'],
    [{ threads: 2 }, 'options.threads'],
  ])('refuses manager options %j before any thread starts', (options, path) => {
    expect(() => new JobManager(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', path }),
    );
  });

  it('refuses invalid job definitions', () => {
    const m = new JobManager({ concurrency: 1 });
    expect(() => m.register({ kind: 'bad kind', module: fixture('echo.ts') })).toThrow(
      InvalidOptionError,
    );
    expect(() => m.register({ kind: 'x', module: fixture('missing.ts') })).toThrow(
      /job\(x\)\.module/,
    );
    m.register({ kind: 'echo', module: fixture('echo.ts') });
    expect(() => m.register({ kind: 'echo', module: fixture('echo.ts') })).toThrow(
      /already registered/,
    );
    expect(() => m.registerFolder(fixture('no-such-folder'))).toThrow(InvalidOptionError);
  });

  it('fails an instance whose export does not exist, without retrying', async () => {
    manager = await startManager();
    manager.register({ kind: 'ghost', module: fixture('echo.ts'), export: 'ghost', maxRetries: 3 });
    await expect(manager.schedule('ghost').result).rejects.toThrow(/no function export "ghost"/);
  });
});

describe('arguments with shared and cyclic references', () => {
  it('accepts the same object reached twice, and refuses a cycle naming where it closes', async () => {
    manager = await startManager();
    const shared = { n: 1 };
    await expect(
      manager.schedule('echo', { a: shared, b: [shared] }).result,
    ).resolves.toBeDefined();
    const cyclic: Record<string, unknown> = { list: [] };
    (cyclic.list as unknown[]).push({ parent: cyclic });
    expect(() => manager!.schedule('echo', cyclic)).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_CLONEABLE', path: 'args.list[0].parent' }),
    );
  });
});
