/** Small statistics over the figures of repeated runs. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every figure, in the order measured. */
  runs: number[];
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

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function summarize(runs: readonly number[]): Summary {
  return {
    median: median(runs),
    min: Math.min(...runs),
    max: Math.max(...runs),
    runs: [...runs],
  };
}

/** Figures of two cases measured in the same rounds, divided round by round. */
export function pairwise(
  top: readonly number[],
  bottom: readonly number[],
  divide: (a: number, b: number) => number = (a, b) => a / b,
): number[] {
  return top.map((value, i) => divide(value, bottom[i] as number));
}
