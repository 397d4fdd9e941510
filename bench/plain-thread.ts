/**
 * The thread side of the plain `worker_threads` baselines (see plain-pool.ts). No Piscina, no
 * jobloom: a synchronous message handler that either answers each message with the trivial
 * executor's result, or runs a share of the hash work in one loop and answers once.
 */
import { parentPort } from 'node:worker_threads';
import { hashInput, hashRounds } from '../workers/hash.js';
import trivial, { type TrivialArgs } from '../workers/trivial.js';

export type PlainMessage =
  | { type: 'trivial'; args: TrivialArgs }
  | { type: 'hash'; jobs: number; rounds: number; firstSeed: number };

parentPort?.on('message', (message: PlainMessage) => {
  if (message.type === 'trivial') {
    parentPort?.postMessage(trivial(message.args));
    return;
  }
  let digests = 0;
  for (let job = 0; job < message.jobs; job++) {
    const input = hashInput(String(message.firstSeed + job), 1_024);
    digests += hashRounds(input, message.rounds).length;
  }
  parentPort?.postMessage({ digests });
});
