/**
 * Small statistics over the figures of a benchmark. `bench/stats.ts` has the same quantile for
 * the repository's own benchmark scripts; this copy lives in `src/` because it ships with the
 * package (the `jobloom bench` command), and `bench/` does not.
 */

/** A figure over repeated runs: the median, and the lowest and highest run as its spread. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The q-quantile (0..1) of `values`, interpolating linearly between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below] as number;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] as number;
  return low + (high - low) * (position - below);
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  return { median: quantile(values, 0.5), min, max };
}
