import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { InstanceRecord } from '../types.js';
import type { InstanceRunner } from './instance-runner.js';
import type { JobRegistry } from './job-registry.js';
import type { LiveInstance } from './live-instance.js';

export interface RecoveryOptions {
  store: Store;
  registry: JobRegistry;
  runner: InstanceRunner;
  clock: Clock;
  logger: Logger;
}

/**
 * Takes back what a previous process left unfinished in a durable store. Queued and delayed
 * instances resume where they were: those due by now go to the ready queue (which dispatches
 * by priority, first-in first-out among equals: the store returns them in creation order,
 * and the dispatcher starts only after all are queued), the others wait for their time. An
 * instance that was running when its process died ran an attempt whose outcome is unknown:
 * it is counted as a failed attempt (ProcessDiedError) and retried as the next attempt if it
 * has retries left, otherwise it fails saying the process died. Delivery is at least once.
 * Instances of kinds this process has not registered are left in the store untouched.
 */
export async function recoverInstances(options: RecoveryOptions): Promise<number> {
  const { store, registry, runner, logger } = options;
  const unfinished = await store.loadUnfinished();
  let recovered = 0;
  for (const record of unfinished) {
    if (!registry.has(record.kind)) {
      logger.warn(
        { instanceId: record.id, kind: record.kind },
        'unfinished instance of an unregistered kind left in the store',
      );
      continue;
    }
    runner.recover(toLive(record, registry), record.state === 'running');
    recovered++;
  }
  return recovered;
}

function toLive(record: InstanceRecord, registry: JobRegistry): LiveInstance {
  const job = registry.get(record.kind);
  const live: LiveInstance = {
    id: record.id,
    job,
    args: record.args,
    priority: record.priority,
    timeoutMs: record.timeoutMs,
    maxRetries: record.maxRetries,
    backoff: record.backoff,
    handlers: job.handlers,
    createdAt: record.createdAt,
    state: record.state,
    attempt: record.attempt,
    dueAt: record.dueAt,
  };
  if (record.scheduleId !== undefined && record.dueFor !== undefined) {
    live.origin = {
      scheduleId: record.scheduleId,
      dueFor: record.dueFor,
      catchUp: record.catchUp ?? false,
    };
  }
  return live;
}
