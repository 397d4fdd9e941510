import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { peerFile } from './paths.js';
import type { PeerSpec } from './peer.js';
import type { PeerPayload, PeerResult } from './tasks.js';

/**
 * Raw Piscina, the pool jobloom wraps: a fixed pool of one thread per core (its docs size CPU
 * pools by cores) with its default of one task at a time per thread, `run()` per payload.
 */
export const piscinaPeer: PeerSpec = {
  name: 'Piscina',
  config: () =>
    `${availableParallelism()} threads (min = max), concurrentTasksPerWorker 1 (default), run() per job`,
  unavailable: async () => undefined,
  start: async () => {
    const threads = availableParallelism();
    const pool = new Piscina<PeerPayload, PeerResult>({
      filename: peerFile('tasks'),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
    return {
      run: (payloads) => Promise.all(payloads.map((p) => pool.run(p))),
      serverPids: async () => [],
      close: () => pool.destroy(),
    };
  },
};
