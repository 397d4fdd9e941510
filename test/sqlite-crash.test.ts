/**
 * The SQLite store under SIGKILL. A child process runs a batch on a database file and is killed
 * at a random point; a second child process starts a manager on the same file, which recovers
 * it, and runs until idle. Then the file and the executions the executor recorded are checked.
 *
 * "Accepted" means: the child scheduled the instance and then `await manager.flushHistory()`
 * resolved. `schedule()` returns before its instance is in the store (history is written in
 * batches, every 5 ms on a SQLite file); an instance killed in that window may be gone, and
 * may even have begun to run. The child lists an id in accepted.log only after the flush, so
 * every id there must be in the file at the kill, and must end in exactly one final state.
 *
 * Which attempts may run again: what the store knew at the kill (read from the file before
 * the restart) decides. An instance final at the kill never runs again; any other instance
 * runs, after the restart, exactly the attempts after the last one the store had counted,
 * each once. An attempt the store saw running counts as failed (ProcessDiedError) and is
 * retried if it has retries left; an attempt that started or ended in the last few ms before
 * the kill, before the store heard of it, runs again under the same number. That is
 * at-least-once delivery, and these runs measure how much of it a kill causes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFinalState } from '../src/index.js';
import type { InstanceRecord, StateTransition } from '../src/types.js';
import { type Execution, readAccepted, readExecutions } from './fixtures/crash-files.js';
import {
  exitOf,
  firstLine,
  kill,
  readHistory,
  readInstances,
  startChild,
} from './fixtures/crash-harness.js';

const KILLS = 6;

interface CrashRun {
  accepted: string[];
  atKill: Map<string, InstanceRecord>;
  afterwards: Map<string, InstanceRecord>;
  history: Map<string, StateTransition[]>;
  /** Executions by the killed process and by the one that recovered, in order. */
  before: Execution[];
  after: Execution[];
}

const dirs: string[] = [];
const seen = { runs: 0, accepted: 0, runningAtKill: 0, waitingAtKill: 0, ranTwice: 0 };

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a SQLite file killed with SIGKILL at random points, then recovered', () => {
  for (let kill = 1; kill <= KILLS; kill++) {
    it(`kill ${kill}: loses no accepted instance, ends each in one final state and reruns only what the store had not seen end`, async () => {
      const run = await crashAndRecover();
      checkAccepted(run);
      checkFinalStates(run);
      checkExecutions(run);
      checkProcessDied(run);
      count(run);
    });
  }

  it('found attempts running and instances waiting at the kills', () => {
    expect(seen.runs).toBe(KILLS);
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.runningAtKill).toBeGreaterThan(0);
    expect(seen.waitingAtKill).toBeGreaterThan(0);
  });
});

async function crashAndRecover(): Promise<CrashRun> {
  const dir = mkdtempSync(join(tmpdir(), 'jobloom-crash-'));
  dirs.push(dir);
  const file = join(dir, 'jobs.db');

  const batch = startChild('batch', file, dir);
  expect(await firstLine(batch)).toBe('ready');
  await sleep(100 + Math.random() * 1_200);
  expect((await kill(batch)).signal).toBe('SIGKILL');

  const accepted = readAccepted(dir);
  const atKill = await readInstances(file);
  const recovery = startChild('recover', file, dir);
  expect(await firstLine(recovery)).toBe('done');
  expect((await exitOf(recovery)).code).toBe(0);

  const afterwards = await readInstances(file);
  const history = await readHistory(file);
  const executions = readExecutions(dir);
  return {
    accepted,
    atKill,
    afterwards,
    history,
    before: executions.filter((e) => e.pid === batch.pid),
    after: executions.filter((e) => e.pid === recovery.pid),
  };
}

/** Every accepted id was in the file at the kill and is there afterwards. */
function checkAccepted({ accepted, atKill, afterwards }: CrashRun): void {
  expect(accepted.filter((id) => !atKill.has(id))).toEqual([]);
  expect(accepted.filter((id) => !afterwards.has(id))).toEqual([]);
}

