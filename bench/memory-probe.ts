/**
 * Measures heap bytes per instance, in a process of its own started with `--expose-gc` (see
 * memory.ts): per queued instance with many queued, and per finished instance kept in the
 * memory store's history. Prints one JSON object on stdout.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { MemoryStore } from '../src/index.js';
import { runBatch, startManager } from './managers.js';

const queuedCount = Number(process.argv[2] ?? 100_000);
const finishedCount = Number(process.argv[3] ?? 20_000);

/** Heap in use after full collections, once what is left of the last work is garbage. */
async function settledHeapBytes(): Promise<number> {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('memory-probe needs node --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await nextTurn();
  }
  return getHeapStatistics().used_heap_size;
}

/**
 * One thread, held by a long sleep, so every trivial instance scheduled stays queued. What is
 * counted is all a queued instance costs: its live copy, its place in the ready queue, and its
 * record with three transitions (created, scheduled, queued) in the store.
 */
async function bytesPerQueued(): Promise<{ bytes: number; scheduleMicros: number }> {
  const manager = await startManager(['sleep', 'trivial'], { concurrency: 1, prefetch: 1 });
  manager.schedule('sleep', { ms: 600_000 });
  for (let n = 0; n < 1_000; n++) manager.schedule('trivial', { n });
  await manager.flushHistory();
  const before = await settledHeapBytes();

  const startedMs = performance.now();
  for (let n = 0; n < queuedCount; n++) manager.schedule('trivial', { n });
  const scheduleMicros = ((performance.now() - startedMs) * 1000) / queuedCount;
  await manager.flushHistory();
  const after = await settledHeapBytes();
  if (manager.stats().queued < queuedCount) throw new Error('instances ran; the pool was not held');

  await manager.stop({ mode: 'cancel' });
  return { bytes: (after - before) / queuedCount, scheduleMicros };
}

/** Finished instances kept with their history (state transitions and result), none evicted. */
async function bytesPerFinished(): Promise<number> {
  const store = new MemoryStore({ maxFinished: Number.POSITIVE_INFINITY });
  const manager = await startManager(['trivial'], { concurrency: 2, store });
  await runBatch(manager, 'trivial', 1_000, (n) => ({ n }));
  const before = await settledHeapBytes();

  await runBatch(manager, 'trivial', finishedCount, (n) => ({ n }));
  await manager.flushHistory();
  const after = await settledHeapBytes();

  await manager.stop();
  return (after - before) / finishedCount;
}

const queued = await bytesPerQueued();
const finished = await bytesPerFinished();
process.stdout.write(
  `${JSON.stringify({
    queuedCount,
    finishedCount,
    bytesPerQueued: queued.bytes,
    scheduleMicros: queued.scheduleMicros,
    bytesPerFinished: finished,
  })}\n`,
);
