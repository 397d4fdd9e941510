/**
 * jobloom: run jobs on worker threads. The only public entry of the package.
 */

export type { BenchOptions } from './bench/bench-options.js';
export type { BenchReport } from './bench/bench-report.js';
export type { Recommendation, ThroughputPoint } from './bench/recommend.js';
export { recommendPoolSize } from './bench/recommend.js';
export { runBench } from './bench/run-bench.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export * from './errors.js';
export type { BackoffOptions } from './manager/backoff.js';
export type { InstanceRef, JobManagerEventName, JobManagerEvents } from './manager/events.js';
export type {
  InstanceHandle,
  JobManagerOptions,
  ManagerStats,
  StopOptions,
} from './manager/job-manager.js';
export { JobManager } from './manager/job-manager.js';
export type {
  InstanceInfo,
  Job,
  JobDefinition,
  JobHandlers,
  JobPolicy,
} from './manager/job-registry.js';
export type { ScheduleOptions } from './manager/schedule-options.js';
export type {
  Executor,
  ExecutorContextApi,
  ExecutorLogger,
} from './pool/executor-context.js';
export type { ScheduleDefinition, ScheduleUpdate } from './schedule/schedule-definition.js';
export type { ScheduleEvents } from './schedule/schedule-events.js';
export type { ScheduleRunner } from './schedule/schedule-runner.js';
export type { Schedule } from './schedule/schedule-state.js';
export type { MemoryStoreOptions } from './store/memory-store.js';
export { MemoryStore } from './store/memory-store.js';
export type { SqliteStoreOptions } from './store/sqlite-options.js';
export { openSqliteStore, SqliteStore } from './store/sqlite-store.js';
export type { ClaimOptions, Store, StoreWrite } from './store/store.js';
export * from './types.js';
