/** Small statistics over the figures of repeated runs. */
import { quantile } from '../src/bench/figures.js';

export { quantile };

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every figure, in the order measured. */
  runs: number[];
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
