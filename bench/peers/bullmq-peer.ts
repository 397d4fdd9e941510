import { availableParallelism } from 'node:os';
import { createPostgresBackend, Queue, Worker, withBackend } from 'bullmq';
import { peerFile } from './paths.js';
import { Completions, chunks, type Peer, type PeerSpec, type Workload } from './peer.js';
import {
  pgExec,
  pgUrl,
  postgresPids,
  probePostgres,
  probeRedis,
  REDIS_HOST,
  REDIS_PORT,
} from './services.js';
import { type PeerPayload, type PeerResult, runTask } from './tasks.js';

/** BullMQ's docs' example concurrency for asynchronous processors. */
const INLINE_CONCURRENCY = 50;
const BULK = 1_000;
const APP = 'jobloom-peers-bullmq';

/**
 * BullMQ configured as its docs advise for throughput: the trivial workload on an in-process
 * processor with concurrency 50; the CPU-heavy one on sandboxed processors in worker threads
 * (`useWorkerThreads`), one per core, which the docs recommend for CPU-intensive jobs. Jobs are
 * added with `addBulk` in batches of 1,000 and removed on completion; a job is done when the
 * worker's `completed` event fires (after its completion is stored).
 */
function config(workload: Workload): string {
  return workload.rounds === 0
    ? `in-process processor, concurrency ${INLINE_CONCURRENCY}, addBulk × ${BULK}, removeOnComplete`
    : `sandboxed processors in worker threads, concurrency ${availableParallelism()}, addBulk × ${BULK}`;
}

/** BullMQ on Redis: needs Redis and the Redis driver BullMQ 6 leaves to the application. */
export const bullmqRedisPeer: PeerSpec = {
  name: 'BullMQ (Redis)',
  config,
  unavailable: async () => {
    const redis = await probeRedis();
    if (redis.error) return redis.error;
    try {
      await import('ioredis' as string);
      return undefined;
    } catch {
      return 'BullMQ 6 needs its Redis driver, the optional peer dependency `ioredis`, which is not installed';
    }
  },
  start: async (workload) => {
    const connection = { host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null };
    const redis = await probeRedis();
    const name = `jobloom-peers-${process.pid}-${workload.name}`;
    return startBullmq({
      queue: new Queue(name, { connection }),
      worker: (processor, options) => new Worker(name, processor, { connection, ...options }),
      pids: async () => (redis.pid ? [redis.pid] : []),
      cleanUp: async () => {},
      workload,
    });
  },
};

/** BullMQ 6's PostgreSQL backend, in a schema of its own. */
export const bullmqPostgresPeer: PeerSpec = {
  name: 'BullMQ (PostgreSQL)',
  config,
  unavailable: async () => (await probePostgres()).error,
  start: async (workload) => {
    const schema = `jobloom_peers_bullmq_${process.pid}_${workload.name}`;
    const connection = { connectionString: pgUrl(APP), schema, migrate: true };
    const { Queue: PgQueue, Worker: PgWorker } = withBackend(createPostgresBackend);
    const name = 'peers';
    return startBullmq({
      queue: new PgQueue(name, { connection }),
      worker: (processor, options) => new PgWorker(name, processor, { connection, ...options }),
      pids: () => postgresPids(APP),
      cleanUp: () => pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
      workload,
    });
  },
};

interface AnyQueue {
  addBulk(jobs: { name: string; data: PeerPayload; opts: object }[]): Promise<unknown>;
  obliterate(options: { force: boolean }): Promise<void>;
  close(): Promise<void>;
  waitUntilReady(): Promise<unknown>;
}

interface AnyWorker {
  on(event: 'completed', listener: (job: { data: PeerPayload }, result: PeerResult) => void): void;
  on(event: 'failed', listener: (job: unknown, error: Error) => void): void;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}

interface BullmqSetup {
  queue: AnyQueue;
  worker: (
    processor: string | ((job: { data: PeerPayload }) => Promise<PeerResult>),
    options: object,
  ) => AnyWorker;
  pids: () => Promise<number[]>;
  cleanUp: () => Promise<void>;
  workload: Workload;
}

async function startBullmq(setup: BullmqSetup): Promise<Peer> {
  const { queue, workload } = setup;
  const completions = new Completions();
  const worker =
    workload.rounds === 0
      ? setup.worker(async (job) => runTask(job.data), { concurrency: INLINE_CONCURRENCY })
      : setup.worker(peerFile('bullmq-processor'), {
          concurrency: availableParallelism(),
          useWorkerThreads: true,
        });
  worker.on('completed', (job, result) => completions.done(job.data.seq, result));
  worker.on('failed', (_job, error) => completions.failAll(error));
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);

  return {
    run: async (payloads) => {
      const results = Promise.all(payloads.map((p) => completions.expect(p.seq)));
      for (const batch of chunks(payloads, BULK)) {
        await queue.addBulk(
          batch.map((data) => ({ name: 'peer', data, opts: { removeOnComplete: true } })),
        );
      }
      return results;
    },
    serverPids: setup.pids,
    close: async () => {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await setup.cleanUp();
    },
  };
}
