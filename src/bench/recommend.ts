/**
 * Which pool size to recommend from throughput measured at several sizes.
 *
 * The rule: **the smallest pool size whose median throughput is within `tolerance` (default
 * 10%) of the best median throughput measured.** A thread past that point buys less than a
 * tenth more work per second while it takes a whole core (and its memory) from everything
 * else on the machine. Ten percent is also about the run-to-run spread of a busy virtual
 * machine, so sizes closer than that to the best cannot be told apart from it reliably.
 *
 * When the largest size measured still added more than `tolerance` over the size below it,
 * throughput is still rising and a larger pool might do better; the recommendation says so
 * (`stillRising`). A best at the largest size by less than that is noise on a flat curve.
 */

/** Throughput measured at one pool size. */
export interface ThroughputPoint {
  /** Threads in the pool. */
  size: number;
  /** Median instances completed per second over the measured runs. */
  throughput: number;
}

export interface Recommendation {
  /** The recommended number of threads. */
  size: number;
  /** The pool size with the highest median throughput. */
  bestSize: number;
  bestThroughput: number;
  /** The recommended size's throughput as a fraction of the best (0..1). */
  ofBest: number;
  /** The tolerance the rule used, as a fraction (0.1 is 10%). */
  tolerance: number;
  /** True when the largest size measured added more than `tolerance` over the one below. */
  stillRising: boolean;
  /** The rule, in one sentence. */
  rule: string;
  /** Why this size, in words, with the figures that decided it. */
  reason: string;
}

export const DEFAULT_TOLERANCE = 0.1;

/**
 * Applies the rule above to `points` (one per pool size, any order). Throws a RangeError on an
 * empty list or a throughput that is not a finite number above zero: a benchmark that
 * produced those has nothing to recommend from.
 */
export function recommendPoolSize(
  points: readonly ThroughputPoint[],
  tolerance = DEFAULT_TOLERANCE,
): Recommendation {
  if (points.length === 0) throw new RangeError('recommendPoolSize: no pool sizes measured');
  if (!(tolerance >= 0 && tolerance < 1)) {
    throw new RangeError(`recommendPoolSize: tolerance must be in [0, 1), got ${tolerance}`);
  }
  for (const point of points) {
    if (!(Number.isFinite(point.throughput) && point.throughput > 0)) {
      throw new RangeError(
        `recommendPoolSize: throughput at size ${point.size} must be above zero, got ${point.throughput}`,
      );
    }
  }

  const bySize = [...points].sort((a, b) => a.size - b.size);
  const best = bySize.reduce((top, point) => (point.throughput > top.throughput ? point : top));
  const floor = best.throughput * (1 - tolerance);
  const chosen = bySize.find((point) => point.throughput >= floor) ?? best;
  const largest = bySize[bySize.length - 1] as ThroughputPoint;
  const belowLargest = bySize[bySize.length - 2];
  const stillRising =
    belowLargest !== undefined && largest.throughput > belowLargest.throughput * (1 + tolerance);

  return {
    size: chosen.size,
    bestSize: best.size,
    bestThroughput: best.throughput,
    ofBest: chosen.throughput / best.throughput,
    tolerance,
    stillRising,
    rule: `the smallest pool size whose median throughput is within ${percent(tolerance)} of the best`,
    reason: reasonFor(bySize, chosen, best, tolerance, stillRising),
  };
}

function reasonFor(
  bySize: readonly ThroughputPoint[],
  chosen: ThroughputPoint,
  best: ThroughputPoint,
  tolerance: number,
  stillRising: boolean,
): string {
  const parts: string[] = [];
  if (chosen.size === best.size) {
    parts.push(`${threads(chosen.size)} gave the best throughput, ${rate(best.throughput)}`);
  } else {
    const share = percent(chosen.throughput / best.throughput);
    parts.push(
      `${threads(chosen.size)} reach ${rate(chosen.throughput)}, ${share} of the best ` +
        `(${rate(best.throughput)} with ${threads(best.size)}), ` +
        `within the ${percent(tolerance)} tolerance`,
    );
  }

  const smaller = bySize.filter((point) => point.size < chosen.size);
  const below = smaller[smaller.length - 1];
  if (below) {
    const share = percent(below.throughput / best.throughput);
    parts.push(`${threads(below.size)} reach only ${share} of the best`);
  } else if (bySize.length > 1) {
    parts.push('more threads do not add enough throughput to be worth a core each');
  }

  if (stillRising) {
    const largest = bySize[bySize.length - 1]?.size;
    parts.push(
      `throughput was still rising at the largest size measured (${largest}); ` +
        'a larger pool may do better',
    );
  }
  return `${parts.join('; ')}.`;
}

function threads(size: number): string {
  return size === 1 ? '1 thread' : `${size} threads`;
}

function rate(throughput: number): string {
  const digits = throughput >= 100 ? 0 : throughput >= 10 ? 1 : 2;
  return `${throughput.toLocaleString('en-US', { maximumFractionDigits: digits })} instances/s`;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
