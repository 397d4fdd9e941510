import type { BenchReport } from './bench-report.js';

/**
 * Draws a benchmark report as an SVG chart: median throughput against pool size (solid line,
 * with each size's lowest-to-highest run as a bar, left axis) and parallel efficiency (dashed
 * line, right axis, 0-100%), with the recommended size marked.
 *
 * Written by hand rather than with a charting package: two lines over a handful of points is
 * about a hundred lines of SVG text, while the charting packages either need a DOM or a
 * canvas (Chart.js, D3's rendering) or bring megabytes of dependencies (Vega) into a package
 * that ships this command to every user. Plain SVG also opens in any browser and can be
 * embedded in a README as it is.
 */

const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { top: 48, right: 72, bottom: 56, left: 80 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const TICKS = 5;
const THROUGHPUT_COLOR = '#1f6feb';
const EFFICIENCY_COLOR = '#d9480f';

export function renderBenchChart(report: BenchReport): string {
  const sizes = report.sizes;
  const maxSize = Math.max(...sizes.map((s) => s.size), 1);
  const yMax = niceCeiling(Math.max(...sizes.map((s) => s.throughput.max), 1));
  // Half a step of room on either side, so no point sits on an axis.
  const x = (size: number) => MARGIN.left + ((size - 0.5) / maxSize) * PLOT_W;
  const yRate = (rate: number) => MARGIN.top + PLOT_H - (rate / yMax) * PLOT_H;
  const yShare = (share: number) => MARGIN.top + PLOT_H - Math.min(share, 1.2) * (PLOT_H / 1.2);

  const throughputPath = sizes.map((s) => `${fmt(x(s.size))},${fmt(yRate(s.throughput.median))}`);
  const efficiencyPath = sizes.map((s) => `${fmt(x(s.size))},${fmt(yShare(s.efficiency))}`);
  const recommended = report.recommendation.size;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
      `viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>jobloom bench: ${escapeXml(report.kind)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 20, `jobloom bench: "${report.kind}", ${report.instances} instances per run`, {
      anchor: 'middle',
      size: 15,
    }),
    ...gridAndAxes(yMax, yRate, yShare),
    ...sizes.map((s) =>
      text(x(s.size), MARGIN.top + PLOT_H + 18, String(s.size), { anchor: 'middle' }),
    ),
    text(MARGIN.left + PLOT_W / 2, HEIGHT - 14, 'pool size (threads)', { anchor: 'middle' }),
    line(x(recommended), MARGIN.top, x(recommended), MARGIN.top + PLOT_H, '#2f9e44', '6 4'),
    text(x(recommended) + 4, MARGIN.top + 12, `recommended: ${recommended}`, { color: '#2f9e44' }),
    ...sizes.map((s) =>
      line(
        x(s.size),
        yRate(s.throughput.min),
        x(s.size),
        yRate(s.throughput.max),
        THROUGHPUT_COLOR,
      ),
    ),
    polyline(throughputPath, THROUGHPUT_COLOR),
    ...sizes.map((s) => circle(x(s.size), yRate(s.throughput.median), THROUGHPUT_COLOR)),
    polyline(efficiencyPath, EFFICIENCY_COLOR, '5 4'),
    ...sizes.map((s) => circle(x(s.size), yShare(s.efficiency), EFFICIENCY_COLOR)),
    ...legend(),
    '</svg>',
    '',
  ].join('\n');
}

function gridAndAxes(
  yMax: number,
  yRate: (rate: number) => number,
  yShare: (share: number) => number,
): string[] {
  const out: string[] = [];
  const left = MARGIN.left;
  const right = MARGIN.left + PLOT_W;
  for (let i = 0; i <= TICKS; i++) {
    const rate = (yMax / TICKS) * i;
    out.push(line(left, yRate(rate), right, yRate(rate), '#e5e5e5'));
    out.push(text(left - 8, yRate(rate) + 4, compact(rate), { anchor: 'end' }));
  }
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(text(right + 8, yShare(share) + 4, `${share * 100}%`, { color: EFFICIENCY_COLOR }));
  }
  out.push(line(left, MARGIN.top, left, MARGIN.top + PLOT_H, '#333333'));
  out.push(line(left, MARGIN.top + PLOT_H, right, MARGIN.top + PLOT_H, '#333333'));
  out.push(line(right, MARGIN.top, right, MARGIN.top + PLOT_H, EFFICIENCY_COLOR));
  const midY = MARGIN.top + PLOT_H / 2;
  out.push(turned(18, midY, -90, 'instances/s (median; bar: min-max)', THROUGHPUT_COLOR));
  out.push(turned(WIDTH - 12, midY, 90, 'parallel efficiency', EFFICIENCY_COLOR));
  return out;
}

function legend(): string[] {
  const y = MARGIN.top - 12;
  const at = MARGIN.left;
  return [
    line(at, y, at + 24, y, THROUGHPUT_COLOR),
    text(at + 30, y + 4, 'throughput'),
    line(at + 120, y, at + 144, y, EFFICIENCY_COLOR, '5 4'),
    text(at + 150, y + 4, 'efficiency (speedup / threads)'),
  ];
}

/** The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `value`. */
export function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

function compact(value: number): string {
  if (value >= 1_000_000) return `${trim(value / 1_000_000)}M`;
  if (value >= 1_000) return `${trim(value / 1_000)}k`;
  return trim(value);
}

function trim(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function fmt(value: number): string {
  return value.toFixed(1);
}

function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  color: string,
  dash?: string,
): string {
  const dashed = dash ? ` stroke-dasharray="${dash}"` : '';
  const ends = `x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}"`;
  return `<line ${ends} stroke="${color}" stroke-width="1.5"${dashed}/>`;
}

function polyline(points: readonly string[], color: string, dash?: string): string {
  const dashed = dash ? ` stroke-dasharray="${dash}"` : '';
  const stroke = `stroke="${color}" stroke-width="2.5"${dashed}`;
  return `<polyline points="${points.join(' ')}" fill="none" ${stroke}/>`;
}

/** A label turned by `degrees` about its own position, for the vertical axes. */
function turned(x: number, y: number, degrees: number, content: string, color: string): string {
  const at = `x="${fmt(x)}" y="${fmt(y)}"`;
  const turn = `transform="rotate(${degrees} ${fmt(x)} ${fmt(y)})"`;
  return `<text ${at} ${turn} text-anchor="middle" fill="${color}">${escapeXml(content)}</text>`;
}

function circle(cx: number, cy: number, color: string): string {
  return `<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="4" fill="${color}"/>`;
}

function text(
  x: number,
  y: number,
  content: string,
  style: { anchor?: 'start' | 'middle' | 'end'; color?: string; size?: number } = {},
): string {
  const anchor = style.anchor ? ` text-anchor="${style.anchor}"` : '';
  const fill = style.color ? ` fill="${style.color}"` : '';
  const size = style.size ? ` font-size="${style.size}"` : '';
  return `<text x="${fmt(x)}" y="${fmt(y)}"${anchor}${fill}${size}>${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
