import { availableParallelism } from 'node:os';
import Bree from 'bree';
import { peerFile } from './paths.js';
import type { Peer, PeerSpec, Workload } from './peer.js';
import type { PeerPayload, PeerResult } from './tasks.js';

/**
 * Bree, which starts a new thread for every run of a job. Bree runs one instance of a named
 * job at a time, so running one job per core at once takes that many job names for the same
 * script; a small feeder here starts the next payload on whichever name comes free.
 */
export const breePeer: PeerSpec = {
  name: 'Bree',
  config: () =>
    `a new thread per run, ${availableParallelism()} runs at once (one job name per core)`,
  unavailable: async () => undefined,
  start: async (workload) => new BreePeer(workload),
};

interface Pending {
  payload: PeerPayload;
  resolve: (result: PeerResult) => void;
  reject: (error: unknown) => void;
}

class BreePeer implements Peer {
  readonly #bree: Bree;
  readonly #names: string[];
  readonly #free: string[];
  readonly #backlog: Pending[] = [];
  readonly #running = new Map<string, Pending>();
  readonly #startedAt = new Map<string, number>();
  readonly #errors = new Map<string, unknown>();

  constructor(workload: Workload) {
    this.#names = Array.from({ length: availableParallelism() }, (_, i) => `peer-${i}`);
    this.#free = [...this.#names];
    this.#bree = new Bree({
      root: false,
      logger: false,
      doRootCheck: false,
      jobs: this.#names.map((name) => ({
        name,
        path: peerFile('bree-job'),
        worker: { workerData: { rounds: workload.rounds } },
      })),
      workerMessageHandler: ({ name, message }: { name: string; message: unknown }) => {
        if (typeof message === 'object' && message !== null && 'startedAt' in message) {
          this.#startedAt.set(name, (message as { startedAt: number }).startedAt);
        }
      },
      errorHandler: (error: unknown, meta: { name: string }) => {
        this.#errors.set(meta.name, error);
      },
    });
    this.#bree.on('worker deleted', (name: string) => this.#finished(name));
  }

  run(payloads: readonly PeerPayload[]): Promise<PeerResult[]> {
    const results = payloads.map(
      (payload) =>
        new Promise<PeerResult>((resolve, reject) =>
          this.#backlog.push({ payload, resolve, reject }),
        ),
    );
    this.#feed();
    return Promise.all(results);
  }

  async serverPids(): Promise<number[]> {
    return [];
  }

  async close(): Promise<void> {
    await this.#bree.stop();
  }

  #feed(): void {
    while (this.#free.length > 0 && this.#backlog.length > 0) {
      const name = this.#free.shift() as string;
      this.#running.set(name, this.#backlog.shift() as Pending);
      void this.#bree.run(name);
    }
  }

  #finished(name: string): void {
    const job = this.#running.get(name);
    this.#running.delete(name);
    const startedAt = this.#startedAt.get(name);
    const error = this.#errors.get(name);
    this.#startedAt.delete(name);
    this.#errors.delete(name);
    if (job && startedAt !== undefined) job.resolve({ seq: job.payload.seq, startedAt });
    else job?.reject(error ?? new Error(`Bree job ${name} ended without reporting its start`));
    this.#free.push(name);
    this.#feed();
  }
}
