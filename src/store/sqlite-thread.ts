import { Worker } from 'node:worker_threads';
import { StoreError } from '../errors.js';
import type { EngineRequest } from './sqlite-engine.js';
import { type StoreErrorData, sqliteStoreError, storeErrorFrom } from './sqlite-errors.js';
import type { EngineOptions } from './sqlite-options.js';

/** What the store's thread starts with (`workerData`). */
export interface ThreadStart {
  options: EngineOptions;
  /** The store's time, for the retention pass at open. */
  now: number;
}

export interface ThreadRequest {
  id: number;
  /** What the store is doing, for the error message: "cannot write a batch of 12 changes". */
  doing: string;
  request: EngineRequest;
}

export type ThreadReply = { id: number; value: unknown } | { id: number; error: StoreErrorData };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: StoreError) => void;
}

/**
 * A SqliteStore's own thread, seen from the thread that made the store. Each store call is a
 * request that the thread answers in order; a write batch's transaction (and a checkpoint of
 * the WAL, now and then) runs there, so the main thread only copies the batch across.
 *
 * The thread holds the process open only while a request waits for its answer, so an open
 * store keeps no process alive, as a synchronous one would not. A thread that dies (out of
 * memory, say) fails every waiting request and every later one with a StoreError.
 */
export class SqliteThread {
  readonly #path: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #gone: string | undefined;

  private constructor(path: string, worker: Worker) {
    this.#path = path;
    this.#worker = worker;
    worker.on('message', (reply: ThreadReply) => this.#answer(reply));
    worker.on('error', (error) => this.#lost(`its thread failed: ${error.message}`));
    worker.on('exit', (code) => this.#lost(`its thread exited with code ${code}`));
  }

  /** Starts the thread and resolves once the file is open there; rejects with its StoreError. */
  static async open(options: EngineOptions, now: number): Promise<SqliteThread> {
    const start: ThreadStart = { options, now };
    const worker = new Worker(threadEntry(), { workerData: start });
    const thread = new SqliteThread(options.path, worker);
    try {
      await thread.#wait(0);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    worker.unref();
    return thread;
  }

  /**
   * Sends a request; resolves with the engine's answer or rejects with a StoreError. The
   * buffers in `transfer` move to the thread (they are unusable here afterwards).
   */
  call<T>(request: EngineRequest, doing: string, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#gone !== undefined) {
      return Promise.reject(this.#unavailable(doing));
    }
    const id = this.#nextId++;
    try {
      this.#worker.postMessage({ id, doing, request } satisfies ThreadRequest, transfer);
    } catch (error) {
      // A value the structured clone cannot copy (a function, say): nothing was sent.
      return Promise.reject(sqliteStoreError(this.#path, doing, error));
    }
    if (this.#pending.size === 0) this.#worker.ref();
    return this.#wait(id) as Promise<T>;
  }

  /** Closes the file on the thread, then ends the thread. */
  async close(): Promise<void> {
    try {
      await this.call({ op: 'close' }, 'cannot close');
    } finally {
      this.#gone = 'the store is closed';
      await this.#worker.terminate();
    }
  }

  #wait(id: number): Promise<unknown> {
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  #answer(reply: ThreadReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ('error' in reply) pending.reject(storeErrorFrom(reply.error));
    else pending.resolve(reply.value);
  }

  #unavailable(doing: string): StoreError {
    return new StoreError(`sqlite store ${this.#path}: ${doing}: ${this.#gone}`);
  }

  #lost(why: string): void {
    this.#gone ??= why;
    const error = this.#unavailable('cannot finish a request');
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/**
 * Where the thread's code is. Built, it is JavaScript beside this file. Run from source
 * (jobloom's own tests), it is TypeScript, and a thread does not inherit the loader hooks
 * that let this process import it (nor does `--import tsx` in its flags take effect before
 * its first module): so the thread starts from a one-line module that registers tsx and then
 * imports the entry.
 */
function threadEntry(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./sqlite-thread-entry.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return entry;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
