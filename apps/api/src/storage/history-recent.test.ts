import type { HistoryPoint, HistoryResponse } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { withRecent, type RecentSnapshot } from './history-recent.js';

const T0 = Date.UTC(2026, 2, 14, 6, 0, 0);
const BUCKET = 10_000;

/** A recent snapshot `offset` ms after T0 with the given CPU usage and core 1 usage. */
function recent(offset: number, usage: number): RecentSnapshot {
  const snapshot = makeExampleSnapshot({ timestamp: new Date(T0 + offset).toISOString() });
  snapshot.cpu.usagePercent = usage;
  snapshot.cpu.cores[1]!.usagePercent = usage / 2;
  return { timestampMs: T0 + offset, json: JSON.stringify(snapshot) };
}

/** An answer of four 10 s buckets from T0, the database's values given per series. */
function answer(series: Record<string, (number | null)[]>): HistoryResponse {
  return {
    host: 'vm-web-01',
    from: T0,
    to: T0 + 4 * BUCKET,
    bucketMs: BUCKET,
    tier: 'raw',
    series: Object.fromEntries(
      Object.entries(series).map(([path, values]) => [
        path,
        values.map((v, k): HistoryPoint => [T0 + k * BUCKET, v, v, v]),
      ]),
    ),
  };
}

describe('withRecent', () => {
  it('fills the buckets the database has not stored yet from the recent snapshots, per core too', () => {
    // Stored: the first two buckets. Streamed, not stored yet: 20–40 s.
    const db = answer({
      'cpu.usagePercent': [10, 20, null, null],
      'cpu.cores.1.usagePercent': [5, 10, null, null],
    });
    const ring = [recent(21_000, 30), recent(25_000, 90), recent(31_000, 40)];
    const merged = withRecent(db, ring);
    expect(merged.series['cpu.usagePercent']).toEqual([
      [T0, 10, 10, 10],
      [T0 + BUCKET, 20, 20, 20],
      [T0 + 2 * BUCKET, 60, 30, 90], // the spike is the bucket's max, not lost
      [T0 + 3 * BUCKET, 40, 40, 40],
    ]);
    expect(merged.series['cpu.cores.1.usagePercent']![2]).toEqual([T0 + 2 * BUCKET, 30, 15, 45]);
    // The database's answer is left as it was.
    expect(db.series['cpu.usagePercent']![2]).toEqual([T0 + 2 * BUCKET, null, null, null]);
  });

  it('answers a bucket the recent snapshots cover whole from them: the part stored is not all of it', () => {
    // The ring reaches back to 5 s; bucket 1 (10–20 s) is half stored (one of two samples).
    const db = answer({ 'cpu.usagePercent': [50, 20, null, null] });
    const ring = [recent(5000, 50), recent(11_000, 20), recent(17_000, 80)];
    const merged = withRecent(db, ring);
    expect(merged.series['cpu.usagePercent']).toEqual([
      [T0, 50, 50, 50], // starts before the ring: the database's
      [T0 + BUCKET, 50, 20, 80],
      [T0 + 2 * BUCKET, null, null, null],
      [T0 + 3 * BUCKET, null, null, null],
    ]);
  });

  it('keeps the database answer without recent snapshots in range, or for a series they lack', () => {
    const db = answer({
      'cpu.usagePercent': [1, 2, 3, null],
      'perf.ipc': [null, null, null, null],
    });
    expect(withRecent(db, [])).toBe(db);
    expect(withRecent(db, [recent(-60_000, 99)])).toBe(db);
    // The example VM has no PMU: IPC stays null, not 0.
    const merged = withRecent(db, [recent(35_000, 7)]);
    expect(merged.series['perf.ipc']).toEqual(db.series['perf.ipc']);
    expect(merged.series['cpu.usagePercent']![3]).toEqual([T0 + 3 * BUCKET, 7, 7, 7]);
  });
});