/** Every instance in the file is final, with exactly one final transition: its last. */
function checkFinalStates({ afterwards, history }: CrashRun): void {
  for (const record of afterwards.values()) {
    const states = (history.get(record.id) ?? []).map((t) => t.state);
    const where = `instance ${record.id}, history ${states.join(' ')}`;
    expect(isFinalState(record.state), where).toBe(true);
    expect(states.filter(isFinalState), where).toEqual([record.state]);
    expect(states.at(-1), where).toBe(record.state);
  }
}

/**
 * Before the kill, each instance ran its attempts 1, 2, … once each: at most one past what the
 * store had counted (an attempt whose start it had not heard of yet), and for an attempt the
 * store saw running, possibly one short (the thread reports the start before the executor's
 * first line runs, while the worker module loads). After the restart, an instance final at
 * the kill is untouched and ran nothing; any other ran exactly the attempts from the store's
 * count + 1 to its final attempt, each once.
 */
function checkExecutions({ atKill, afterwards, before, after, accepted }: CrashRun): void {
  const ranBefore = attemptsById(before);
  const ranAfter = attemptsById(after);
  for (const id of ranAfter.keys())
    expect(atKill.has(id), `${id} ran after the restart`).toBe(true);

  for (const [id, then] of atKill) {
    const now = afterwards.get(id);
    const where = `instance ${id}: ${then.state} at the kill, attempt ${then.attempt}`;
    const attempts = ranBefore.get(id) ?? [];
    expect(attempts, where).toEqual(range(1, attempts.length));
    const unseen = attempts.length - then.attempt;
    expect(unseen, where).toBeGreaterThanOrEqual(then.state === 'running' ? -1 : 0);
    expect(unseen, where).toBeLessThanOrEqual(1);

    if (isFinalState(then.state)) {
      expect(now, where).toEqual(then);
      expect(attempts.length, where).toBe(then.attempt);
    }
    expect(ranAfter.get(id) ?? [], where).toEqual(range(then.attempt + 1, now?.attempt ?? 0));
  }

  // Instances that ran but never reached the store were never accepted.
  const phantoms = [...ranBefore.keys()].filter((id) => !atKill.has(id));
  expect(phantoms.filter((id) => accepted.includes(id))).toEqual([]);
}

/** An attempt the store saw running at the kill ends as failed with ProcessDiedError. */
function checkProcessDied({ atKill, history }: CrashRun): void {
  for (const [id, then] of atKill) {
    if (then.state !== 'running') continue;
    const died = (history.get(id) ?? []).filter((t) => t.error?.name === 'ProcessDiedError');
    expect(died, `instance ${id}`).toHaveLength(1);
    const [transition] = died;
    const retried = transition?.state === 'scheduled';
    expect(transition?.state).toBe(retried ? 'scheduled' : 'failed');
    expect(transition?.attempt).toBe(retried ? then.attempt + 1 : then.attempt);
    expect(transition?.error?.message).toMatch(/process .* died/);
  }
}

function count({ accepted, atKill, before, after }: CrashRun): void {
  seen.runs++;
  seen.accepted += accepted.length;
  const states = [...atKill.values()].map((r) => r.state);
  seen.runningAtKill += states.filter((s) => s === 'running').length;
  seen.waitingAtKill += states.filter((s) => s === 'queued' || s === 'scheduled').length;
  const key = (e: Execution) => `${e.id} ${e.attempt}`;
  const first = new Set(before.map(key));
  seen.ranTwice += after.filter((e) => first.has(key(e))).length;
}

function attemptsById(executions: readonly Execution[]): Map<string, number[]> {
  const byId = new Map<string, number[]>();
  for (const { id, attempt } of executions) byId.set(id, [...(byId.get(id) ?? []), attempt]);
  for (const attempts of byId.values()) attempts.sort((a, b) => a - b);
  return byId;
}

/** The integers from `first` to `last`, both included; empty when `last` < `first`. */
function range(first: number, last: number): number[] {
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
