/**
 * `npm run bench:peers`: jobloom beside the systems a user would otherwise pick, in one run on
 * this machine: raw Piscina, Bree, BullMQ, graphile-worker and pg-boss, each configured as its
 * docs recommend for throughput, on the local Redis and PostgreSQL. Prints the tables and
 * writes bench/results/peers.json (every raw figure) and bench/results/peers.md (the tables,
 * for the README). A peer that cannot run here is skipped with the reason, in both.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { calibrateRounds } from './cpu-scaling.js';
import { type MachineInfo, machineInfo, machineLine } from './machine.js';
import { breePeer } from './peers/bree-peer.js';
import { bullmqPostgresPeer, bullmqRedisPeer } from './peers/bullmq-peer.js';
import { graphilePeer } from './peers/graphile-peer.js';
import { jobloomPeer } from './peers/jobloom-peer.js';
import { bulkRun, pacedRun } from './peers/measure.js';
import type { Peer, PeerSpec, Workload } from './peers/peer.js';
import { pgBossPeer } from './peers/pgboss-peer.js';
import { piscinaPeer } from './peers/piscina-peer.js';
import {
  markdownTable,
  type PeerOutcome,
  ratiosToJobloom,
  summarizeOutcome,
  tableRows,
  textTable,
} from './peers/report.js';
import { messageOf, probePostgres, probeRedis } from './peers/services.js';

const WARMUP_ROUNDS = 1;
const ROUNDS = 5;
const CPU_JOB_MS = 10;
/** Jobs per bulk run. Bree starts a thread per run (~20-40 runs/s here), so it gets fewer. */
const BULK_JOBS = { trivial: 5_000, cpu: 200 } as const;
const BREE_JOBS = { trivial: 100, cpu: 100 } as const;
/** Light load for latency: this many jobs, one every `spacingMs`, in every round. */
const PACED = { jobs: 30, spacingMs: 50 } as const;

const PEERS: PeerSpec[] = [
  jobloomPeer,
  piscinaPeer,
  breePeer,
  bullmqRedisPeer,
  bullmqPostgresPeer,
  graphilePeer,
  pgBossPeer,
];
const PACKAGES = ['piscina', 'bree', 'bullmq', 'ioredis', 'graphile-worker', 'pg-boss', 'pg'];

const root = fileURLToPath(new URL('../../', import.meta.url));
const resultsDir = `${root}bench/results/`;

interface Skipped {
  peer: string;
  reason: string;
}

async function main(): Promise<void> {
  const startedMs = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const machine = machineInfo();
  console.log(`jobloom peers bench on ${machineLine(machine)}`);
  const roundsPerJob = calibrateRounds(CPU_JOB_MS);
  console.log(`  calibration: ${roundsPerJob} SHA-256 rounds ≈ ${CPU_JOB_MS} ms of CPU`);
  const versions = await versionsOf();

  const skipped: Skipped[] = [];
  const available: PeerSpec[] = [];
  for (const spec of PEERS) {
    const reason = await spec.unavailable();
    if (reason) {
      skipped.push({ peer: spec.name, reason });
      console.log(`  SKIPPED ${spec.name}: ${reason}`);
    } else {
      available.push(spec);
    }
  }

  const workloads: Workload[] = [
    { name: 'trivial', rounds: 0 },
    { name: 'cpu', rounds: roundsPerJob },
  ];
  const outcomes: PeerOutcome[] = [];
  for (const workload of workloads) outcomes.push(...(await measureWorkload(available, workload)));

  const totalSeconds = (performance.now() - startedMs) / 1000;
  const load = { start: loadAtStart, end: loadavg()[0] ?? 0 };
  const report = { machine, versions, roundsPerJob, skipped, outcomes, totalSeconds, load };
  printTables(report);
  write(report);
}

interface Running {
  spec: PeerSpec;
  peer?: Peer | undefined;
  outcome: PeerOutcome;
}

/**
 * Every available peer on one workload. All are started first, then each round runs every
 * peer once, taking turns (the order flips every round): on a shared virtual machine a slow
 * spell then hits all peers alike, and ratios taken round by round stay fair. A peer that
 * fails is closed and reported; the others carry on.
 */
async function measureWorkload(
  specs: readonly PeerSpec[],
  workload: Workload,
): Promise<PeerOutcome[]> {
  const running: Running[] = [];
  for (const spec of specs) {
    const entry: Running = { spec, outcome: newOutcome(spec, workload) };
    running.push(entry);
    try {
      entry.peer = await spec.start(workload);
    } catch (error) {
      fail(entry, error);
    }
  }

  const total = WARMUP_ROUNDS + ROUNDS;
  try {
    for (let round = 1; round <= total; round++) {
      const order = round % 2 === 1 ? running : [...running].reverse();
      for (const entry of order) await runRound(entry, workload, round);
    }
  } finally {
    for (const entry of running) await entry.peer?.close().catch((error) => fail(entry, error));
  }
  return running.map((entry) => entry.outcome);
}

