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

/**
 * Checkpoints wait for a quiet moment: a checkpoint copies the WAL into the file and syncs it,
 * 10–50 ms on a two-core VM, and a write batch waiting behind it waits that long. Once this
 * many changes were written since the last one, the thread checkpoints when no request came
 * for IDLE_MS; a burst that never lets it rest is checkpointed by SQLite itself once the WAL
 * reaches WAL_CHECKPOINT_PAGES (sqlite-open.ts).
 */
const CHECKPOINT_AFTER_CHANGES = 2_000;
const IDLE_MS = 2;

let changesSinceCheckpoint = 0;
let lastRequestAt = 0;
let idleTimer: NodeJS.Timeout | undefined;

function checkpointWhenIdle(): void {
  idleTimer = undefined;
  if (engine === undefined) return;
  const quietMs = performance.now() - lastRequestAt;
  if (quietMs < IDLE_MS) {
    idleTimer = setTimeout(checkpointWhenIdle, IDLE_MS - quietMs);
    return;
  }
  changesSinceCheckpoint = 0;
  try {
    engine.checkpoint();
  } catch {
    // Nothing is lost: the WAL keeps what was not copied, and a later checkpoint copies it.
  }
}

port.on('message', ({ id, doing, request }: ThreadRequest) => {
  if (engine === undefined) return reply({ id, error: failure(doing, 'the store is not open') });
  try {
    reply({ id, value: engine.handle(request) });
  } catch (error) {
    reply({ id, error: failure(doing, error) });
  }
  lastRequestAt = performance.now();
  if (request.op === 'close') {
    clearTimeout(idleTimer);
    engine = undefined;
  } else if (request.op === 'write') {
    changesSinceCheckpoint += request.changes;
    if (changesSinceCheckpoint >= CHECKPOINT_AFTER_CHANGES && idleTimer === undefined) {
      idleTimer = setTimeout(checkpointWhenIdle, IDLE_MS);
    }
  }
});
