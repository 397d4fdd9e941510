import { quantile, type Summary, summarize } from '../stats.js';
import type { BulkFigures } from './measure.js';

/** What one peer did on one workload, over the measured rounds. */
export interface PeerOutcome {
  peer: string;
  workload: 'trivial' | 'cpu';
  config: string;
  /** Jobs per bulk run. */
  jobs: number;
  runs: BulkFigures[];
  /** Enqueue-to-start latency of every paced job, per run, in ms. */
  latenciesMs: number[][];
  /** Set when the peer failed part-way; its figures are then missing. */
  error?: string;
}

export interface PeerSummary {
  jobsPerSecond: Summary;
  /** Latency over all measured paced jobs pooled, in ms. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Median latency of each run, summarised, for its spread. */
  latencyRunP50Ms: Summary;
  /** CPU seconds per 1,000 jobs: this process, the peer's server processes, and both. */
  cpuProcess: Summary;
  cpuServer: Summary;
  cpuTotal: Summary;
}

export function summarizeOutcome(outcome: PeerOutcome): PeerSummary {
  const pooled = outcome.latenciesMs.flat();
  // CPU ms per job is CPU seconds per 1,000 jobs.
  const perJob = (pick: (run: BulkFigures) => number) =>
    summarize(outcome.runs.map((run) => pick(run) / run.jobs));
  return {
    jobsPerSecond: summarize(outcome.runs.map((run) => (run.jobs * 1000) / run.wallMs)),
    latencyP50Ms: quantile(pooled, 0.5),
    latencyP99Ms: quantile(pooled, 0.99),
    latencyRunP50Ms: summarize(outcome.latenciesMs.map((run) => quantile(run, 0.5))),
    cpuProcess: perJob((run) => run.processCpuMs),
    cpuServer: perJob((run) => run.serverCpuMs),
    cpuTotal: perJob((run) => run.processCpuMs + run.serverCpuMs),
  };
}

const HEADERS = [
  'system',
  'jobs/s (min–max)',
  '× jobloom',
  'enqueue→start p50 / p99',
  '× jobloom',
  'CPU s / 1k jobs: process + server',
  '× jobloom',
];

/** Per-round figures of an outcome, for ratios taken round by round. */
function perRound(outcome: PeerOutcome) {
  return {
    rate: outcome.runs.map((run) => (run.jobs * 1000) / run.wallMs),
    latencyP50: outcome.latenciesMs.map((run) => quantile(run, 0.5)),
    cpu: outcome.runs.map((run) => (run.processCpuMs + run.serverCpuMs) / run.jobs),
  };
}

export interface Ratios {
  jobsPerSecond: Summary;
  latencyP50: Summary;
  cpuTotal: Summary;
}

/**
 * An outcome's figures over jobloom's, round by round (both ran in the same round), as a
 * median with its spread. Undefined when either failed.
 */
export function ratiosToJobloom(outcome: PeerOutcome, jobloom: PeerOutcome | undefined) {
  if (!jobloom || jobloom.error || outcome.error) return undefined;
  const mine = perRound(outcome);
  const base = perRound(jobloom);
  const rounds = Math.min(mine.rate.length, base.rate.length);
  if (rounds === 0) return undefined;
  const over = (a: number[], b: number[]) =>
    summarize(a.slice(0, rounds).map((value, i) => value / (b[i] as number)));
  return {
    jobsPerSecond: over(mine.rate, base.rate),
    latencyP50: over(mine.latencyP50, base.latencyP50),
    cpuTotal: over(mine.cpu, base.cpu),
  } satisfies Ratios;
}

/** Rows of one workload's table; ratios are to jobloom's figures of the same rounds. */
export function tableRows(outcomes: readonly PeerOutcome[]): string[][] {
  const jobloom = outcomes.find((o) => o.peer === 'jobloom');
  return outcomes.map((outcome) => {
    if (outcome.error) return [outcome.peer, `failed: ${outcome.error}`, '', '', '', '', ''];
    const s = summarizeOutcome(outcome);
    const r = ratiosToJobloom(outcome, jobloom);
    const { median: rate, min, max } = s.jobsPerSecond;
    return [
      outcome.peer,
      `${count(rate)} (${count(min)}–${count(max)})`,
      ratio(r?.jobsPerSecond.median),
      `${ms(s.latencyP50Ms)} / ${ms(s.latencyP99Ms)}`,
      ratio(r?.latencyP50.median),
      `${cpu(s.cpuProcess.median)} + ${cpu(s.cpuServer.median)} = ${cpu(s.cpuTotal.median)}`,
      ratio(r?.cpuTotal.median),
    ];
  });
}

function ratio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value < 0.1 ? value.toPrecision(2) : value.toFixed(2);
}

export function markdownTable(rows: readonly string[][]): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${HEADERS.join(' | ')} |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((cells) => `| ${cells.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}

export function textTable(rows: readonly string[][]): string {
  const all = [HEADERS, ...rows];
  const widths = HEADERS.map((_, col) =>
    Math.max(...all.map((cells) => (cells[col] ?? '').length)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(HEADERS), rule, ...rows.map(render)].join('\n');
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ms`;
}

function cpu(value: number): string {
  return value.toFixed(value < 0.1 ? 3 : 2);
}
