import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { toBusMessage } from './bus.js';
import { createLatestCache } from './latest-cache.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const message = (host: string, seconds: number, seq = seconds) =>
  toBusMessage(makeExampleSnapshot({ host, seq, timestamp: at(seconds) }) as Snapshot);
const seqs = (entries: { json: string }[] | null) =>
  entries?.map((entry) => (JSON.parse(entry.json) as Snapshot).seq) ?? null;

describe('createLatestCache', () => {
  it('answers resume from the ring: exactly the snapshots strictly after the given one', () => {
    const cache = createLatestCache();
    for (let s = 1; s <= 10; s++) cache.record(message('a', s));
    cache.record(message('b', 5));
    expect(seqs(cache.after('a', at(3)))).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(seqs(cache.after('a', at(10)))).toEqual([]);
    // Between two snapshots: the ones after that instant.
    expect(seqs(cache.after('a', new Date(T0 + 3500).toISOString()))).toEqual([
      4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(cache.latest('a')?.snapshot.seq).toBe(10);
    expect(cache.hosts()).toEqual([
      { name: 'a', lastSeen: at(10) },
      { name: 'b', lastSeen: at(5) },
    ]);
  });

  it('returns null when the ring does not reach back to the given time, or for an unknown host', () => {
    const cache = createLatestCache();
    for (let s = 5; s <= 8; s++) cache.record(message('a', s));
    // Before the first snapshot this process saw: there may be older ones it never had.
    expect(cache.after('a', at(4))).toBeNull();
    expect(seqs(cache.after('a', at(5)))).toEqual([6, 7, 8]);
    expect(cache.after('nosuch', at(4))).toBeNull();
    expect(cache.after('a', 'not a time')).toBeNull();
  });

  it('bounds each ring by count and by time window', () => {
    const byCount = createLatestCache({ maxPerHost: 3 });
    for (let s = 1; s <= 10; s++) byCount.record(message('a', s));
    expect(seqs(byCount.entries('a'))).toEqual([8, 9, 10]);
    expect(byCount.after('a', at(6))).toBeNull();
    expect(seqs(byCount.after('a', at(8)))).toEqual([9, 10]);

    const byTime = createLatestCache({ windowMs: 5000 });
    for (let s = 1; s <= 20; s++) byTime.record(message('a', s));
    expect(seqs(byTime.entries('a'))).toEqual([15, 16, 17, 18, 19, 20]);
    expect(byTime.size()).toBe(6);
  });

  it('ignores a duplicate and files a late message in order', () => {
    const cache = createLatestCache();
    cache.record(message('a', 1));
    cache.record(message('a', 3));
    cache.record(message('a', 3));
    cache.record(message('a', 2));
    expect(seqs(cache.entries('a'))).toEqual([1, 2, 3]);
    expect(cache.latest('a')?.snapshot.seq).toBe(3);
  });

  it('never fills in before a trimmed ring (that would open a hole), nor records a bad time', () => {
    const cache = createLatestCache({ maxPerHost: 2 });
    for (let s = 5; s <= 7; s++) cache.record(message('a', s));
    cache.record(message('a', 1));
    expect(seqs(cache.entries('a'))).toEqual([6, 7]);
    const broken = makeExampleSnapshot({ host: 'a', timestamp: 'yesterday' }) as Snapshot;
    cache.record(toBusMessage(broken));
    expect(seqs(cache.entries('a'))).toEqual([6, 7]);
  });

  it('drops the ring of a host that has been silent for a whole window', () => {
    let now = T0;
    const cache = createLatestCache({ windowMs: 60_000, now: () => now });
    cache.record(message('gone', 1));
    now += 30_000;
    cache.record(message('live', 31));
    now += 61_000;
    cache.record(message('live', 92));
    expect(cache.hosts().map((h) => h.name)).toEqual(['live']);
    expect(cache.entries('gone')).toEqual([]);
  });

  it('refuses nonsense options', () => {
    expect(() => createLatestCache({ maxPerHost: 0 })).toThrow(RangeError);
    expect(() => createLatestCache({ windowMs: 0 })).toThrow(RangeError);
  });
});
