import type { InstanceRecord, LogLine, StateTransition } from '../types.js';

/**
 * One instance with its state history and log history, kept together so that per-instance
 * lookups and eviction touch only that instance. Log lines are a ring once the cap is reached:
 * `logHead` is the slot of the oldest line, which the next line overwrites.
 */
export class InstanceEntry {
  readonly record: InstanceRecord;
  readonly transitions: StateTransition[];
  /** Allocated on the first line: most instances never log. */
  logs: LogLine[] | null = null;
  logHead = 0;

  constructor(record: InstanceRecord, transitions: StateTransition[]) {
    this.record = record;
    this.transitions = transitions;
  }

  /** Keeps the line, dropping the oldest when `cap` lines are kept; returns whether it dropped. */
  addLog(line: LogLine, cap: number): boolean {
    if (cap === 0) return true;
    this.logs ??= [];
    if (this.logs.length < cap) {
      this.logs.push(line);
      return false;
    }
    this.logs[this.logHead] = line;
    this.logHead = (this.logHead + 1) % cap;
    return true;
  }

  /** The kept lines, oldest first (the ring's own array when it has not wrapped). */
  logLines(): readonly LogLine[] {
    const logs = this.logs ?? [];
    if (this.logHead === 0) return logs;
    return logs.slice(this.logHead).concat(logs.slice(0, this.logHead));
  }

  /** Removes the lines `matches` accepts; returns how many. */
  removeLogs(matches: (line: LogLine) => boolean): number {
    const kept = this.logLines().filter((line) => !matches(line));
    const removed = (this.logs?.length ?? 0) - kept.length;
    if (removed > 0) {
      this.logs = kept.length > 0 ? kept : null;
      this.logHead = 0;
    }
    return removed;
  }
}

export function transitionsOf(entry: InstanceEntry): readonly StateTransition[] {
  return entry.transitions;
}

export function logsOf(entry: InstanceEntry): readonly LogLine[] {
  return entry.logLines();
}