async function runRound(entry: Running, workload: Workload, round: number): Promise<void> {
  const { peer, outcome } = entry;
  if (!peer || outcome.error) return;
  try {
    const bulk = await bulkRun(peer, outcome.jobs, workload.rounds);
    const latencies = await pacedRun(peer, PACED.jobs, PACED.spacingMs, workload.rounds);
    const warmup = round <= WARMUP_ROUNDS;
    if (!warmup) {
      outcome.runs.push(bulk);
      outcome.latenciesMs.push(latencies);
    }
    const rate = Math.round((bulk.jobs * 1000) / bulk.wallMs);
    const tag = warmup ? ' (warm-up)' : '';
    const total = WARMUP_ROUNDS + ROUNDS;
    console.log(
      `  ${workload.name} · round ${round}/${total}${tag} · ${outcome.peer}: ${rate} jobs/s`,
    );
  } catch (error) {
    fail(entry, error);
    await peer.close().catch(() => {});
    entry.peer = undefined;
  }
}

function newOutcome(spec: PeerSpec, workload: Workload): PeerOutcome {
  return {
    peer: spec.name,
    workload: workload.name,
    config: spec.config(workload),
    jobs: spec.name === 'Bree' ? BREE_JOBS[workload.name] : BULK_JOBS[workload.name],
    runs: [],
    latenciesMs: [],
  };
}

function fail(entry: Running, error: unknown): void {
  entry.outcome.error ??= messageOf(error).split('\n')[0] ?? 'failed';
  console.log(
    `  ${entry.outcome.workload} · ${entry.outcome.peer}: FAILED: ${entry.outcome.error}`,
  );
}

interface Report {
  machine: MachineInfo;
  versions: Record<string, string>;
  roundsPerJob: number;
  skipped: Skipped[];
  outcomes: PeerOutcome[];
  totalSeconds: number;
  /** The 1-minute load average when the run started and ended: other work on the machine. */
  load: { start: number; end: number };
}

function rowsFor(report: Report, workload: Workload['name'], skipped: boolean): string[][] {
  const rows = tableRows(report.outcomes.filter((o) => o.workload === workload));
  if (skipped) {
    for (const s of report.skipped) rows.push([s.peer, `skipped: ${s.reason}`, '', '', '', '', '']);
  }
  return rows;
}

function printTables(report: Report): void {
  console.log(`\n${machineLine(report.machine)}`);
  console.log(`\nTrivial jobs (${BULK_JOBS.trivial} per run; Bree ${BREE_JOBS.trivial}):`);
  console.log(textTable(rowsFor(report, 'trivial', false)));
  console.log(`\nCPU-heavy jobs (${BULK_JOBS.cpu} × ~${CPU_JOB_MS} ms; Bree ${BREE_JOBS.cpu}):`);
  console.log(textTable(rowsFor(report, 'cpu', false)));
  for (const s of report.skipped) console.log(`SKIPPED ${s.peer}: ${s.reason}`);
  console.log(`\nbench took ${report.totalSeconds.toFixed(0)} s; results in ${resultsDir}`);
}

function write(report: Report): void {
  mkdirSync(resultsDir, { recursive: true });
  const method = {
    warmupRounds: WARMUP_ROUNDS,
    rounds: ROUNDS,
    bulkJobs: BULK_JOBS,
    breeJobs: BREE_JOBS,
    paced: PACED,
    cpuJobMs: CPU_JOB_MS,
  };
  const jobloomOf = (workload: string) =>
    report.outcomes.find((o) => o.peer === 'jobloom' && o.workload === workload);
  const summaries = report.outcomes
    .filter((o) => !o.error)
    .map((o) => ({
      peer: o.peer,
      workload: o.workload,
      ...summarizeOutcome(o),
      toJobloom: ratiosToJobloom(o, jobloomOf(o.workload)),
    }));
  const json = { ...report, method, summaries };
  writeFileSync(`${resultsDir}peers.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${resultsDir}peers.md`, markdown(report));
}

