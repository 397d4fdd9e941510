/**
 * The SQLite store's own thread: it opens the file with the options in `workerData`, then
 * answers each request of its SqliteStore (see sqlite-thread.ts), in the order they came,
 * with `{ id, value }` or `{ id, error }`. The first message, id 0, says whether the file
 * opened. Everything it throws becomes a StoreError naming the file and what it was doing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEngine } from './sqlite-engine.js';
import { sqliteStoreError, storeErrorData } from './sqlite-errors.js';
import type { ThreadReply, ThreadRequest, ThreadStart } from './sqlite-thread.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-thread-entry.ts runs as a worker thread');
const { options, now } = workerData as ThreadStart;

const reply = (message: ThreadReply) => port.postMessage(message);
const failure = (doing: string, error: unknown) =>
  storeErrorData(sqliteStoreError(options.path, doing, error));

let engine: SqliteEngine | undefined;
try {
  engine = new SqliteEngine(options, now);
  reply({ id: 0, value: undefined });
} catch (error) {
  reply({ id: 0, error: failure('cannot open', error) });
}

port.on('message', ({ id, doing, request }: ThreadRequest) => {
  if (engine === undefined) return reply({ id, error: failure(doing, 'the store is not open') });
  try {
    reply({ id, value: engine.handle(request) });
  } catch (error) {
    reply({ id, error: failure(doing, error) });
  }
});
