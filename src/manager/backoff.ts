import type { BackoffPolicy } from '../types.js';
import {
  checkDurationMs,
  checkKnownKeys,
  checkNumberInRange,
  checkObject,
  checkOneOf,
  optional,
} from '../validate/options.js';

/** How a job's retries wait, as users write it; every field is optional. */
export interface BackoffOptions {
  /**
   * `fixed` waits the same before every retry; `exponential` multiplies by `factor`.
   * Default `exponential`.
   */
  type?: 'fixed' | 'exponential';
  /** Delay before the first retry, in ms. Default 1000. */
  delayMs?: number;
  /** Growth per retry for `exponential`. Default 2. */
  factor?: number;
  /** Upper bound of any one delay, in ms. Default 5 minutes. */
  maxDelayMs?: number;
  /** Random spread of each delay as a fraction, 0 to 1: 0.2 means ±20%. Default 0.2. */
  jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 300_000,
  jitter: 0.2,
};

const BACKOFF_KEYS = ['type', 'delayMs', 'factor', 'maxDelayMs', 'jitter'] as const;

/** Validates backoff options and fills them in over `base`. */
export function resolveBackoff(value: unknown, path: string, base: BackoffPolicy): BackoffPolicy {
  if (value === undefined) return base;
  const options = checkObject(value, path);
  checkKnownKeys(options, BACKOFF_KEYS, path);

  return {
    type: optional(options.type, base.type, (v) =>
      checkOneOf(v, `${path}.type`, ['fixed', 'exponential']),
    ),
    delayMs: optional(options.delayMs, base.delayMs, (v) => checkDurationMs(v, `${path}.delayMs`)),
    factor: optional(options.factor, base.factor, (v) =>
      checkNumberInRange(v, `${path}.factor`, 1, 1_000),
    ),
    maxDelayMs: optional(options.maxDelayMs, base.maxDelayMs, (v) =>
      checkDurationMs(v, `${path}.maxDelayMs`),
    ),
    jitter: optional(options.jitter, base.jitter, (v) =>
      checkNumberInRange(v, `${path}.jitter`, 0, 1),
    ),
  };
}

/**
 * The wait before retry number `retry` (1 for the first retry), in ms. It is a timer on the
 * main thread, so a waiting retry never holds a thread or the dispatcher.
 */
export function backoffDelayMs(policy: BackoffPolicy, retry: number, random = Math.random): number {
  const growth = policy.type === 'exponential' ? policy.factor ** (retry - 1) : 1;
  const base = Math.min(policy.delayMs * growth, policy.maxDelayMs);
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}
