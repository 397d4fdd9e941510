import { InvalidOptionError } from '../errors.js';

/**
 * Checks for options objects at the boundary. Each throws an InvalidOptionError whose message
 * names the option, what was expected and what was received, before anything changes.
 */

export function checkObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(path, 'an options object', value);
  }
  return value as Record<string, unknown>;
}

/** Refuses keys the caller did not mean: a misspelt option is an error, not a silent default. */
export function checkKnownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  path: string,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `${path}.${key}`,
        `one of ${known.join(', ')}`,
        'an unknown option',
      );
    }
  }
}

export interface IntegerBounds {
  min?: number;
  max?: number;
}

export function checkInteger(value: unknown, path: string, bounds: IntegerBounds = {}): number {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(path, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** A duration in ms: a finite number, zero or more (or above `min`). */
export function checkDurationMs(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(path, `a duration in ms, a finite number >= ${min}`, value);
  }
  return value;
}

export function checkNumberInRange(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw new InvalidOptionError(path, `a number from ${min} to ${max}`, value);
  }
  return value;
}

export function checkString(value: unknown, path: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0 || (pattern && !pattern.test(value))) {
    const expected = pattern ? `a string matching ${pattern}` : 'a non-empty string';
    throw new InvalidOptionError(path, expected, value);
  }
  return value;
}

export function checkFunction<F extends (...args: never[]) => unknown>(
  value: unknown,
  path: string,
): F {
  if (typeof value !== 'function') throw new InvalidOptionError(path, 'a function', value);
  return value as F;
}

export function checkOneOf<T extends string>(
  value: unknown,
  path: string,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidOptionError(path, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

/** Runs `check` on a value that may be absent; returns the fallback when it is. */
export function optional<T>(value: unknown, fallback: T, check: (value: unknown) => T): T {
  return value === undefined ? fallback : check(value);
}
