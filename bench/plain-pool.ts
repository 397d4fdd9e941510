import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { benchScript } from './paths.js';
import type { PlainMessage } from './plain-thread.js';

/**
 * Plain `worker_threads` with no pool library: the floor of message passing (one message per
 * task, all posted at once, spread round-robin) and the ceiling of CPU work (each thread runs
 * its share in one loop with no messages in between).
 */
export class PlainThreads {
  readonly #threads: Worker[];

  private constructor(threads: Worker[]) {
    this.#threads = threads;
  }

  static async start(count: number): Promise<PlainThreads> {
    const threads = Array.from({ length: count }, () => new Worker(benchScript('plain-thread')));
    await Promise.all(threads.map((thread) => once(thread, 'online')));
    return new PlainThreads(threads);
  }

  /** Posts `tasks` trivial tasks at once and resolves when every answer is back. */
  trivial(tasks: number): Promise<void> {
    return new Promise((resolve) => {
      let answered = 0;
      const onAnswer = () => {
        if (++answered < tasks) return;
        for (const thread of this.#threads) thread.off('message', onAnswer);
        resolve();
      };
      for (const thread of this.#threads) thread.on('message', onAnswer);
      for (let n = 0; n < tasks; n++) {
        const message: PlainMessage = { type: 'trivial', args: { n } };
        this.#threads[n % this.#threads.length]?.postMessage(message);
      }
    });
  }

  /** Splits `jobs` hash jobs of `rounds` rounds evenly over the threads; resolves when all end. */
  async hash(jobs: number, rounds: number): Promise<void> {
    const count = this.#threads.length;
    let firstSeed = 0;
    const done = this.#threads.map((thread, i) => {
      const share = Math.floor(jobs / count) + (i < jobs % count ? 1 : 0);
      const message: PlainMessage = { type: 'hash', jobs: share, rounds, firstSeed };
      firstSeed += share;
      const answered = once(thread, 'message');
      thread.postMessage(message);
      return answered;
    });
    await Promise.all(done);
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.terminate()));
  }
}
