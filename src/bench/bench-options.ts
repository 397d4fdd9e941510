import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { JobRegistry } from '../manager/job-registry.js';
import { assertCloneable } from '../validate/cloneable.js';
import {
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkNumberInRange,
  checkObject,
  checkString,
  optional,
} from '../validate/options.js';
import type { BenchProgress } from './bench-report.js';
import { DEFAULT_TOLERANCE } from './recommend.js';

/** What `runBench()` measures, and how. */
export interface BenchOptions {
  /** The folder of worker modules; each file is registered under its name as its kind. Required. */
  folder: string;
  /** The kind to measure: the name of a worker module in `folder`, without extension. Required. */
  kind: string;
  /**
   * Arguments for the instances, used in turn (instance i gets `samples[i % samples.length]`).
   * Each must be able to cross into a thread. Default `[{}]`: every instance gets `{}`.
   */
  samples?: readonly unknown[];
  /** Instances scheduled, all at once, in every run. Default 200. */
  instances?: number;
  /**
   * The largest pool size measured; sizes 1 to this are measured. Default: the machine's
   * available parallelism plus one, to show what one thread past the cores does.
   */
  maxThreads?: number;
  /**
   * Runs at each size before the measured ones, thrown away: threads start, modules load and
   * the JIT settles. Default 1.
   */
  warmupRuns?: number;
  /** Measured runs at each size; at least 5. Default 5. */
  runs?: number;
  /**
   * How close to the best throughput the recommended size must be, as a fraction (see
   * `recommendPoolSize`). Default 0.1 (10%).
   */
  tolerance?: number;
  /** How often peak memory is sampled during measured runs, in ms. Default 20. */
  rssSampleMs?: number;
  /** Told how far the benchmark has got, at most every 100 ms and at the end of every run. */
  onProgress?: (progress: BenchProgress) => void;
}

export interface ResolvedBenchOptions {
  folder: string;
  kind: string;
  samples: readonly unknown[];
  instances: number;
  maxThreads: number;
  warmupRuns: number;
  runs: number;
  tolerance: number;
  rssSampleMs: number;
  onProgress: (progress: BenchProgress) => void;
}

const OPTION_KEYS = [
  'folder',
  'kind',
  'samples',
  'instances',
  'maxThreads',
  'warmupRuns',
  'runs',
  'tolerance',
  'rssSampleMs',
  'onProgress',
];

/** Fewer measured runs than this give a median that one slow run can move. */
export const MIN_RUNS = 5;

/**
 * Validates every option before any thread starts, and checks that `kind` names a worker
 * module in `folder`. Throws an InvalidOptionError naming the option.
 */
export function resolveBenchOptions(options: BenchOptions): ResolvedBenchOptions {
  const checked = checkObject(options, 'options');
  checkKnownKeys(checked, OPTION_KEYS, 'options');
  const folder = resolve(checkString(options.folder, 'folder'));
  const kind = checkString(options.kind, 'kind');
  checkKindInFolder(folder, kind);

  return {
    folder,
    kind,
    samples: optional(options.samples, [{}], checkSamples),
    instances: optional(options.instances, 200, (v) =>
      checkInteger(v, 'instances', { min: 1, max: 1_000_000 }),
    ),
    maxThreads: optional(options.maxThreads, availableParallelism() + 1, (v) =>
      checkInteger(v, 'maxThreads', { min: 1, max: 1024 }),
    ),
    warmupRuns: optional(options.warmupRuns, 1, (v) =>
      checkInteger(v, 'warmupRuns', { min: 1, max: 100 }),
    ),
    runs: optional(options.runs, MIN_RUNS, (v) =>
      checkInteger(v, 'runs', { min: MIN_RUNS, max: 1000 }),
    ),
    tolerance: optional(options.tolerance, DEFAULT_TOLERANCE, (v) =>
      checkNumberInRange(v, 'tolerance', 0, 0.99),
    ),
    rssSampleMs: optional(options.rssSampleMs, 20, (v) =>
      checkInteger(v, 'rssSampleMs', { min: 1, max: 10_000 }),
    ),
    onProgress: optional(
      options.onProgress,
      () => {},
      (v) => checkFunction(v, 'onProgress'),
    ),
  };
}

/** Registers the folder in a registry of its own, which starts no thread, to find the kind. */
function checkKindInFolder(folder: string, kind: string): void {
  const registry = new JobRegistry();
  const kinds = registry.registerFolder(folder).map((job) => job.kind);
  if (!kinds.includes(kind)) {
    const known = kinds.length > 0 ? `one of ${kinds.join(', ')}` : 'a worker module in the folder';
    throw new InvalidOptionError('kind', `${known} (in ${folder})`, kind);
  }
}

function checkSamples(value: unknown): readonly unknown[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError('samples', 'a non-empty array of arguments', value);
  }
  for (const [i, sample] of value.entries()) assertCloneable(sample, `samples[${i}]`);
  return value;
}
