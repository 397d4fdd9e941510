/**
 * The script Bree starts a new thread for on every run. Bree hands it the job's `workerData`
 * (the rounds to run); it reports its start time, then says `done` so Bree ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { preciseNow, runTask } from './tasks.js';

const startedAt = preciseNow();
const { rounds } = workerData as { rounds: number };
runTask({ seq: 0, rounds, enqueuedAt: startedAt });
parentPort?.postMessage({ startedAt });
parentPort?.postMessage('done');
