/**
 * What a worker module needs, and nothing more: import it from `jobloom/executor` inside
 * executors so a thread does not load the manager.
 */
export { DoNotRetryError } from './errors.js';
export type { Executor, ExecutorContextApi, ExecutorLogger } from './pool/executor-context.js';
