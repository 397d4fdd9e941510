import { fileURLToPath } from 'node:url';
import { JobManager, type JobManagerOptions } from '../../src/index.js';

export const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** A started manager with the test fixtures registered as jobs. Stop it in `afterEach`. */
export async function startManager(options: JobManagerOptions = {}): Promise<JobManager> {
  const manager = new JobManager({ concurrency: 2, terminateGraceMs: 200, ...options });
  manager.register({ kind: 'echo', module: fixture('echo.ts') });
  manager.register({ kind: 'shout', module: fixture('echo.ts'), export: 'shout' });
  manager.register({ kind: 'sleep', module: fixture('sleep.ts') });
  manager.register({ kind: 'spin', module: fixture('spin.ts') });
  manager.register({
    kind: 'fail',
    module: fixture('fail.ts'),
    backoff: { delayMs: 5, jitter: 0 },
  });
  manager.register({ kind: 'throwString', module: fixture('fail.ts'), export: 'throwString' });
  manager.register({
    kind: 'returnFunction',
    module: fixture('fail.ts'),
    export: 'returnFunction',
  });
  manager.register({ kind: 'exit', module: fixture('crash.ts'), export: 'exit' });
  manager.register({ kind: 'uncaught', module: fixture('crash.ts'), export: 'uncaught' });
  manager.register({ kind: 'hog', module: fixture('crash.ts'), export: 'hog' });
  manager.register({ kind: 'chatty', module: fixture('chatty.ts') });
  manager.register({ kind: 'stream', module: fixture('chatty.ts'), export: 'stream' });
  await manager.start();
  return manager;
}

/** Settles a promise into a value or an error, for asserting on either. */
export async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: Error }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: error as Error };
  }
}

/** The largest number of [start, end) intervals that overlap at one moment. */
export function maxOverlap(intervals: readonly { started: number; ended: number }[]): number {
  const points = intervals.flatMap((i) => [
    { at: i.started, delta: 1 },
    { at: i.ended, delta: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const point of points) {
    current += point.delta;
    max = Math.max(max, current);
  }
  return max;
}
