/**
 * The code that runs inside each thread of the pool. Piscina loads this module once per
 * thread and calls its default export with a batch of attempts handed to the thread.
 *
 * A thread may be handed more attempts before the current one ends (so it never idles
 * between attempts, and short attempts share one Piscina task), but it runs them one at a
 * time, in the order they arrived: at most one attempt runs on a thread, which is what lets
 * the main thread count running attempts and know which one a terminated thread was running.
 * Each attempt's outcome goes back on its own as soon as the attempt ends, on the control
 * channel; the Piscina task of a batch ends when its last attempt has.
 */
import { MessageChannel, parentPort, threadId } from 'node:worker_threads';
import { type Endpoint, wrap } from 'comlink';
import { assertCloneable } from '../validate/cloneable.js';
import { deserializeError, serializeError } from '../validate/serialize-error.js';
import type { Executor, ExecutorContext } from './executor-context.js';
import { createContext } from './executor-context.js';
import type {
  AttemptOutcome,
  AttemptTask,
  ControlMessage,
  HostApi,
  OutcomeMessage,
  ThreadHello,
} from './protocol.js';

const hostChannel = new MessageChannel();
const controlChannel = new MessageChannel();
const host = wrap<HostApi>(hostChannel.port1 as unknown as Endpoint);
const controllers = new Map<number, AbortController>();
const executors = new Map<string, Executor>();
/** Aborts that arrived for attempts still waiting behind another on this thread. */
const abortedBeforeStart = new Set<number>();

controlChannel.port1.on('message', (message: ControlMessage) => {
  const controller = controllers.get(message.key);
  if (controller) controller.abort(new Error(`attempt aborted: ${message.reason}`));
  else abortedBeforeStart.add(message.key);
});
controlChannel.port1.unref();
hostChannel.port1.unref();

const hello: ThreadHello = {
  jobloomThread: true,
  threadId,
  hostPort: hostChannel.port2,
  controlPort: controlChannel.port2,
};
parentPort?.postMessage(hello, [hostChannel.port2, controlChannel.port2]);

/** Attempts handed over and not started yet, in arrival order, each with its batch. */
const waiting: { task: AttemptTask; batch: Batch }[] = [];
let busy = false;

interface Batch {
  left: number;
  done: () => void;
}

/**
 * Piscina's handler. Plain functions all the way to the executor rather than async ones: the
 * V8 optimiser otherwise inlines small hot executors into an async dispatcher and runs them
 * several times slower.
 */
export default function runBatch(tasks: readonly AttemptTask[]): Promise<number> {
  return new Promise((resolve) => {
    const batch: Batch = { left: tasks.length, done: () => resolve(tasks.length) };
    for (const task of tasks) waiting.push({ task, batch });
    if (!busy) startNext();
  });
}

function startNext(): void {
  if (busy) return;
  const next = waiting.shift();
  if (next === undefined) return;
  busy = true;
  const started = performance.now();
  const outcome = runNow(next.task);
  if (!isThenable(outcome)) ended(next, outcome, started);
  else outcome.then((settled) => ended(next, settled, started));
}

/**
 * Sends the outcome, then starts the next attempt on the next turn of the event loop, so that
 * an abort sent meanwhile for a waiting attempt is seen before it starts.
 */
function ended(
  entry: { task: AttemptTask; batch: Batch },
  outcome: AttemptOutcome,
  started: number,
): void {
  const message: OutcomeMessage = {
    key: entry.task.key,
    outcome,
    runMs: performance.now() - started,
  };
  controlChannel.port1.postMessage(message);
  busy = false;
  entry.batch.left -= 1;
  if (entry.batch.left === 0) entry.batch.done();
  if (waiting.length > 0) setImmediate(startNext);
}

function runNow(task: AttemptTask): AttemptOutcome | Promise<AttemptOutcome> {
  const executor = executors.get(executorKey(task));
  if (executor === undefined) return loadThenRun(task);
  return start(task, executor);
}

async function loadThenRun(task: AttemptTask): Promise<AttemptOutcome> {
  let executor: Executor;
  try {
    executor = await loadExecutor(task);
  } catch (error) {
    return {
      ok: false,
      error: serializeError(error),
      doNotRetry: true,
      aborted: false,
      hostCalls: 0,
    };
  }
  return start(task, executor);
}

function start(task: AttemptTask, executor: Executor): AttemptOutcome | Promise<AttemptOutcome> {
  if (abortedBeforeStart.delete(task.key)) {
    const error = serializeError(new Error('attempt aborted before it started'));
    return { ok: false, error, doNotRetry: true, aborted: true, hostCalls: 0 };
  }
  const controller = new AbortController();
  controllers.set(task.key, controller);
  const context = createContext(task, controller.signal, host);

  let returned: unknown;
  try {
    returned = executor(task.args as never, context.api);
  } catch (error) {
    return finish(task, context, { error });
  }
  if (!isThenable(returned)) return finish(task, context, { value: returned });
  return Promise.resolve(returned).then(
    (value) => finish(task, context, { value }),
    (error: unknown) => finish(task, context, { error }),
  );
}

function finish(
  task: AttemptTask,
  context: ExecutorContext,
  ended: { value?: unknown; error?: unknown },
): AttemptOutcome {
  const signal = controllers.get(task.key)?.signal;
  controllers.delete(task.key);
  context.flush();
  const hostCalls = context.hostCalls();

  if (!('error' in ended)) {
    const problem = cloneProblem(ended.value);
    if (problem === undefined) return { ok: true, value: ended.value, hostCalls };
    ended = { error: problem };
  }
  const error = serializeError(ended.error);
  const doNotRetry = error.name === 'DoNotRetryError';
  return { ok: false, error, doNotRetry, aborted: signal?.aborted === true, hostCalls };
}

/** A result that cannot cross back would crash the thread inside Piscina; fail it instead. */
function cloneProblem(value: unknown): Error | undefined {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol'
      ? new TypeError('the executor returned a value that cannot leave its thread')
      : undefined;
  }
  try {
    assertCloneable(value, 'result');
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

async function loadExecutor(task: AttemptTask): Promise<Executor> {
  const module = await importWorkerModule(task.moduleUrl);
  const exported = module[task.exportName];
  if (typeof exported !== 'function') {
    const available = Object.keys(module).join(', ') || 'none';
    throw deserializeError({
      name: 'ExecutorNotFound',
      message: `${task.moduleUrl} has no function export "${task.exportName}" (exports: ${available})`,
    });
  }
  executors.set(executorKey(task), exported as Executor);
  return exported as Executor;
}

/**
 * Imports a worker module. TypeScript modules need the loader the program itself runs with;
 * tsx, the common one, registers its import hooks in the main thread only on Node 20, so on
 * a first failure jobloom registers them in this thread too, then tries again.
 */
async function importWorkerModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    if (!(await registerTypeScriptLoader())) {
      throw new Error(
        `${url} is TypeScript: run the program with a TypeScript loader (such as node --import tsx) or register compiled JavaScript`,
        { cause: error },
      );
    }
    // The failed import stays cached under its URL; a query makes the retry a fresh load.
    return (await import(`${url}?typescript`)) as Record<string, unknown>;
  }
}

let typeScriptLoader: Promise<boolean> | undefined;

function registerTypeScriptLoader(): Promise<boolean> {
  typeScriptLoader ??= import('tsx/esm/api').then(
    (api: { register: () => unknown }) => {
      api.register();
      return true;
    },
    () => false,
  );
  return typeScriptLoader;
}

function executorKey(task: AttemptTask): string {
  return `${task.moduleUrl}#${task.exportName}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
