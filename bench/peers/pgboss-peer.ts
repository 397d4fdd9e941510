import { setTimeout } from 'node:timers/promises';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { Completions, chunks, type PeerSpec } from './peer.js';
import { pgExec, pgUrl, postgresPids, probePostgres } from './services.js';
import { type PeerPayload, runTask } from './tasks.js';

/**
 * pg-boss 10 as its docs advise for throughput: one `work()` loop fetching batches of 1,000
 * jobs, polling at its minimum interval of 0.5 s, jobs inserted with `insert()` in batches of
 * 1,000. Its worker completes a batch without waiting for the write, so a run ends when the
 * last handler returns, and `settle()` then waits (untimed) until the database shows every
 * job completed.
 */
const BATCH = 1_000;
const POLLING_S = 0.5;
const APP = 'jobloom-peers-pgboss';
const SETTLE_POLL_MS = 20;

export const pgBossPeer: PeerSpec = {
  name: 'pg-boss',
  config: () =>
    `one work() loop, batchSize ${BATCH}, pollingIntervalSeconds ${POLLING_S}, insert × ${BATCH}`,
  unavailable: async () => (await probePostgres()).error,
  start: async (workload) => {
    const schema = `jobloom_peers_pgboss_${process.pid}_${workload.name}`;
    const queue = 'peers';
    const boss = new PgBoss({ connectionString: pgUrl(APP), schema, schedule: false });
    let failure: unknown;
    boss.on('error', (error) => {
      failure = error;
    });
    await boss.start();
    await boss.createQueue(queue);

    const completions = new Completions();
    await boss.work<PeerPayload>(
      queue,
      { batchSize: BATCH, pollingIntervalSeconds: POLLING_S },
      async (jobs) => {
        const results = jobs.map((job) => runTask(job.data));
        for (const result of results) completions.done(result.seq, result);
      },
    );
    const check = new pg.Pool({ connectionString: pgUrl(`${APP}-check`), max: 1 });

    return {
      run: async (payloads) => {
        const results = Promise.all(payloads.map((p) => completions.expect(p.seq)));
        for (const batch of chunks(payloads, BATCH)) {
          await boss.insert(batch.map((data) => ({ name: queue, data })));
        }
        if (failure) throw failure;
        return results;
      },
      settle: async () => {
        for (;;) {
          const { rows } = await check.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM "${schema}".job WHERE name = $1 AND state <> 'completed'`,
            [queue],
          );
          if ((rows[0]?.n ?? 0) === 0) return;
          await setTimeout(SETTLE_POLL_MS);
        }
      },
      serverPids: () => postgresPids(APP),
      close: async () => {
        await boss.stop({ graceful: true, wait: true });
        await check.end();
        await pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  },
};
