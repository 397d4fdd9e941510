import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { benchScript } from './paths.js';
import { summarize } from './stats.js';
import { formats, row, type SectionResult } from './table.js';

const run = promisify(execFile);

export interface MemoryOptions {
  /** Separate processes to measure in; each is one run. */
  runs: number;
  queued: number;
  finished: number;
  onRun?: (run: number, total: number) => void;
}

interface ProbeFigures {
  bytesPerQueued: number;
  scheduleMicros: number;
  bytesPerFinished: number;
}

const SECTION = 'memory';

/**
 * Runs memory-probe.js in fresh processes with `--expose-gc`, so every run starts from a clean
 * heap and measures after full collections. Heap figures need no warm-up round: each probe
 * measures the difference between two settled heaps within one process.
 */
export async function measureMemory(options: MemoryOptions): Promise<SectionResult> {
  const figures: ProbeFigures[] = [];
  for (let i = 0; i < options.runs; i++) {
    const args = ['--expose-gc', benchScript('memory-probe'), String(options.queued)];
    const { stdout } = await run(process.execPath, [...args, String(options.finished)]);
    figures.push(JSON.parse(stdout) as ProbeFigures);
    options.onRun?.(i + 1, options.runs);
  }

  const queued = summarize(figures.map((f) => f.bytesPerQueued));
  const finished = summarize(figures.map((f) => f.bytesPerFinished));
  const s = SECTION;
  const count = (n: number) => n.toLocaleString('en-US');
  const scheduleMicros = summarize(figures.map((f) => f.scheduleMicros));
  return {
    rows: [
      row(s, `per queued instance, ${count(options.queued)} queued`, queued, formats.bytes),
      row(
        s,
        `schedule() call, while ${count(options.queued)} queue`,
        scheduleMicros,
        formats.micros,
      ),
      row(s, `per finished instance kept (${count(options.finished)})`, finished, formats.bytes),
    ],
    raw: { queued: options.queued, finished: options.finished, perRun: figures },
    targets: {},
  };
}
