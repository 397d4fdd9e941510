/**
 * The SQLite store's benchmark: `npm run build && node dist/bench/sqlite.js [--quick]`.
 *
 * Measures, against the memory store on the same machine and in the same rounds:
 * - trivial-job throughput with a SQLite file vs the memory store (target: ratio ≥ 0.5);
 * - write amplification: bytes of file per finished instance after the store closed (which
 *   checkpoints the WAL), and bytes handed to write(2) per instance while running;
 * - a steady stream of instances: event-loop delay, how long a write batch takes at the
 *   store's thread, and how long after an instance completed its final state is in the store;
 * - recovery: a manager starting on a file of 100,000 queued instances, until `start()`
 *   resolves and until the first attempt runs (each run in a new process).
 *
 * Writes `bench/results/sqlite.json` (every run's figures) and `bench/results/sqlite.md`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore, SqliteStore } from '../src/index.js';
import { type StreamFigures, stream, throughput, writeAmplification } from './sqlite-cases.js';
import { writeQueuedFile } from './sqlite-fill.js';
import { markdownTable, spread, type TableRow, type Unit } from './sqlite-stats.js';

const quick = process.argv.includes('--quick');
const settings = {
  tasks: quick ? 2_000 : 10_000,
  warmupRounds: quick ? 1 : 2,
  rounds: quick ? 5 : 7,
  amplificationInstances: quick ? 5_000 : 20_000,
  amplificationRuns: 5,
  streamPerSecond: 2_000,
  streamSeconds: quick ? 1 : 3,
  streamRuns: 5,
  recoveryInstances: quick ? 10_000 : 100_000,
  recoveryRuns: 5,
};
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const RECOVERY = fileURLToPath(new URL('./sqlite-recovery.js', import.meta.url));

const machine = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores: availableParallelism(),
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()}`,
  node: process.version,
  loadAverageAtStart: loadavg()[0] ?? 0,
};
const dir = mkdtempSync(join(tmpdir(), 'jobloom-bench-sqlite-'));
const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  say(`throughput: ${settings.tasks} trivial instances at once, ${settings.rounds} rounds`);
  const rates = await throughput(dir, settings.tasks, settings.warmupRounds, settings.rounds);

  say(`write amplification: ${settings.amplificationInstances} instances on a new file`);
  const amplification = [];
  for (let run = 0; run < settings.amplificationRuns; run++) {
    const file = join(dir, `amplification-${run}.db`);
    amplification.push(await writeAmplification(file, settings.amplificationInstances));
  }

  say(`stream: ${settings.streamPerSecond}/s for ${settings.streamSeconds} s`);
  const streams: { memory: StreamFigures; sqlite: StreamFigures }[] = [];
  for (let run = 0; run < settings.streamRuns; run++) {
    const { streamPerSecond: rate, streamSeconds: seconds } = settings;
    const memory = await stream(new MemoryStore(), rate, seconds);
    const path = join(dir, `stream-${run}.db`);
    const sqlite = await stream(new SqliteStore({ path }), rate, seconds);
    streams.push({ memory, sqlite });
  }

  say(`recovery: ${settings.recoveryInstances} queued instances`);
  const recovery = await measureRecovery();

  const figures = { rates, amplification, streams, recovery };
  const rows = tableRows(figures);
  mkdirSync(RESULTS, { recursive: true });
  const loadAverageAtEnd = loadavg()[0] ?? 0;
  const json = { machine: { ...machine, loadAverageAtEnd }, settings, figures };
  writeFileSync(join(RESULTS, 'sqlite.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'sqlite.md'), markdown(rows, loadAverageAtEnd));
  say(markdownTable(rows));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function measureRecovery(): Promise<{ startMs: number; firstAttemptMs: number }[]> {
  const template = join(dir, 'recovery-template.db');
  await writeQueuedFile(template, settings.recoveryInstances);
  const runs = [];
  for (let run = 0; run < settings.recoveryRuns; run++) {
    const file = join(dir, `recovery-${run}.db`);
    copyFileSync(template, file);
    const output = execFileSync(process.execPath, [RECOVERY, file], { encoding: 'utf8' });
    runs.push(JSON.parse(output) as { startMs: number; firstAttemptMs: number });
  }
  return runs;
}

type Figures = {
  rates: Awaited<ReturnType<typeof throughput>>;
  amplification: Awaited<ReturnType<typeof writeAmplification>>[];
  streams: { memory: StreamFigures; sqlite: StreamFigures }[];
  recovery: { startMs: number; firstAttemptMs: number }[];
};

function tableRows({ rates, amplification, streams, recovery }: Figures): TableRow[] {
  const row = (figure: string, unit: Unit, values: readonly (number | null)[]): TableRow => {
    const measured = values.filter((value): value is number => value !== null);
    return { figure, unit, spread: spread(measured) };
  };
  const sqlite = (pick: (figures: StreamFigures) => number | null) =>
    streams.map((run) => pick(run.sqlite));
  const memory = (pick: (figures: StreamFigures) => number | null) =>
    streams.map((run) => pick(run.memory));
  const ratio = row('SQLite / memory, same round', 'ratio', rates.ratio);
  const queued = `recovery of ${n(settings.recoveryInstances)} queued`;
  return [
    row('throughput, memory store', 'rate', rates.memory.rates),
    row('throughput, SQLite file', 'rate', rates.sqlite.rates),
    { ...ratio, target: `≥ 0.50: ${ratio.spread.median >= 0.5 ? 'met' : 'MISSED'}` },
    row('throughput, SQLite file pruning to 10,000', 'rate', rates.pruning.rates),
    row('SQLite pruning / memory, same round', 'ratio', rates.pruningRatio),
    row('main-thread CPU per instance, memory store', 'us', rates.memory.mainUs),
    row('main-thread CPU per instance, SQLite file', 'us', rates.sqlite.mainUs),
    row('main-thread CPU per instance, SQLite pruning', 'us', rates.pruning.mainUs),
    row(
      'file bytes per finished instance',
      'bytes',
      amplification.map((a) => a.fileBytes),
    ),
    row(
      'bytes written per instance, burst',
      'bytes',
      amplification.map((a) => a.writtenBytes),
    ),
    row(
      'bytes written per instance, stream',
      'bytes',
      sqlite((s) => s.writtenBytes),
    ),
    row(
      'final state in store after completion, p50',
      'ms',
      sqlite((s) => s.visibleP50Ms),
    ),
    row(
      'final state in store after completion, p99',
      'ms',
      sqlite((s) => s.visibleP99Ms),
    ),
    row(
      'final state in store after completion, max',
      'ms',
      sqlite((s) => s.visibleMaxMs),
    ),
    row(
      'one write batch (round trip to the store thread), p99',
      'ms',
      sqlite((s) => s.batchP99Ms),
    ),
    row(
      'one write batch (round trip to the store thread), max',
      'ms',
      sqlite((s) => s.batchMaxMs),
    ),
    row(
      'event-loop delay p99, memory store',
      'ms',
      memory((s) => s.loopDelayP99Ms),
    ),
    row(
      'event-loop delay p99, SQLite file',
      'ms',
      sqlite((s) => s.loopDelayP99Ms),
    ),
    row(
      'event-loop delay max, memory store',
      'ms',
      memory((s) => s.loopDelayMaxMs),
    ),
    row(
      'event-loop delay max, SQLite file',
      'ms',
      sqlite((s) => s.loopDelayMaxMs),
    ),
    row(
      `${queued}: start() resolves`,
      'ms',
      recovery.map((r) => r.startMs),
    ),
    row(
      `${queued}: first attempt runs`,
      'ms',
      recovery.map((r) => r.firstAttemptMs),
    ),
  ];
}

function markdown(rows: readonly TableRow[], loadAverageAtEnd: number): string {
  const s = settings;
  const load = `load average ${machine.loadAverageAtStart.toFixed(1)} at start, ${loadAverageAtEnd.toFixed(1)} at end`;
  return `# SQLite store benchmark

${machine.date.slice(0, 10)} · ${machine.cpu} · ${machine.cores} cores · ${machine.memoryGiB} GiB · ${machine.os} · Node ${machine.node} · ${load}

Run with \`npm run build && node dist/bench/sqlite.js\`. Every figure is the median of its
runs, with the lowest and highest run. Both stores use their defaults (the SQLite file: WAL,
\`synchronous=NORMAL\`, history batched every 5 ms, 7 days and 100,000 finished instances of
retention); the pool has one thread per core. The machine is shared: the load average says
how much else ran.

${markdownTable(rows)}

- **Throughput**: ${n(s.tasks)} trivial instances scheduled at once, until all are finished and
  in history; ${s.warmupRounds} warm-up rounds, then ${s.rounds} rounds in which the cases take turns (who goes
  first rotates every round). The ratios are taken within each round. The memory store keeps
  10,000 finished instances, so from the second round on it evicts as many as it adds; the
  SQLite file's default of 100,000 is not reached here, so "SQLite pruning" runs a file with
  \`maxFinished: 10000\`, which deletes an instance, its history and its index entries for
  each one it adds: the steady state of a long-running service. "Main-thread CPU" is the CPU
  time of the main thread (\`/proc/thread-self/stat\`, 10 ms ticks) per instance in the same
  runs: what each store costs the thread that schedules, dispatches and writes history, and
  unlike rates it does not move when other processes take the cores.
- **Write amplification**: ${n(s.amplificationInstances)} trivial instances on a new file, scheduled at once
  (no log lines; five state transitions each); then the store closes, which checkpoints the
  WAL into the file. "Bytes written" is \`wchar\` of \`/proc/self/io\` per instance: the WAL's
  frames and the checkpoints' copies. A burst writes full batches; the stream below writes a
  batch of about ten instances every 5 ms, and each commit rewrites the pages it touched.
- **Stream**: ${n(s.streamPerSecond)} instances a second for ${s.streamSeconds} s, scheduled every 10 ms, as a service sees
  them. "Final state in store" runs from the \`instance:completed\` event to the end of the
  store write holding the final transition: the delay before a query sees the instance
  finished. Its bound is \`historyBatchDelayMs\` (5 ms), or the write in flight when the
  instance finished if that takes longer, plus its own batch's write, plus however late the
  event loop runs the batch timer. "One write batch" is a write's round trip to the store's
  thread, where the transaction runs (the main thread only copies the batch across); the
  longest are those that also checkpoint the WAL (every ~4 MB). "Event-loop delay" is
  \`monitorEventLoopDelay\` of the main thread over the stream.
- **Recovery**: a file of ${n(s.recoveryInstances)} queued instances (written through the store); a new
  process creates a manager on it and starts it. The time includes opening the file, loading
  every unfinished instance, queuing them in priority order and starting the threads.
`;
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}
