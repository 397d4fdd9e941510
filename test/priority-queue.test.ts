import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { PriorityQueue } from '../src/queue/priority-queue.js';
import { Priority } from '../src/types.js';

interface Item {
  id: string;
}

type Op =
  | { type: 'push'; priority: number }
  | { type: 'pop' }
  | { type: 'remove'; pick: number }
  | { type: 'removeMissing' }
  | { type: 'removeWhere'; priority: number };

/** Mostly few distinct priorities, so that ties (and so FIFO order) are common. */
const priorityArb = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 1, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: priorityArb.map((priority) => ({ type: 'push' as const, priority })) },
  { weight: 3, arbitrary: fc.constant({ type: 'pop' as const }) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ type: 'remove' as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ type: 'removeMissing' as const }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 4 })
      .map((p) => ({ type: 'removeWhere' as const, priority: p })),
  },
);

/** The reference: a list kept in insertion order, popped by a stable sort on priority. */
class ModelQueue {
  entries: { item: Item; priority: number }[] = [];
  /** Every item ever made for a push, in order. */
  made: Item[] = [];

  newItem(): Item {
    const item = { id: `i${this.made.length}` };
    this.made.push(item);
    return item;
  }

  ordered(): Item[] {
    return [...this.entries].sort((a, b) => a.priority - b.priority).map((entry) => entry.item);
  }

  take(item: Item | undefined): void {
    this.entries = this.entries.filter((entry) => entry.item !== item);
  }
}

function newQueue(): PriorityQueue<Item> {
  return new PriorityQueue<Item>({ keyOf: (item) => item.id });
}

function popAll(queue: PriorityQueue<Item>): Item[] {
  const items: Item[] = [];
  for (let item = queue.pop(); item !== undefined; item = queue.pop()) items.push(item);
  return items;
}

/** Applies one operation to both the queue and the model, checking what the queue returns. */
function apply(op: Op, queue: PriorityQueue<Item>, model: ModelQueue): void {
  switch (op.type) {
    case 'push': {
      const item = model.newItem();
      queue.push(item, op.priority);
      model.entries.push({ item, priority: op.priority });
      return;
    }
    case 'pop': {
      const expected = model.ordered()[0];
      expect(queue.pop()).toBe(expected);
      model.take(expected);
      return;
    }
    case 'remove': {
      const target = model.entries[op.pick % Math.max(1, model.entries.length)]?.item;
      if (target === undefined) return;
      expect(queue.remove(target.id)).toBe(target);
      model.take(target);
      return;
    }
    case 'removeMissing':
      expect(queue.remove('never-pushed')).toBeUndefined();
      return;
    case 'removeWhere': {
      const expected = model.entries.filter((entry) => entry.priority === op.priority);
      const byPriority = new ModelQueue();
      byPriority.entries = expected;
      expect(queue.remove((_item, priority) => priority === op.priority)).toEqual(
        byPriority.ordered(),
      );
      for (const entry of expected) model.take(entry.item);
      return;
    }
  }
}

