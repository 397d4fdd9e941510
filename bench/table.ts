import type { Summary } from './stats.js';

/** One line of the results table. Figures are formatted; the raw numbers go to the JSON. */
export interface Row {
  section: string;
  figure: string;
  /** The median over the measured runs. */
  median: string;
  /** The lowest and highest run. */
  range: string;
  /** The target and whether it was met, or empty. */
  target: string;
}

/** What each benchmark section returns: its rows, and raw figures for the JSON file. */
export interface SectionResult {
  rows: Row[];
  raw: Record<string, unknown>;
  /** Targets, by name, and whether they were met. */
  targets: Record<string, boolean>;
}

type Format = (value: number) => string;

export const formats = {
  rate: (value: number) => `${Math.round(value).toLocaleString('en-US')} /s`,
  ratio: (value: number) => value.toFixed(2),
  speedup: (value: number) => `${value.toFixed(2)}x`,
  ms: (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`,
  seconds: (value: number) => `${(value / 1000).toFixed(2)} s`,
  bytes: (value: number) => `${Math.round(value).toLocaleString('en-US')} B`,
  micros: (value: number) => `${value.toFixed(1)} µs`,
  percent: (value: number) => `${(value * 100).toFixed(0)}%`,
} satisfies Record<string, Format>;

export function row(
  section: string,
  figure: string,
  summary: Summary,
  format: Format,
  target = '',
): Row {
  const range = `${format(summary.min)} – ${format(summary.max)}`;
  return { section, figure, median: format(summary.median), range, target };
}

/** "≥ 0.70: met" or "≥ 0.70: MISSED". */
export function targetText(label: string, met: boolean): string {
  return `${label}: ${met ? 'met' : 'MISSED'}`;
}

const HEADERS = ['section', 'figure', 'median', 'min – max', 'target'] as const;

function cellsOf(r: Row): string[] {
  return [r.section, r.figure, r.median, r.range, r.target];
}

/** The table as aligned plain text for the terminal. */
export function textTable(rows: readonly Row[]): string {
  const lines = [[...HEADERS], ...rows.map(cellsOf)];
  const widths = HEADERS.map((_, col) => Math.max(...lines.map((cells) => cells[col]!.length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, col) => cell.padEnd(widths[col]!))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(lines[0]!), rule, ...lines.slice(1).map(render)].join('\n');
}

/** The table as Markdown; the section is written once, on its first row. */
export function markdownTable(rows: readonly Row[]): string {
  const escapePipes = (cell: string) => cell.replaceAll('|', '\\|');
  const out = [`| ${HEADERS.join(' | ')} |`, '| --- | --- | ---: | ---: | --- |'];
  let section = '';
  for (const r of rows) {
    const cells = cellsOf(r).map(escapePipes);
    if (r.section === section) cells[0] = '';
    section = r.section;
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}
