import { availableParallelism } from 'node:os';
import { JobManager } from '../../src/index.js';
import { peerFile } from './paths.js';
import type { PeerSpec } from './peer.js';
import type { PeerPayload, PeerResult } from './tasks.js';

/**
 * jobloom as a user gets it: a JobManager with its defaults (a thread per core, prefetch 2,
 * the memory store keeping full state history), each payload one `schedule()`.
 */
export const jobloomPeer: PeerSpec = {
  name: 'jobloom',
  config: () =>
    `${availableParallelism()} threads (default), prefetch 2 (default), memory store with history`,
  unavailable: async () => undefined,
  start: async () => {
    const manager = new JobManager();
    manager.register({ kind: 'peer', module: peerFile('tasks') });
    await manager.start();
    return {
      run: (payloads: readonly PeerPayload[]) =>
        Promise.all(payloads.map((p) => manager.schedule<PeerResult>('peer', p).result)),
      serverPids: async () => [],
      close: () => manager.stop(),
    };
  },
};