describe('PriorityQueue', () => {
  describe('for any sequence of push, pop and remove', () => {
    it('pops in exactly the order of the reference model and keeps size right', () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 300, size: 'max' }), (ops) => {
          const queue = newQueue();
          const model = new ModelQueue();
          for (const op of ops) {
            apply(op, queue, model);
            expect(queue.size).toBe(model.entries.length);
            expect(queue.peek()).toBe(model.ordered()[0]);
          }
          expect([...queue]).toEqual(model.ordered());
          expect(popAll(queue)).toEqual(model.ordered());
          expect(queue.size).toBe(0);
        }),
        { numRuns: 300 },
      );
    });

    it('never gives out an item after it was removed', () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 200, size: 'max' }), (ops) => {
          const queue = newQueue();
          const model = new ModelQueue();
          for (const op of ops) apply(op, queue, model);

          const live = new Set(model.entries.map((entry) => entry.item.id));
          for (const item of model.made) expect(queue.has(item.id)).toBe(live.has(item.id));

          const out = popAll(queue).map((item) => item.id);
          expect(out.sort()).toEqual([...live].sort());
        }),
      );
    });
  });

  it('runs a lower priority number first: highest, then default, then lowest', () => {
    const queue = newQueue();
    queue.push({ id: 'low' }, Priority.LOWEST);
    queue.push({ id: 'default' }, Priority.DEFAULT);
    queue.push({ id: 'high' }, Priority.HIGHEST);

    expect(queue.drain().map((item) => item.id)).toEqual(['high', 'default', 'low']);
  });

  it('runs equal priorities first-in, first-out', () => {
    const queue = newQueue();
    for (let i = 0; i < 50; i++) queue.push({ id: `i${i}` }, Priority.DEFAULT);

    const ids = Array.from({ length: 50 }, () => queue.pop()?.id);
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => `i${i}`));
  });

  it('removes an item by key, after which it is no longer queued', () => {
    const queue = newQueue();
    const a = { id: 'a' };
    queue.push(a, 1);
    queue.push({ id: 'b' }, 2);

    expect(queue.remove('a')).toBe(a);
    expect(queue.has('a')).toBe(false);
    expect(queue.size).toBe(1);
    expect(queue.pop()?.id).toBe('b');
    expect(queue.pop()).toBeUndefined();
  });

  it('keeps the order when a removal moves the last item into another branch of the heap', () => {
    const queue = newQueue();
    for (const [id, priority] of [
      ['a', 0],
      ['b', 5],
      ['c', 4],
      ['d', 6],
      ['e', 7],
      ['f', 9],
    ]) {
      queue.push({ id: String(id) }, Number(priority));
    }
    queue.push({ id: 'g' }, 4.5);
    queue.remove('d');

    expect(popAll(queue).map((item) => item.id)).toEqual(['a', 'c', 'g', 'b', 'e', 'f']);
  });

  it('iterates in priority order without removing anything, and drains in the same order', () => {
    const queue = newQueue();
    queue.push({ id: 'b' }, 2);
    queue.push({ id: 'a' }, 1);
    queue.push({ id: 'c' }, 2);

    expect([...queue].map((item) => item.id)).toEqual(['a', 'b', 'c']);
    expect(queue.size).toBe(3);
    expect(queue.drain().map((item) => item.id)).toEqual(['a', 'b', 'c']);
    expect(queue.size).toBe(0);
  });

  it('empties on clear and accepts the same keys again', () => {
    const queue = newQueue();
    queue.push({ id: 'a' }, 1);
    queue.clear();

    expect(queue.size).toBe(0);
    expect(queue.has('a')).toBe(false);
    queue.push({ id: 'a' }, 1);
    expect(queue.peek()?.id).toBe('a');
  });

  it('refuses a key that is already queued and a priority that is not a finite number', () => {
    const queue = newQueue();
    queue.push({ id: 'a' }, 1);

    expect(() => queue.push({ id: 'a' }, 2)).toThrow(InvalidOptionError);
    expect(() => queue.push({ id: 'b' }, Number.NaN)).toThrow(/priority: expected a finite/);
    expect(() => queue.push({ id: 'c' }, Number.POSITIVE_INFINITY)).toThrow(InvalidOptionError);
    expect(queue.size).toBe(1);
  });

  it('holds 100,000 items and gives them back by priority, then in insertion order', () => {
    const queue = newQueue();
    const count = 100_000;
    const priorityOf = (i: number) => (i * 7919) % 11;
    for (let i = 0; i < count; i++) queue.push({ id: String(i) }, priorityOf(i));

    const popped = Array.from({ length: count }, () => Number(queue.pop()?.id));
    const expected = Array.from({ length: count }, (_, i) => i).sort(
      (a, b) => priorityOf(a) - priorityOf(b) || a - b,
    );
    expect(popped).toEqual(expected);
    expect(queue.size).toBe(0);
  });
});
