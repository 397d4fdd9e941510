import { describe, expect, it } from 'vitest';
import { niceCeiling, renderBenchChart } from '../src/bench/bench-chart.js';
import { resolveBenchOptions } from '../src/bench/bench-options.js';
import type { BenchProgress } from '../src/bench/bench-report.js';
import { recommendPoolSize } from '../src/bench/recommend.js';
import { runBench } from '../src/bench/run-bench.js';
import { type InvalidOptionError, JobloomError, type NotCloneableError } from '../src/index.js';
import { fixture } from './support/manager.js';

const points = (...throughputs: number[]) =>
  throughputs.map((throughput, i) => ({ size: i + 1, throughput }));

describe('recommendPoolSize', () => {
  it('recommends the largest size, and says throughput was still rising, when scaling is perfect', () => {
    const rec = recommendPoolSize(points(100, 200, 300, 400));
    expect(rec.size).toBe(4);
    expect(rec.bestSize).toBe(4);
    expect(rec.stillRising).toBe(true);
    expect(rec.reason).toMatch(/still rising/);
  });

  it('recommends one thread when more threads add nothing', () => {
    const rec = recommendPoolSize(points(100, 101, 99, 100));
    expect(rec.size).toBe(1);
    expect(rec.stillRising).toBe(false);
    expect(rec.reason).toMatch(/not add enough/);
  });

  it('does not call a flat curve rising when noise puts its best at the largest size', () => {
    const rec = recommendPoolSize(points(100, 101, 99, 103));
    expect(rec.size).toBe(1);
    expect(rec.bestSize).toBe(4);
    expect(rec.stillRising).toBe(false);
  });

  it('recommends the knee of a curve that flattens at the number of cores', () => {
    const rec = recommendPoolSize(points(100, 190, 195, 180));
    expect(rec.size).toBe(2);
    expect(rec.bestSize).toBe(3);
    expect(rec.ofBest).toBeCloseTo(190 / 195);
    expect(rec.reason).toMatch(/1 thread reach only 51% of the best/);
  });

  it('takes the smallest size within the tolerance, not the best', () => {
    expect(recommendPoolSize(points(100, 180, 200), 0.1).size).toBe(2);
    expect(recommendPoolSize(points(100, 180, 200), 0.05).size).toBe(3);
    expect(recommendPoolSize(points(100, 180, 200), 0).size).toBe(3);
  });

  it('does not recommend a size past a drop caused by oversubscription', () => {
    expect(recommendPoolSize(points(100, 200, 120)).size).toBe(2);
  });

  it('reads the points in any order', () => {
    const shuffled = [
      { size: 3, throughput: 300 },
      { size: 1, throughput: 100 },
      { size: 2, throughput: 295 },
    ];
    expect(recommendPoolSize(shuffled).size).toBe(2);
  });

  it('refuses figures it cannot recommend from', () => {
    expect(() => recommendPoolSize([])).toThrow(RangeError);
    expect(() => recommendPoolSize(points(100, Number.NaN))).toThrow(/size 2/);
    expect(() => recommendPoolSize(points(100, 0))).toThrow(RangeError);
    expect(() => recommendPoolSize(points(100), 1)).toThrow(/tolerance/);
  });
});

describe('bench options', () => {
  const folder = fixture('bench-scaling');

  it('are checked before any thread starts, naming the option', () => {
    const refused = (options: object) => {
      try {
        resolveBenchOptions({ folder, kind: 'sleep', ...options });
      } catch (error) {
        expect(error).toBeInstanceOf(JobloomError);
        return (error as InvalidOptionError | NotCloneableError).path;
      }
      return 'accepted';
    };
    expect(refused({ runs: 4 })).toBe('runs');
    expect(refused({ maxThreads: 0 })).toBe('maxThreads');
    expect(refused({ instances: 1.5 })).toBe('instances');
    expect(refused({ tolerance: 1 })).toBe('tolerance');
    expect(refused({ samples: [] })).toBe('samples');
    expect(refused({ samples: [{ f: () => 1 }] })).toBe('samples[0].f');
    expect(refused({ kind: 'missing' })).toBe('kind');
    expect(refused({ folder: fixture('no-such-folder') })).toBe('folder');
    expect(refused({ colour: 'red' })).toBe('options.colour');
    expect(refused({})).toBe('accepted');
  });

  it('default to cores + 1 threads, 1 warm-up run and 5 measured runs', () => {
    const resolved = resolveBenchOptions({ folder, kind: 'sleep' });
    expect(resolved.warmupRuns).toBe(1);
    expect(resolved.runs).toBe(5);
    expect(resolved.maxThreads).toBeGreaterThanOrEqual(2);
    expect(resolved.samples).toEqual([{}]);
  });
});

