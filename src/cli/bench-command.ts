import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseArgsJson, readArgsSamples } from '../bench/args-samples.js';
import { renderBenchChart } from '../bench/bench-chart.js';
import type { BenchOptions } from '../bench/bench-options.js';
import { runBench } from '../bench/run-bench.js';
import { InvalidOptionError } from '../errors.js';
import { formatBenchReport } from './bench-output.js';
import { progressView } from './progress.js';
import { UsageError } from './usage-error.js';

/** The flags of `jobloom bench`, as commander parses them. */
interface BenchFlags {
  workers: string;
  kind: string;
  args?: string;
  argsFile?: string;
  instances?: number;
  maxThreads?: number;
  runs?: number;
  warmup?: number;
  tolerance?: number;
  json?: string;
  chart?: string;
}

/** Which flag sets which option of `runBench()`, to name the flag when an option is refused. */
const FLAG_OF: Record<string, string> = {
  folder: '--workers',
  kind: '--kind',
  samples: '--args',
  instances: '--instances',
  maxThreads: '--max-threads',
  warmupRuns: '--warmup',
  runs: '--runs',
  tolerance: '--tolerance',
};

export function benchCommand(): Command {
  return new Command('bench')
    .summary("measure an executor at pool sizes 1..N and recommend the pool's size")
    .description(
      'Runs an executor from a folder of worker modules at pool sizes 1 to N, warm-up runs and ' +
        'then measured runs at each size, and prints throughput, run time, queue wait, speedup, ' +
        'parallel efficiency and peak memory per size, then the size it recommends and why.',
    )
    .requiredOption('--workers <folder>', 'folder of worker modules; each file is a kind')
    .requiredOption('--kind <kind>', 'the kind to measure (a worker module name, no extension)')
    .addOption(
      new Option('--args <json>', 'arguments of every instance, as JSON (default {})').conflicts(
        'argsFile',
      ),
    )
    .option('--args-file <file>', 'JSON Lines file of argument samples, used in turn')
    .option('--instances <n>', 'instances scheduled at once in every run (default 200)', number)
    .option('--max-threads <n>', 'largest pool size measured (default: cores + 1)', number)
    .option('--runs <n>', 'measured runs per pool size, at least 5 (default 5)', number)
    .option('--warmup <n>', 'warm-up runs per pool size, thrown away (default 1)', number)
    .option(
      '--tolerance <fraction>',
      'recommend the smallest size this close to the best (default 0.1)',
      number,
    )
    .option('--json <file>', 'write every raw figure to this JSON file')
    .option('--chart <file.svg>', 'draw throughput and efficiency against pool size as SVG')
    .action((flags: BenchFlags) => bench(flags));
}

async function bench(flags: BenchFlags): Promise<void> {
  const options = await optionsFrom(flags);
  const view = progressView(process.stderr);
  let report: Awaited<ReturnType<typeof runBench>>;
  try {
    report = await runBench({ ...options, onProgress: (p) => view.update(p) });
  } catch (error) {
    throw usageErrorOf(error);
  } finally {
    view.stop();
  }

  process.stdout.write(formatBenchReport(report));
  if (flags.json) {
    await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`Raw figures written to ${flags.json}\n`);
  }
  if (flags.chart) {
    await writeFile(flags.chart, renderBenchChart(report));
    process.stdout.write(`Chart written to ${flags.chart}\n`);
  }
}

/** Turns flags into `runBench()` options; reads the samples; checks output folders exist. */
async function optionsFrom(flags: BenchFlags): Promise<BenchOptions> {
  checkOutputFile(flags.json, '--json');
  checkOutputFile(flags.chart, '--chart');
  let samples: unknown[] | undefined;
  try {
    if (flags.args !== undefined) samples = [parseArgsJson(flags.args, '--args')];
    if (flags.argsFile !== undefined)
      samples = await readArgsSamples(flags.argsFile, '--args-file');
  } catch (error) {
    throw usageErrorOf(error);
  }

  return {
    folder: flags.workers,
    kind: flags.kind,
    ...(samples ? { samples } : {}),
    ...(flags.instances !== undefined ? { instances: flags.instances } : {}),
    ...(flags.maxThreads !== undefined ? { maxThreads: flags.maxThreads } : {}),
    ...(flags.runs !== undefined ? { runs: flags.runs } : {}),
    ...(flags.warmup !== undefined ? { warmupRuns: flags.warmup } : {}),
    ...(flags.tolerance !== undefined ? { tolerance: flags.tolerance } : {}),
  };
}

/** A file can be written only into a folder that exists: say so now, not after the benchmark. */
function checkOutputFile(file: string | undefined, flag: string): void {
  if (file === undefined) return;
  const folder = dirname(resolve(file));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UsageError(`${flag}: expected a file in an existing folder, received "${file}"`);
  }
}

/** An option the library refused becomes a usage error that names the flag behind it. */
function usageErrorOf(error: unknown): unknown {
  if (!(error instanceof InvalidOptionError)) return error;
  const option = error.path.split(/[.[]/)[0] ?? error.path;
  const flag = FLAG_OF[option];
  const message = flag ? `${flag}${error.message.slice(option.length)}` : error.message;
  return new UsageError(message, { cause: error });
}

function number(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new InvalidArgumentError('not a number.');
  return value;
}
