import { setTimeout } from 'node:timers/promises';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import pg from 'pg';
import { Completions, chunks, type PeerSpec } from './peer.js';
import { pgExec, pgUrl, postgresPids, probePostgres } from './services.js';
import { type PeerPayload, runTask } from './tasks.js';

/**
 * graphile-worker with the configuration of its own performance page: 24 concurrent jobs, a
 * pool of 25 connections, a local queue of 500 jobs fetched in one claim, and completions
 * batched with no delay. Jobs go in with `addJobs` in batches of 1,000. A job is done at its
 * `job:complete` event; in 0.17.3 that fires when the handler returns, before the batched
 * completion reaches the database (its docs say after), so `settle()` then waits, untimed,
 * until the jobs table is empty (completed jobs are deleted).
 */
const CONCURRENCY = 24;
const POOL_SIZE = 25;
const LOCAL_QUEUE = 500;
const BULK = 1_000;
const APP = 'jobloom-peers-graphile';
const SETTLE_POLL_MS = 20;
const silent = new Logger(() => () => {});

export const graphilePeer: PeerSpec = {
  name: 'graphile-worker',
  config: () =>
    `concurrency ${CONCURRENCY}, pool ${POOL_SIZE}, localQueue ${LOCAL_QUEUE}, completeJobBatchDelay 0, addJobs × ${BULK}`,
  unavailable: async () => (await probePostgres()).error,
  start: async (workload) => {
    const schema = `jobloom_peers_graphile_${process.pid}_${workload.name}`;
    const pool = new pg.Pool({ connectionString: pgUrl(APP), max: POOL_SIZE });
    const completions = new Completions();
    // A connection's error (the server restarting) fails the run instead of the process.
    pool.on('error', (error) => completions.failAll(error));
    pool.on('connect', (client) => client.on('error', (error) => completions.failAll(error)));
    const runner = await run({
      pgPool: pool,
      schema,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: silent,
      taskList: {
        peer: async (payload) => {
          completions.started(runTask(payload as PeerPayload));
        },
      },
      preset: {
        worker: {
          localQueue: { size: LOCAL_QUEUE },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
    });
    runner.events.on('job:complete', ({ job, error }) => {
      if (error) completions.failAll(error);
      else completions.done((job.payload as PeerPayload).seq);
    });
    const utils = await makeWorkerUtils({ pgPool: pool, schema, logger: silent });
    const check = new pg.Pool({ connectionString: pgUrl(`${APP}-check`), max: 1 });

    return {
      run: async (payloads) => {
        const results = Promise.all(payloads.map((p) => completions.expect(p.seq)));
        for (const batch of chunks(payloads, BULK)) {
          await utils.addJobs(batch.map((payload) => ({ identifier: 'peer', payload })));
        }
        return results;
      },
      settle: async () => {
        for (;;) {
          const { rows } = await check.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM "${schema}"._private_jobs`,
          );
          if ((rows[0]?.n ?? 0) === 0) return;
          await setTimeout(SETTLE_POLL_MS);
        }
      },
      serverPids: () => postgresPids(APP),
      close: async () => {
        await runner.stop();
        await check.end();
        await utils.release();
        await pool.end();
        await pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  },
};