describe('runBench on executors with a known scaling curve', () => {
  const folder = fixture('bench-scaling');
  // 12 instances divide evenly among 1 to 3 threads. Perfect scaling puts 2 threads at 67% of
  // 3 threads' throughput, far enough below the 10% tolerance that a busy machine's timer
  // lateness (a few ms a run) cannot move the recommendation.
  const common = { folder, instances: 12, maxThreads: 3, tolerance: 0.1 };

  it('recommends the largest pool for an executor that scales perfectly', async () => {
    const progress: BenchProgress[] = [];
    const report = await runBench({
      ...common,
      kind: 'sleep',
      samples: [{ ms: 20 }],
      onProgress: (p) => progress.push(p),
    });

    expect(report.sizes.map((s) => s.size)).toEqual([1, 2, 3]);
    for (const size of report.sizes) {
      expect(size.runs).toHaveLength(5);
      expect(size.efficiency).toBeGreaterThan(0.7);
      expect(size.runMsP50.median).toBeGreaterThanOrEqual(19);
      expect(size.peakRssBytes.median).toBeGreaterThan(0);
    }
    expect(report.sizes[2]?.speedup).toBeGreaterThan(2.1);
    expect(report.recommendation.size).toBe(3);
    expect(report.recommendation.stillRising).toBe(true);

    const last = progress[progress.length - 1];
    expect(last?.doneTotal).toBe(last?.total);
    expect(last?.total).toBe(3 * 6 * 12);
  });

  it('recommends one thread for an executor that holds a lock shared by all threads', async () => {
    const lock = new Int32Array(new SharedArrayBuffer(4));
    // Holds long enough that the time between one attempt and the next on a single thread is
    // small beside it, also on a busy machine.
    // The tolerance matches the speedup bound below: flat within 30% counts as not scaling.
    const report = await runBench({
      ...common,
      kind: 'locked',
      samples: [{ lock, ms: 40 }],
      tolerance: 0.3,
    });

    const [one, , three] = report.sizes;
    expect(three?.speedup).toBeLessThan(1.3);
    expect(three?.efficiency).toBeLessThan(0.45);
    // Threads wait for the lock while running, so the wait shows as run time, not queue wait.
    expect(three?.runMsP50.median).toBeGreaterThan(
      one?.runMsP50.median ?? Number.POSITIVE_INFINITY,
    );
    expect(report.recommendation.size).toBe(1);
    expect(report.recommendation.stillRising).toBe(false);
  });

  it('stops at the first failed instance with its error as the cause', async () => {
    const run = runBench({
      folder: fixture('bench-ts'),
      kind: 'broken',
      maxThreads: 1,
      instances: 3,
    });
    await expect(run).rejects.toMatchObject({
      code: 'ERR_EXECUTOR_FAILED',
      message: expect.stringMatching(/"broken" failed.*it always fails/),
    });
  });
});

describe('renderBenchChart', () => {
  it('draws both curves and marks the recommended size', async () => {
    const report = await runBench({
      folder: fixture('bench-scaling'),
      kind: 'sleep',
      samples: [{ ms: 1 }],
      instances: 4,
      maxThreads: 2,
    });
    const svg = renderBenchChart(report);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain(`recommended: ${report.recommendation.size}`);
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('rounds the throughput axis up to a readable value', () => {
    expect(niceCeiling(87)).toBe(100);
    expect(niceCeiling(130)).toBe(200);
    expect(niceCeiling(2_100)).toBe(2_500);
    expect(niceCeiling(0.4)).toBe(0.5);
  });
});
