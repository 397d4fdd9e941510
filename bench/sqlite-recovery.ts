/**
 * One recovery run of the SQLite benchmark, in a process of its own: `node
 * dist/bench/sqlite-recovery.js <file>` starts a manager on a file of queued instances and
 * prints, as JSON, how long `start()` took and how long until the first attempt ran; then it
 * exits without stopping, as the benchmark needs nothing more from it.
 */
import { JobManager } from '../src/index.js';
import { TRIVIAL } from './sqlite-cases.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: sqlite-recovery.js <file>');

let firstRunning: (at: number) => void = () => {};
const running = new Promise<number>((resolve) => (firstRunning = resolve));
const started = performance.now();
const manager = new JobManager({ database: file });
manager.register({ kind: 'trivial', module: TRIVIAL });
manager.on('instance:state', (e) => {
  if (e.state === 'running') firstRunning(performance.now());
});
await manager.start();
const startMs = performance.now() - started;
const firstAttemptMs = (await running) - started;
process.stdout.write(`${JSON.stringify({ startMs, firstAttemptMs })}\n`);
process.exit(0);
