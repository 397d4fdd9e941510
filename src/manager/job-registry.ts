import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidOptionError, JobloomError, UnknownKindError } from '../errors.js';
import type { BackoffPolicy, InstanceState } from '../types.js';
import { Priority } from '../types.js';
import {
  checkDurationMs,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkString,
  optional,
} from '../validate/options.js';
import { type BackoffOptions, DEFAULT_BACKOFF, resolveBackoff } from './backoff.js';

/** What handlers are told about the instance they run for. */
export interface InstanceInfo {
  id: string;
  kind: string;
  attempt: number;
  args: unknown;
}

/** go-job's processors. They run on the main thread; one that throws is logged, never fatal. */
export interface JobHandlers<Result = unknown> {
  /** After the instance completed, with its result. */
  onComplete?: (result: Result, instance: InstanceInfo) => unknown;
  /** After the instance ended without a result: failed, timed out or canceled. */
  onTerminate?: (error: Error, instance: InstanceInfo) => unknown;
  /** On every state change. */
  onStateChange?: (state: InstanceState, instance: InstanceInfo) => unknown;
}

/** Defaults a job gives its instances; each can be overridden when an instance is scheduled. */
export interface JobPolicy {
  /** Lower runs first: 0 (HIGHEST) to 10 (LOWEST). Default `Priority.DEFAULT` (5). */
  priority?: number;
  /** Per-attempt timeout in ms, or null for none. Default null. */
  timeoutMs?: number | null;
  /** Retries after the first attempt; `Infinity` retries until it succeeds. Default 0. */
  maxRetries?: number;
  /** How retries wait. Default exponential from 1 s, ±20% jitter. */
  backoff?: BackoffOptions;
}

export interface JobDefinition<Result = unknown> extends JobPolicy, JobHandlers<Result> {
  /** The job's name; instances are scheduled by it. Letters, digits, `_ . : -`. */
  kind: string;
  /**
   * The worker module holding the executor: a path (relative to the working directory) or a
   * file URL.
   */
  module: string | URL;
  /** The module export that is the executor. Default `default`. */
  export?: string;
  description?: string;
}

/** A registered job with its policy resolved. */
export interface Job {
  readonly kind: string;
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly description: string;
  readonly priority: number;
  readonly timeoutMs: number | null;
  readonly maxRetries: number;
  readonly backoff: BackoffPolicy;
  readonly handlers: JobHandlers;
}

export const KIND_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const WORKER_MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);
const POLICY_KEYS = ['priority', 'timeoutMs', 'maxRetries', 'backoff'] as const;
const HANDLER_KEYS = ['onComplete', 'onTerminate', 'onStateChange'] as const;
const DEFINITION_KEYS = [
  'kind',
  'module',
  'export',
  'description',
  ...POLICY_KEYS,
  ...HANDLER_KEYS,
];

/** The registry of jobs by kind (go-job's job registry). */
export class JobRegistry {
  readonly #jobs = new Map<string, Job>();

  register(definition: JobDefinition): Job {
    const job = resolveJob(definition);
    if (this.#jobs.has(job.kind)) {
      throw new JobloomError('ERR_DUPLICATE_KIND', `job kind "${job.kind}" is already registered`);
    }
    this.#jobs.set(job.kind, job);
    return job;
  }

  /**
   * Registers every worker module in a folder, each under its file name as its kind
   * (`hash.ts` → kind `hash`), with `defaults` for all of them. Returns the jobs registered.
   */
  registerFolder(
    folder: string | URL,
    defaults: Omit<JobDefinition, 'kind' | 'module'> = {},
  ): Job[] {
    const dir = typeof folder === 'string' ? resolve(folder) : fileURLToPath(folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new InvalidOptionError(
        'folder',
        'an existing folder of worker modules',
        String(folder),
      );
    }
    const files = readdirSync(dir).filter(isWorkerModule).sort();
    const definitions = files.map((file) => ({
      ...defaults,
      kind: basename(file, extname(file)),
      module: resolve(dir, file),
    }));
    const jobs = definitions.map(resolveJob);
    for (const job of jobs) {
      if (this.#jobs.has(job.kind)) {
        throw new JobloomError(
          'ERR_DUPLICATE_KIND',
          `job kind "${job.kind}" is already registered`,
        );
      }
    }
    for (const job of jobs) this.#jobs.set(job.kind, job);
    return jobs;
  }

  get(kind: string): Job {
    const job = this.#jobs.get(kind);
    if (!job) throw new UnknownKindError(kind);
    return job;
  }

  has(kind: string): boolean {
    return this.#jobs.has(kind);
  }

  list(): Job[] {
    return [...this.#jobs.values()];
  }
}

function isWorkerModule(file: string): boolean {
  if (file.endsWith('.d.ts') || file.startsWith('.') || file.startsWith('_')) return false;
  return WORKER_MODULE_EXTENSIONS.has(extname(file));
}

function resolveJob(definition: JobDefinition): Job {
  const options = checkObject(definition, 'job');
  checkKnownKeys(options, DEFINITION_KEYS, 'job');
  const kind = checkString(options.kind, 'job.kind', KIND_PATTERN);
  const path = `job(${kind})`;
  const policy = resolvePolicy(options, path, {
    priority: Priority.DEFAULT,
    timeoutMs: null,
    maxRetries: 0,
    backoff: DEFAULT_BACKOFF,
  });

  return {
    kind,
    moduleUrl: resolveModuleUrl(options.module, `${path}.module`),
    exportName: optional(options.export, 'default', (v) => checkString(v, `${path}.export`)),
    description: optional(options.description, '', (v) => checkString(v, `${path}.description`)),
    ...policy,
    handlers: resolveHandlers(options, path, {}),
  };
}

export interface ResolvedPolicy {
  priority: number;
  timeoutMs: number | null;
  maxRetries: number;
  backoff: BackoffPolicy;
}

/** Validates the policy fields of `options` and fills them in over `base`. */
export function resolvePolicy(
  options: Record<string, unknown>,
  path: string,
  base: ResolvedPolicy,
): ResolvedPolicy {
  return {
    priority: optional(options.priority, base.priority, (v) =>
      checkInteger(v, `${path}.priority`, { min: Priority.HIGHEST, max: Priority.LOWEST }),
    ),
    timeoutMs: optional(options.timeoutMs, base.timeoutMs, (v) =>
      v === null ? null : checkDurationMs(v, `${path}.timeoutMs`, 1),
    ),
    maxRetries: optional(options.maxRetries, base.maxRetries, (v) =>
      v === Number.POSITIVE_INFINITY ? v : checkInteger(v, `${path}.maxRetries`, { min: 0 }),
    ),
    backoff: resolveBackoff(options.backoff, `${path}.backoff`, base.backoff),
  };
}

/** Validates handler fields of `options` and lays them over `base`. */
export function resolveHandlers(
  options: Record<string, unknown>,
  path: string,
  base: JobHandlers,
): JobHandlers {
  const handlers: JobHandlers = { ...base };
  for (const key of HANDLER_KEYS) {
    if (options[key] !== undefined) {
      handlers[key] = checkFunction(options[key], `${path}.${key}`);
    }
  }
  return handlers;
}

function resolveModuleUrl(value: unknown, path: string): string {
  let file: string;
  if (value instanceof URL) {
    file = fileURLToPath(value);
  } else {
    const text = checkString(value, path);
    file = text.startsWith('file:') ? fileURLToPath(text) : isAbsolute(text) ? text : resolve(text);
  }
  if (!existsSync(file)) throw new InvalidOptionError(path, 'an existing worker module file', file);
  return pathToFileURL(file).href;
}
