import { describe, expect, it } from 'vitest';
import { LatestWriter } from '../src/schedule/latest-writer.js';

/** A write that finishes only when the test says so. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('LatestWriter', () => {
  it('runs one write per key at a time and collapses the waiting ones into the latest', async () => {
    const writer = new LatestWriter();
    const first = gate();
    const ran: string[] = [];
    const p1 = writer.write('s1', async () => {
      ran.push('v1');
      await first.opened;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['v1']); // running, not waiting any more
    const waiting = ['v2', 'v3', 'v4'].map((v) =>
      writer.write('s1', async () => {
        ran.push(v);
      }),
    );
    expect(new Set(waiting).size).toBe(1); // all join the one waiting write

    first.open();
    await Promise.all([p1, ...waiting]);
    expect(ran).toEqual(['v1', 'v4']);
  });

  it('replaces a write that has not started yet', async () => {
    const writer = new LatestWriter();
    const ran: string[] = [];
    const p1 = writer.write('s1', async () => {
      ran.push('v1');
    });
    const p2 = writer.write('s1', async () => {
      ran.push('v2');
    });
    await Promise.all([p1, p2]);
    expect(ran).toEqual(['v2']);
  });

  it('keeps keys apart, and reports a failed write to its callers only', async () => {
    const writer = new LatestWriter();
    const failed = writer.write('a', async () => {
      throw new Error('disk full');
    });
    const other = writer.write('b', async () => {});
    await expect(failed).rejects.toThrow('disk full');
    await expect(other).resolves.toBeUndefined();
    await expect(writer.write('a', async () => {})).resolves.toBeUndefined();
    await writer.idle();
  });
});
