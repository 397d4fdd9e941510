import cliProgress from 'cli-progress';
import type { BenchProgress } from '../bench/bench-report.js';

/** Shows a benchmark's progress on a stream: a bar on a terminal, plain lines otherwise. */
export interface ProgressView {
  update(progress: BenchProgress): void;
  /** Removes the bar (if any); call before printing results and on failure. */
  stop(): void;
}

export function progressView(stream: NodeJS.WriteStream): ProgressView {
  return stream.isTTY ? new BarView(stream) : new LineView(stream);
}

function where(p: BenchProgress): string {
  const warmup = p.warmup ? ' (warm-up)' : '';
  return `pool size ${p.size}/${p.maxSize}, run ${p.run}/${p.runsPerSize}${warmup}`;
}

class BarView implements ProgressView {
  readonly #bar: cliProgress.SingleBar;
  #started = false;

  constructor(stream: NodeJS.WriteStream) {
    this.#bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          'bench {bar} {percentage}% | {where} | {value}/{total} instances | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(p: BenchProgress): void {
    if (!this.#started) {
      this.#bar.start(p.total, p.doneTotal, { where: where(p) });
      this.#started = true;
    } else {
      this.#bar.update(p.doneTotal, { where: where(p) });
    }
  }

  stop(): void {
    if (this.#started) this.#bar.stop();
    this.#started = false;
  }
}

/** Off a terminal (CI logs, pipes), one line as each run starts, so logs stay readable. */
class LineView implements ProgressView {
  readonly #stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
  }

  update(p: BenchProgress): void {
    if (p.done === 0) this.#stream.write(`bench: ${where(p)}\n`);
  }

  stop(): void {}
}
