/** Figures of repeated runs, and how the SQLite benchmark prints them. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(runs: readonly number[]): Spread {
  const sorted = [...runs].sort((a, b) => a - b);
  return {
    median: percentile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    runs: [...runs],
  };
}

/** The p-th quantile (0..1) of values sorted ascending, interpolated. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * p;
  const low = sorted[Math.floor(at)] as number;
  const high = sorted[Math.ceil(at)] as number;
  return low + (high - low) * (at - Math.floor(at));
}

export interface TableRow {
  figure: string;
  spread: Spread;
  unit: Unit;
  target?: string;
}

export type Unit = 'rate' | 'ratio' | 'ms' | 'us' | 'bytes';

const FORMATS: Record<Unit, (value: number) => string> = {
  rate: (v) => `${Math.round(v).toLocaleString('en-US')} /s`,
  ratio: (v) => v.toFixed(2),
  ms: (v) => `${v.toFixed(v < 10 ? 2 : 0)} ms`,
  us: (v) => `${v.toFixed(0)} µs`,
  bytes: (v) => `${Math.round(v).toLocaleString('en-US')} B`,
};

/** A Markdown table: figure, median, min – max, runs, target. */
export function markdownTable(rows: readonly TableRow[]): string {
  const lines = [
    '| figure | median | min – max | runs | target |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const { figure, spread: s, unit, target } of rows) {
    const format = FORMATS[unit];
    const range = `${format(s.min)} – ${format(s.max)}`;
    lines.push(
      `| ${figure} | ${format(s.median)} | ${range} | ${s.runs.length} | ${target ?? ''} |`,
    );
  }
  return lines.join('\n');
}
