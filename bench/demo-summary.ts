import type { InstanceRecord, JobManager, StateTransition } from '../src/index.js';
import { quantile } from './stats.js';

/** One instance's timeline, read back from its state history. */
interface Timeline {
  record: InstanceRecord;
  queuedAt: number;
  runningAt: number;
  endedAt: number;
}

/**
 * The demo's summary, computed only from what the store holds: records for counts, and state
 * history transitions for timings (queue wait is queued → running; run time is running → end).
 */
export async function printSummary(manager: JobManager, wallMs: number): Promise<void> {
  await manager.flushHistory();
  const records = await manager.queryInstances({});
  const timelines = timelinesOf(records, await manager.lookupInstanceHistory({}));

  console.log('\nSummary, read back from history');
  console.log(`  wall time: ${(wallMs / 1000).toFixed(1)} s for ${records.length} instances`);
  console.log(`  by state:  ${countsText(records.map((r) => r.state))}`);
  for (const kind of unique(records.map((r) => r.kind))) {
    const ofKind = records.filter((r) => r.kind === kind);
    console.log(`  ${kind.padEnd(9)}  ${countsText(ofKind.map((r) => r.state))}`);
  }
  printTimings(timelines);
  printStartOrder(timelines);
}

function timelinesOf(records: InstanceRecord[], history: StateTransition[]): Timeline[] {
  const byInstance = new Map<string, StateTransition[]>();
  for (const t of history) {
    const list = byInstance.get(t.instanceId) ?? [];
    list.push(t);
    byInstance.set(t.instanceId, list);
  }
  const timelines: Timeline[] = [];
  for (const record of records) {
    const list = byInstance.get(record.id) ?? [];
    const at = (state: string) => list.findLast((t) => t.state === state)?.at;
    const queuedAt = at('queued');
    const runningAt = at('running');
    const endedAt = list.at(-1)?.at;
    if (queuedAt === undefined || runningAt === undefined || endedAt === undefined) continue;
    timelines.push({ record, queuedAt, runningAt, endedAt });
  }
  return timelines;
}

function printTimings(timelines: Timeline[]): void {
  console.log('\n  kind       count   run p50   run p95   wait p50   wait p95');
  for (const kind of unique(timelines.map((t) => t.record.kind))) {
    const ofKind = timelines.filter((t) => t.record.kind === kind);
    const run = ofKind.map((t) => t.endedAt - t.runningAt);
    const wait = ofKind.map((t) => t.runningAt - t.queuedAt);
    const cells = [run, run, wait, wait].map((values, i) =>
      seconds(quantile(values, i % 2 === 0 ? 0.5 : 0.95)).padStart(i < 2 ? 8 : 9),
    );
    console.log(`  ${kind.padEnd(9)} ${String(ofKind.length).padStart(6)}  ${cells.join('  ')}`);
  }
}

/** Which priorities started first: each priority's place in the order of starts. */
function printStartOrder(timelines: Timeline[]): void {
  const started = [...timelines].sort((a, b) => a.runningAt - b.runningAt);
  const rank = new Map(started.map((t, i) => [t.record.id, i + 1]));
  const priorities = unique(started.map((t) => t.record.priority)).sort((a, b) => a - b);

  console.log('\n  priority   count   nth start: first, median, last   wait p50');
  for (const priority of priorities) {
    const ofPriority = started.filter((t) => t.record.priority === priority);
    const ranks = ofPriority.map((t) => rank.get(t.record.id) ?? 0);
    const waits = ofPriority.map((t) => t.runningAt - t.queuedAt);
    const order = `#${ranks[0]}, #${Math.round(quantile(ranks, 0.5))}, #${ranks.at(-1)}`;
    const cells = [String(priority).padStart(8), String(ofPriority.length).padStart(6)];
    console.log(`  ${cells.join('  ')}   ${order.padEnd(30)} ${seconds(quantile(waits, 0.5))}`);
  }

  const first = started.slice(0, 24).map((t) => t.record.priority);
  console.log(`\n  priorities of the first ${first.length} starts: ${first.join(' ')}`);
  console.log('  (a lower number runs first; instances started before the whole batch was queued');
  console.log('  took the free places in the order they were scheduled)');
}

function countsText(values: string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([value, count]) => `${value} ${count}`).join(', ');
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
