import { setTimeout as sleep } from 'node:timers/promises';
import type { Peer } from './peer.js';
import { processCpuMs } from './services.js';
import { type PeerPayload, preciseNow } from './tasks.js';

/** One bulk run: every job enqueued at once, then processed. */
export interface BulkFigures {
  jobs: number;
  /** From the first enqueue call to the last job done, in ms. */
  wallMs: number;
  /** CPU time of this process (every thread in it), user + system, in ms, until settled. */
  processCpuMs: number;
  /** CPU time of the peer's server processes (Redis, its PostgreSQL backends), in ms. */
  serverCpuMs: number;
}

export async function bulkRun(peer: Peer, jobs: number, rounds: number): Promise<BulkFigures> {
  const payloads: PeerPayload[] = Array.from({ length: jobs }, (_, seq) => ({
    seq,
    enqueuedAt: 0,
    rounds,
  }));
  const serverBefore = processCpuMs(await peer.serverPids());
  const cpuBefore = process.cpuUsage();
  const startedAt = preciseNow();
  for (const payload of payloads) payload.enqueuedAt = startedAt;

  await peer.run(payloads);
  const wallMs = preciseNow() - startedAt;
  await peer.settle?.();

  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = processCpuMs(await peer.serverPids());
  let serverCpuMs = 0;
  for (const [pid, ms] of serverAfter) serverCpuMs += ms - (serverBefore.get(pid) ?? 0);
  return { jobs, wallMs, processCpuMs: (cpu.user + cpu.system) / 1000, serverCpuMs };
}

/**
 * Enqueue-to-start latency under light load: `count` jobs handed over one at a time,
 * `spacingMs` apart, without waiting for each to finish. Returns each job's latency in ms.
 */
export async function pacedRun(
  peer: Peer,
  count: number,
  spacingMs: number,
  rounds: number,
): Promise<number[]> {
  const runs: Promise<number>[] = [];
  for (let seq = 0; seq < count; seq++) {
    const payload: PeerPayload = { seq, enqueuedAt: preciseNow(), rounds };
    runs.push(
      peer.run([payload]).then(([result]) => (result?.startedAt ?? NaN) - payload.enqueuedAt),
    );
    await sleep(spacingMs);
  }
  const latencies = await Promise.all(runs);
  await peer.settle?.();
  return latencies;
}
