import { JobManager, type JobManagerOptions } from '../src/index.js';
import { workerModule } from './paths.js';

/** A started manager with the named bundled workers registered under their own names. */
export async function startManager(
  kinds: readonly string[],
  options: JobManagerOptions = {},
): Promise<JobManager> {
  const manager = new JobManager(options);
  for (const kind of kinds) manager.register({ kind, module: workerModule(kind) });
  await manager.start();
  return manager;
}

/** Schedules `count` instances of `kind` at once and resolves when the manager is idle. */
export async function runBatch(
  manager: JobManager,
  kind: string,
  count: number,
  argsOf: (n: number) => unknown,
): Promise<void> {
  for (let n = 0; n < count; n++) manager.schedule(kind, argsOf(n));
  await manager.onIdle();
}