function markdown(report: Report): string {
  const v = report.versions;
  const configs = configLines(report.outcomes);
  return [
    `Peers (\`npm run bench:peers\`) · ${machineLine(report.machine)} · ${report.totalSeconds.toFixed(0)} s`,
    '',
    `Versions: jobloom ${v.jobloom} · Node ${report.machine.node} · piscina ${v.piscina} · ` +
      `bree ${v.bree} · bullmq ${v.bullmq} (ioredis ${v.ioredis}) · graphile-worker ${v['graphile-worker']} · ` +
      `pg-boss ${v['pg-boss']} · pg ${v.pg} · PostgreSQL ${v.postgresql} · Redis ${v.redis}. ` +
      `Load average (1 min) at start / end: ${report.load.start.toFixed(1)} / ` +
      `${report.load.end.toFixed(1)} on ${report.machine.cores} cores.`,
    '',
    `**Trivial jobs** (return at once): ${count(BULK_JOBS.trivial)} jobs per run, enqueued ` +
      `in bulk (Bree: ${BREE_JOBS.trivial} runs).`,
    '',
    markdownTable(rowsFor(report, 'trivial', true)),
    '',
    `**CPU-heavy jobs**: ${BULK_JOBS.cpu} jobs per run of ${report.roundsPerJob} chained ` +
      `SHA-256 rounds, about ${CPU_JOB_MS} ms each (Bree: ${BREE_JOBS.cpu} runs).`,
    '',
    markdownTable(rowsFor(report, 'cpu', true)),
    '',
    ...METHOD,
    '',
    'Configurations:',
    '',
    ...configs,
    '',
    'Reproduce with `npm run bench:peers` (Redis on 127.0.0.1:6379 and PostgreSQL on ' +
      '127.0.0.1:5432, database `test`; `JOBLOOM_PEERS_PG_URL`, `JOBLOOM_PEERS_REDIS_HOST` and ' +
      '`JOBLOOM_PEERS_REDIS_PORT` point elsewhere).',
    '',
  ].join('\n');
}

const METHOD = [
  `Each figure is the median of ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up round; ` +
    'jobs/s shows the lowest and highest round beside it. Every peer is started for each ' +
    'workload in a queue or schema of its own (removed afterwards), and in each round every ' +
    'peer runs once, taking turns, the order flipping every round. Each × jobloom figure is ' +
    "the median of the round-by-round ratios to jobloom's figure of the same round, so a slow " +
    'spell of this shared virtual machine hits both sides of a ratio: trust the ratios more ' +
    'than the absolute figures. Peers that are idle while another runs still hold their ' +
    'connections (pg-boss polls every 0.5 s); their background work is small beside a round.',
  '',
  '- **jobs/s**: jobs in a bulk run over the time from the first enqueue call to the last ' +
    'job done as the peer reports it to the caller (jobloom and Piscina: the result promise; ' +
    "Bree: the thread's end; BullMQ: the worker's `completed` event, after the completion is " +
    "stored; graphile-worker and pg-boss: the handler's return, since both write completions " +
    'in batches without waiting for them; the wait for those writes is counted in CPU, not in ' +
    'time).',
  `- **enqueue→start**: from handing a job to the peer to its code starting, over ` +
    `${PACED.jobs} jobs a round sent ${PACED.spacingMs} ms apart (light load), all rounds ` +
    "pooled. For Bree it includes starting the job's thread; for pg-boss, its polling interval.",
  '- **CPU s / 1k jobs**: `process.cpuUsage()` of the benchmark process (the main thread and ' +
    'every thread in it: jobloom and Piscina threads, Bree threads, BullMQ sandbox threads, ' +
    'and the in-process handlers of BullMQ, graphile-worker and pg-boss), plus the CPU time of ' +
    "the peer's server processes read from /proc (the Redis server; the PostgreSQL backends " +
    "of the peer's own connections, found by application_name), over the bulk run until the " +
    'peer has stored every completion. No child processes are spawned. The PostgreSQL ' +
    'background processes (WAL writer, checkpointer) are not counted; server CPU reads in ' +
    '10 ms ticks. × jobloom compares the totals.',
];

/** One line per peer, or one per workload where its configuration differs between them. */
function configLines(outcomes: readonly PeerOutcome[]): string[] {
  const peers = [...new Set(outcomes.map((o) => o.peer))];
  return peers.flatMap((peer) => {
    const mine = outcomes.filter((o) => o.peer === peer);
    const texts = [...new Set(mine.map((o) => o.config))];
    if (texts.length === 1) return [`- **${peer}**: ${texts[0]}`];
    return mine.map(
      (o) => `- **${peer}**, ${o.workload === 'cpu' ? 'CPU-heavy' : 'trivial'}: ${o.config}`,
    );
  });
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

async function versionsOf(): Promise<Record<string, string>> {
  const versionOf = (dir: string) =>
    (JSON.parse(readFileSync(`${dir}package.json`, 'utf8')) as { version: string }).version;
  const versions: Record<string, string> = { jobloom: versionOf(root) };
  for (const name of PACKAGES) versions[name] = versionOf(`${root}node_modules/${name}/`);
  const [postgres, redis] = await Promise.all([probePostgres(), probeRedis()]);
  versions.postgresql = postgres.version ?? 'not reachable';
  versions.redis = redis.version ?? 'not reachable';
  return versions;
}

await main();
