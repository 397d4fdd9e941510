import type { BenchReport, SizeFigures } from '../bench/bench-report.js';
import type { Spread } from '../bench/figures.js';

/** The text `jobloom bench` prints: a table per pool size, the recommendation and why. */
export function formatBenchReport(report: BenchReport): string {
  const { machine, recommendation: rec } = report;
  const header = [
    `jobloom bench: kind "${report.kind}" from ${report.folder}`,
    `${report.instances} instances per run (${samplesText(report.samples)}), ` +
      `${report.warmupRuns} warm-up + ${report.runs} measured runs per pool size`,
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`,
  ];

  const lines = [
    ...header,
    '',
    table(report.sizes),
    '',
    `Recommended pool size: ${rec.size}`,
    `  rule: ${rec.rule}.`,
    `  why:  ${rec.reason}`,
    '',
    ...LEGEND,
    ...report.notes.map((note) => `note: ${note}.`),
  ];
  return `${lines.join('\n')}\n`;
}

const LEGEND = [
  'Each figure is the median over the measured runs; (min-max) is the lowest and highest run.',
  'run: from an instance\'s "running" state to its final state; wait: from "queued" to "running".',
  'All instances of a run are scheduled at once, so wait mostly measures the backlog ahead.',
  'speedup: throughput over throughput with 1 thread; efficiency: speedup / threads.',
  'peak RSS: highest resident set size of the whole process (main thread and all threads).',
];

const COLUMNS = [
  'threads',
  'instances/s (min-max)',
  'speedup',
  'efficiency',
  'run p50 / p99',
  'wait p50 / p99',
  'peak RSS',
] as const;

function table(sizes: readonly SizeFigures[]): string {
  const rows = sizes.map((s) => [
    String(s.size),
    `${rate(s.throughput.median)} (${rate(s.throughput.min)}-${rate(s.throughput.max)})`,
    `${s.speedup.toFixed(2)}x`,
    `${Math.round(s.efficiency * 100)}%`,
    `${ms(s.runMsP50)} / ${ms(s.runMsP99)}`,
    `${ms(s.queueWaitMsP50)} / ${ms(s.queueWaitMsP99)}`,
    `${mib(s.peakRssBytes)} MiB`,
  ]);
  const all = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, col) =>
    Math.max(...all.map((cells) => (cells[col] ?? '').length)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, col) =>
        col === 0 ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(all[0] ?? []), rule, ...rows.map(render)].join('\n');
}

function samplesText(samples: number): string {
  return samples === 1 ? 'the same arguments' : `${samples} argument samples in turn`;
}

function rate(value: number): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function ms(spread: Spread): string {
  const value = spread.median;
  if (!Number.isFinite(value)) return '-';
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ms`;
}

function mib(spread: Spread): string {
  return (spread.median / 2 ** 20).toFixed(0);
}
