/**
 * `npm run bench`: jobloom's speed beside raw Piscina and plain threads, as ratios measured
 * in the same run. Prints a table and writes bench/results/core.json (raw figures) and
 * bench/results/core.md (the table, for the README).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measureComlinkCost } from './comlink-cost.js';
import { calibrateRounds, measureCpuScaling } from './cpu-scaling.js';
import { measureDelayPrecision } from './delay-precision.js';
import { machineInfo, machineLine } from './machine.js';
import { measureMemory } from './memory.js';
import type { RoundsOptions } from './rounds.js';
import { markdownTable, type SectionResult, textTable } from './table.js';
import { measureThroughput } from './throughput.js';

const WARMUP_ROUNDS = 1;
const ROUNDS = 5;
const THREADS = 2;
const CPU_JOB_MS = 10;

const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));

function rounds(label: string): RoundsOptions {
  return {
    warmupRounds: WARMUP_ROUNDS,
    rounds: ROUNDS,
    onRound: (round, total, warmup) =>
      console.log(`  ${label}: round ${round}/${total}${warmup ? ' (warm-up)' : ''}`),
  };
}

async function main(): Promise<void> {
  const startedMs = performance.now();
  const machine = machineInfo();
  console.log(`jobloom bench on ${machineLine(machine)}`);
  const roundsPerJob = calibrateRounds(CPU_JOB_MS);
  console.log(`  calibration: ${roundsPerJob} SHA-256 rounds ≈ ${CPU_JOB_MS} ms of CPU`);

  const sections: Record<string, SectionResult> = {};
  sections.throughput = await measureThroughput({
    ...rounds('throughput'),
    tasks: 20_000,
    threads: THREADS,
  });
  sections.cpuScaling = await measureCpuScaling({
    ...rounds('CPU scaling'),
    jobs: 200,
    roundsPerJob,
  });
  sections.delayPrecision = await measureDelayPrecision({
    ...rounds('delay precision'),
    threads: THREADS,
    delayed: 500,
    minDelayMs: 10,
    maxDelayMs: 500,
    busyMs: 800,
    backlogJobMs: 5,
    roundsPerMs: roundsPerJob / CPU_JOB_MS,
  });
  sections.memory = await measureMemory({
    runs: ROUNDS,
    queued: 100_000,
    finished: 20_000,
    onRun: (run, total) => console.log(`  memory: process ${run}/${total}`),
  });
  sections.comlink = await measureComlinkCost({
    ...rounds('comlink cost'),
    threads: THREADS,
    instances: 4_000,
    lines: 10,
  });

  const totalSeconds = (performance.now() - startedMs) / 1000;
  write(machine, sections, totalSeconds);
}

function write(
  machine: ReturnType<typeof machineInfo>,
  sections: Record<string, SectionResult>,
  totalSeconds: number,
): void {
  const rows = Object.values(sections).flatMap((section) => section.rows);
  const targets = Object.assign({}, ...Object.values(sections).map((s) => s.targets));
  console.log(`\n${machineLine(machine)}\n\n${textTable(rows)}\n`);
  console.log(`bench took ${totalSeconds.toFixed(0)} s; results in ${resultsDir}`);

  mkdirSync(resultsDir, { recursive: true });
  const method = { threads: THREADS, warmupRounds: WARMUP_ROUNDS, rounds: ROUNDS };
  const raw = Object.fromEntries(Object.entries(sections).map(([name, s]) => [name, s.raw]));
  const loadAverageAtEnd = loadavg()[0];
  const json = { machine, loadAverageAtEnd, method, targets, totalSeconds, rows, raw };
  writeFileSync(`${resultsDir}core.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${resultsDir}core.md`, markdown(machine, rows));
}

function markdown(machine: ReturnType<typeof machineInfo>, rows: SectionResult['rows']): string {
  return [
    `Measured by \`npm run bench\` on ${machineLine(machine)}.`,
    '',
    `Each figure is the median of ${ROUNDS} runs after ${WARMUP_ROUNDS} warm-up run, with the`,
    'lowest and highest run beside it. Cases take turns within each round, and every ratio is',
    'taken between figures of the same round, so a slow spell of the machine hits both sides.',
    'The load average says how much else the machine was running at the time.',
    '',
    markdownTable(rows),
    '',
    NOTES,
  ].join('\n');
}

const NOTES = [
  'What each section measures:',
  '',
  '- **Trivial-job throughput**: 20,000 instances of an executor that returns a small object,',
  '  all submitted at once, on 2 threads; jobloom keeps full state history in its memory store.',
  '  Raw Piscina runs the same function with `run()` for each task; plain `worker_threads`',
  '  posts one message per task with no pool library at all.',
  `- **CPU-heavy scaling**: 200 jobs of about ${CPU_JOB_MS} ms of chained SHA-256 each; the`,
  '  ceiling runs the same work on plain threads, each its share in one loop, no messages.',
  '- **Delay precision**: every thread is kept busy with CPU jobs while 500 instances with',
  '  random delays become due; lateness is when each entered the ready queue (its `queued`',
  '  transition) minus its stored due time. A bare `setTimeout` with the same delay, armed',
  '  beside each instance, shows what Node and the operating system add under the same load.',
  '- **Memory**: heap after full garbage collection, in separate processes; a queued instance',
  '  includes its record and state history in the store; a finished one is what the memory',
  '  store keeps of it (record, five transitions, result).',
  '- **comlink cost**: instances writing 10 log lines each against instances writing none;',
  "  extra main-thread busy time comes from the event loop's utilisation.",
  '',
].join('\n');

try {
  await main();
} catch (error) {
  // Pools and threads of the failed section are still alive; they must not keep the bench up.
  console.error(error);
  process.exit(1);
}
