import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { encodeValue } from '../src/store/sqlite-json.js';
import { INSTANCE_WIDTH, type SqlValue } from '../src/store/sqlite-rows.js';
import {
  CREATE,
  encodeBatch,
  LOG,
  transferOf,
  type WireBatch,
  WireReader,
} from '../src/store/sqlite-wire.js';
import type { StoreWrite } from '../src/store/store.js';
import type { LogLine } from '../src/types.js';
import { RecordFactory, T0 } from './store-contract.js';

const make = new RecordFactory();
const record = make.instance('a', { maxRetries: Number.POSITIVE_INFINITY });

const MESSAGES = ['', 'é', 'ümlaut and 😀', 'a lone \ud800 surrogate', 'x'.repeat(10_000)];

function lines(): LogLine[] {
  return MESSAGES.map((message, n) => make.line(record, message, T0 + n));
}

/** What a log change carries, in order (see the layout in sqlite-wire.ts). */
function logValues(line: LogLine): SqlValue[] {
  const { instanceId, attempt, level, message, at, seq } = line;
  return [LOG, instanceId, attempt, level, message, encodeValue(line.data), at, seq];
}

function readAll(wire: WireBatch): SqlValue[] {
  const reader = new WireReader(wire);
  const values: SqlValue[] = [];
  while (!reader.done) values.push(reader.next());
  return values;
}

describe('SQLite write batches', () => {
  it('read back every value as written, texts of any characters among them', () => {
    const logs = lines();
    const wire = encodeBatch(logs.map((line): StoreWrite => ({ op: 'log', line })));

    expect(readAll(wire)).toEqual(logs.flatMap(logValues));
  });

  it('keep numbers SQL cannot spell in JSON, such as unlimited retries', () => {
    const wire = encodeBatch([{ op: 'create', instance: record, transitions: [] }]);
    const reader = new WireReader(wire);

    expect(reader.next()).toBe(CREATE);
    const columns = reader.take(INSTANCE_WIDTH);
    expect(columns).toContain(Number.POSITIVE_INFINITY);
    expect(columns[0]).toBe('a');
    expect(reader.nextNumber()).toBe(0);
    expect(reader.done).toBe(true);
  });

  it('skip texts without losing their place in the batch', () => {
    const [first, second] = lines().slice(2);
    const batch: StoreWrite[] = [
      { op: 'log', line: first as LogLine },
      { op: 'log', line: second as LogLine },
    ];
    const reader = new WireReader(encodeBatch(batch));

    reader.skip(8);
    expect([reader.next(), reader.next()]).toEqual([LOG, 'a']);
    reader.skip(2);
    expect(reader.next()).toBe(second?.message);
  });

  it('move to another thread without being copied, and read the same there', () => {
    const logs = lines();
    const wire = encodeBatch(logs.map((line): StoreWrite => ({ op: 'log', line })));
    const { port1, port2 } = new MessageChannel();

    port1.postMessage(wire, transferOf(wire));
    const received = receiveMessageOnPort(port2)?.message as WireBatch;
    port1.close();

    expect(wire.kinds.byteLength).toBe(0);
    expect(readAll(received)).toEqual(logs.flatMap(logValues));
  });

  it('refuse, when encoded, a value that is not a number, a string or null', () => {
    const line = { ...make.line(record, 'm', T0), message: { not: 'text' } } as unknown as LogLine;

    expect(() => encodeBatch([{ op: 'log', line }])).toThrow(
      'a value of type object cannot be written, only a number, a string or null',
    );
  });

  it('refuse a batch that ends mid-change or mid-text, or holds an unknown kind', () => {
    const wire = encodeBatch([{ op: 'log', line: make.line(record, 'hello', T0) }]);

    expect(() => new WireReader({ ...wire, count: wire.kinds.length + 1 })).toThrow(RangeError);
    expect(() => new WireReader(wire).take(wire.count + 1)).toThrow('ended mid-change');
    expect(() => readAll({ ...wire, text: 'a' })).toThrow('ended mid-text');
    const kinds = wire.kinds.slice();
    kinds[0] = 7;
    expect(() => readAll({ ...wire, kinds })).toThrow('holds a value of kind 7');
  });
});
