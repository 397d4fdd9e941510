import { describe, expect, it, vi } from 'vitest';
import { HistoryWriter } from '../src/history/history-writer.js';
import type { Store, StoreWrite } from '../src/store/store.js';

/** One `write` call the test ends by hand. */
interface Call {
  batch: readonly StoreWrite[];
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A store that records each write and lets the test decide when and how it ends. */
function handStore(writesInFlight?: number) {
  const calls: Call[] = [];
  const store = {
    name: 'hand',
    writesInFlight,
    write(batch: readonly StoreWrite[]): Promise<void> {
      return new Promise((resolve, reject) => calls.push({ batch, resolve, reject }));
    },
  } as unknown as Store;
  return { store, calls };
}

function log(n: number): StoreWrite {
  const line = { instanceId: 'i', kind: 'k', attempt: 1, level: 'info', message: `${n}`, at: n };
  return { op: 'log', line: { ...line, seq: n } } as StoreWrite;
}

/** The numbers of the log lines in each batch written so far. */
function numbersOf(calls: readonly Call[]): number[][] {
  return calls.map((call) =>
    call.batch.map((change) => (change.op === 'log' ? change.line.seq : Number.NaN)),
  );
}

/** Whether a flush asked for now has resolved yet. */
function watchFlush(writer: HistoryWriter): { done: boolean } {
  const flush = { done: false };
  void writer.flush().then(() => {
    flush.done = true;
  });
  return flush;
}

function writerOn(store: Store, onError: (error: unknown) => void = () => {}) {
  return new HistoryWriter({ store, batchDelayMs: 0, maxBatchSize: 2, retryDelayMs: 0, onError });
}

describe('HistoryWriter', () => {
  it('waits for each write before the next on a store that takes one at a time', async () => {
    const { store, calls } = handStore();
    const writer = writerOn(store);
    for (let n = 1; n <= 4; n++) writer.write(log(n));

    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toHaveLength(1);

    calls[0]?.resolve();
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(numbersOf(calls)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('sends the next batch while one is being written, and flushes once both are stored', async () => {
    const { store, calls } = handStore(2);
    const writer = writerOn(store);
    for (let n = 1; n <= 6; n++) writer.write(log(n));
    const flush = watchFlush(writer);

    await vi.waitFor(() => expect(calls).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toHaveLength(2);

    calls[0]?.resolve();
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    calls[1]?.resolve();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(flush.done).toBe(false);

    calls[2]?.resolve();
    await vi.waitFor(() => expect(flush.done).toBe(true));
    expect(numbersOf(calls)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('sends a full batch from write itself while the store has room, before the caller yields', () => {
    const { store, calls } = handStore(2);
    const writer = writerOn(store);
    writer.write(log(1));
    expect(calls).toHaveLength(0);
    writer.write(log(2));
    expect(numbersOf(calls)).toEqual([[1, 2]]);
    for (let n = 3; n <= 8; n++) writer.write(log(n));
    expect(numbersOf(calls)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(writer.pending).toBe(4);
  });

  it('counts a write stored only once those sent before it are', async () => {
    const { store, calls } = handStore(2);
    const writer = writerOn(store);
    for (let n = 1; n <= 4; n++) writer.write(log(n));
    const flush = watchFlush(writer);
    await vi.waitFor(() => expect(calls).toHaveLength(2));

    calls[1]?.resolve();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(flush.done).toBe(false);
    calls[0]?.resolve();
    await vi.waitFor(() => expect(flush.done).toBe(true));
  });

  it('sends a failed batch and every batch sent after it again, in order, and reports once', async () => {
    const { store, calls } = handStore(2);
    const errors: unknown[] = [];
    const writer = writerOn(store, (error) => errors.push(error));
    for (let n = 1; n <= 4; n++) writer.write(log(n));
    await vi.waitFor(() => expect(calls).toHaveLength(2));

    calls[0]?.reject(new Error('disk full'));
    writer.write(log(5));
    calls[1]?.reject(new Error('not applied: a batch before it failed'));

    await vi.waitFor(() => expect(calls).toHaveLength(4));
    calls[2]?.resolve();
    calls[3]?.resolve();
    await vi.waitFor(() => expect(calls).toHaveLength(5));
    calls[4]?.resolve();
    await writer.flush();

    expect(errors).toEqual([new Error('disk full')]);
    expect(numbersOf(calls)).toEqual([[1, 2], [3, 4], [1, 2], [3, 4], [5]]);
  });

  it('sends nothing while a failed batch waits to be sent again', async () => {
    const { store, calls } = handStore(2);
    const writer = new HistoryWriter({
      store,
      batchDelayMs: 0,
      maxBatchSize: 2,
      retryDelayMs: 60_000,
      onError: () => {},
    });
    writer.write(log(1));
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]?.reject(new Error('locked'));
    await new Promise((resolve) => setTimeout(resolve, 0));

    for (let n = 2; n <= 5; n++) writer.write(log(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toHaveLength(1);
    expect(writer.pending).toBe(5);
  });
});
