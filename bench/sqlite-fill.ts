import { randomUUID } from 'node:crypto';
import {
  type BackoffPolicy,
  type InstanceState,
  SqliteStore,
  type StateTransition,
  type StoreWrite,
} from '../src/index.js';

const BACKOFF: BackoffPolicy = {
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

/**
 * Writes a file holding `count` queued trivial instances, as a manager that died with a long
 * queue leaves it: each with its created, scheduled and queued transitions, priorities spread
 * over 0–10, created a millisecond apart.
 */
export async function writeQueuedFile(path: string, count: number): Promise<void> {
  const store = new SqliteStore({ path });
  await store.open();
  const createdAt = Date.now() - count;
  const chunk = 5_000;
  for (let first = 0; first < count; first += chunk) {
    const batch: StoreWrite[] = [];
    for (let n = first; n < Math.min(count, first + chunk); n++) {
      batch.push(queued(n, createdAt + n));
    }
    await store.write(batch);
  }
  await store.close();
}

function queued(n: number, at: number): StoreWrite {
  const id = randomUUID();
  const transition = (state: InstanceState, seq: number): StateTransition => ({
    instanceId: id,
    kind: 'trivial',
    state,
    attempt: 1,
    at,
    seq: at * 1_000 + seq,
  });
  return {
    op: 'create',
    transitions: [transition('created', 0), transition('scheduled', 1), transition('queued', 2)],
    instance: {
      id,
      kind: 'trivial',
      args: { n },
      priority: n % 11,
      state: 'queued',
      attempt: 0,
      maxRetries: 3,
      timeoutMs: null,
      backoff: BACKOFF,
      createdAt: at,
      dueAt: at,
      updatedAt: at,
      startedAt: null,
      finishedAt: null,
    },
  };
}
