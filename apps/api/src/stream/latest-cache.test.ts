import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { toBusMessage } from './bus.js';
import { createLatestCache, type LatestCacheOptions } from './latest-cache.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const message = (host: string, seconds: number, seq = seconds) =>
  toBusMessage(makeExampleSnapshot({ host, seq, timestamp: at(seconds) }) as Snapshot);
const seqs = (entries: { json: string }[] | null) =>
  entries?.map((entry) => (JSON.parse(entry.json) as Snapshot).seq) ?? null;

// Each behaviour with the default blocks (these rings stay text) and with blocks of two, so
// the same answers come out of compressed blocks, and across their edges.
describe.each([{ blockSize: undefined }, { blockSize: 2 }])(
  'createLatestCache %o',
  ({ blockSize }) => {
    const create = (options: LatestCacheOptions = {}) =>
      createLatestCache({ blockSize, ...options });

    it('answers resume from the ring: exactly the snapshots strictly after the given one', () => {
      const cache = create();
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
      const cache = create();
      for (let s = 5; s <= 8; s++) cache.record(message('a', s));
      // Before the first snapshot this process saw: there may be older ones it never had.
      expect(cache.after('a', at(4))).toBeNull();
      expect(seqs(cache.after('a', at(5)))).toEqual([6, 7, 8]);
      expect(cache.after('nosuch', at(4))).toBeNull();
      expect(cache.after('a', 'not a time')).toBeNull();
    });

    it('bounds each ring by count and by time window', () => {
      const byCount = create({ maxPerHost: 3 });
      for (let s = 1; s <= 10; s++) byCount.record(message('a', s));
      expect(seqs(byCount.entries('a'))).toEqual([8, 9, 10]);
      expect(byCount.after('a', at(6))).toBeNull();
      expect(seqs(byCount.after('a', at(8)))).toEqual([9, 10]);

      const byTime = create({ windowMs: 5000 });
      for (let s = 1; s <= 20; s++) byTime.record(message('a', s));
      expect(seqs(byTime.entries('a'))).toEqual([15, 16, 17, 18, 19, 20]);
      expect(byTime.size()).toBe(6);
    });

    it('ignores a duplicate and files a late message in order', () => {
      const cache = create();
      cache.record(message('a', 1));
      cache.record(message('a', 3));
      cache.record(message('a', 3));
      cache.record(message('a', 2));
      expect(seqs(cache.entries('a'))).toEqual([1, 2, 3]);
      expect(cache.latest('a')?.snapshot.seq).toBe(3);
    });

    it('never fills in before a trimmed ring (that would open a hole), nor records a bad time', () => {
      const cache = create({ maxPerHost: 2 });
      for (let s = 5; s <= 7; s++) cache.record(message('a', s));
      cache.record(message('a', 1));
      expect(seqs(cache.entries('a'))).toEqual([6, 7]);
      const broken = makeExampleSnapshot({ host: 'a', timestamp: 'yesterday' }) as Snapshot;
      cache.record(toBusMessage(broken));
      expect(seqs(cache.entries('a'))).toEqual([6, 7]);
    });

    it('drops the ring of a host that has been silent for a whole window', () => {
      let now = T0;
      const cache = create({ windowMs: 60_000, now: () => now });
      cache.record(message('gone', 1));
      now += 30_000;
      cache.record(message('live', 31));
      now += 61_000;
      cache.record(message('live', 92));
      expect(cache.hosts().map((h) => h.name)).toEqual(['live']);
      expect(cache.entries('gone')).toEqual([]);
    });

    it('files a late message inside a compressed block, and refuses one older than a trimmed ring', () => {
      const cache = create({ maxPerHost: 12 });
      for (let s = 2; s <= 20; s += 2) cache.record(message('a', s));
      cache.record(message('a', 5));
      cache.record(message('a', 5));
      cache.record(message('a', 3));
      expect(seqs(cache.entries('a'))).toEqual([2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20]);
      expect(cache.size()).toBe(12);
      cache.record(message('a', 22));
      expect(seqs(cache.entries('a'))).toEqual([3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
      cache.record(message('a', 1));
      expect(cache.after('a', at(2))).toBeNull();
      expect(seqs(cache.after('a', at(4)))).toEqual([5, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
      expect(seqs(cache.entries('a', T0 + 9000))).toEqual([10, 12, 14, 16, 18, 20, 22]);
      expect(cache.timeAfter('a', T0 + 5000)).toBe(T0 + 6000);
      expect(cache.timeAfter('a', T0 + 22_000)).toBeUndefined();
      expect(cache.timeAfter('nosuch', 0)).toBeUndefined();
    });

    it('gives back the very text it was given, whatever it holds', () => {
      const cache = create();
      const texts: string[] = [];
      for (let s = 1; s <= 100; s++) {
        const snapshot = makeExampleSnapshot({
          host: 'ü-host',
          seq: s,
          timestamp: at(s),
        }) as Snapshot;
        const json = JSON.stringify({ ...snapshot, note: `é\\t${'→'.repeat(s % 7)}` });
        texts.push(json);
        cache.record({ snapshot, json });
      }
      expect(cache.entries('ü-host').map((e) => e.json)).toEqual(texts);
      expect(cache.after('ü-host', at(50))?.map((e) => e.json)).toEqual(texts.slice(50));
    });
  },
);

describe('createLatestCache options', () => {
  it('refuses nonsense options', () => {
    expect(() => createLatestCache({ maxPerHost: 0 })).toThrow(RangeError);
    expect(() => createLatestCache({ windowMs: 0 })).toThrow(RangeError);
    expect(() => createLatestCache({ blockSize: 0 })).toThrow(/blockSize/);
  });
});
