/**
 * Writes to a store per key, in order, keeping only the latest pending write. A schedule
 * that fires every second while the store is slow would otherwise pile up one write per fire;
 * here each key has at most one write running and one waiting, and the waiting one is replaced
 * by every newer request. A write task reads the state it saves when it starts, so the write
 * that runs always saves the latest state.
 */

type Task = () => Promise<unknown>;

interface Slot {
  /** The last write started or waiting; the next one waits for it. */
  tail: Promise<void>;
  /** The waiting write, which every newer request joins. */
  waiting: Promise<void> | null;
  task: Task | null;
}

export class LatestWriter {
  readonly #slots = new Map<string, Slot>();

  /** Resolves once a write that started after this call has finished; rejects if it failed. */
  write(key: string, task: Task): Promise<void> {
    const slot = this.#slots.get(key) ?? { tail: Promise.resolve(), waiting: null, task: null };
    this.#slots.set(key, slot);
    slot.task = task;
    if (slot.waiting) return slot.waiting;

    const settled = () => undefined;
    const waiting = slot.tail.then(settled, settled).then(() => this.#start(slot));
    slot.waiting = waiting;
    slot.tail = waiting;
    const forget = () => {
      if (slot.tail === waiting) this.#slots.delete(key);
    };
    waiting.then(forget, forget);
    return waiting;
  }

  /** Resolves when every write requested so far has finished, failed or not. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#slots.values()].map((slot) => slot.tail));
  }

  async #start(slot: Slot): Promise<void> {
    const task = slot.task;
    slot.waiting = null;
    slot.task = null;
    await task?.();
  }
}
