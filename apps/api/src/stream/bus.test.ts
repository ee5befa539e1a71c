import { Writable } from 'node:stream';
import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createLocalBus, type BusMessage } from './bus.js';

const snapshot = (host: string, seq: number, timestamp: string) =>
  makeExampleSnapshot({ host, seq, timestamp }) as Snapshot;

describe('createLocalBus', () => {
  it('delivers each snapshot synchronously, serialized once, to every subscriber', () => {
    const bus = createLocalBus();
    const first: BusMessage[] = [];
    const second: BusMessage[] = [];
    bus.subscribe((m) => first.push(m));
    const unsubscribe = bus.subscribe((m) => second.push(m));
    const s1 = snapshot('a', 1, '2030-01-01T00:00:01.000Z');
    bus.publish(s1);
    expect(first).toHaveLength(1);
    expect(first[0]?.json).toBe(JSON.stringify(s1));
    // The same message object for every subscriber: one serialization per publish.
    expect(second[0]).toBe(first[0]);
    unsubscribe();
    bus.publish(snapshot('a', 2, '2030-01-01T00:00:02.000Z'));
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(1);
  });

  it('keeps delivering past a subscriber that throws, and logs it', () => {
    const lines: string[] = [];
    const logger = createLogger(
      { level: 'error' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const bus = createLocalBus({ logger });
    const got: number[] = [];
    bus.subscribe(() => {
      throw new Error('broken consumer');
    });
    bus.subscribe((m) => got.push(m.snapshot.seq));
    bus.publish(snapshot('a', 1, '2030-01-01T00:00:01.000Z'));
    expect(got).toEqual([1]);
    expect(lines.join('')).toContain('broken consumer');
  });

  it('answers latest() with the newest snapshot per host, never a late older one', async () => {
    const bus = createLocalBus();
    expect(await bus.latest()).toEqual([]);
    bus.publish(snapshot('a', 2, '2030-01-01T00:00:02.000Z'));
    bus.publish(snapshot('a', 1, '2030-01-01T00:00:01.000Z'));
    bus.publish(snapshot('b', 7, '2030-01-01T00:00:03.000Z'));
    const latest = await bus.latest();
    expect(latest.map((m) => [m.snapshot.host, m.snapshot.seq]).sort()).toEqual([
      ['a', 2],
      ['b', 7],
    ]);
    expect(bus.status()).toBe('not_configured');
  });

  it('delivers nothing after close()', async () => {
    const bus = createLocalBus();
    const got: BusMessage[] = [];
    bus.subscribe((m) => got.push(m));
    await bus.close();
    bus.publish(snapshot('a', 1, '2030-01-01T00:00:01.000Z'));
    expect(got).toEqual([]);
  });
});
