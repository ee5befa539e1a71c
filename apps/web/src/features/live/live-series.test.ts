import { SERIES_PATTERNS, resolveSeries } from '@livestat/contracts';
import type { HistoryResponse, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import {
  BACKFILL_SERIES,
  LiveSeries,
  backfillRequests,
  backfillSeriesFor,
  ringCapacity,
} from './live-series';
import { CHARTED_PATTERNS, chartedNames, chartedPaths } from './panels/charted';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const MINUTE = 60_000;

function snapshotAt(ms: number, usage = 12.5, intervalMs = 1000) {
  const snapshot = makeExampleSnapshot({ timestamp: new Date(ms).toISOString(), intervalMs });
  snapshot.cpu.usagePercent = usage;
  return snapshot;
}

function history(
  series: Record<string, [number, number | null][]>,
  bucketMs = 1000,
): HistoryResponse {
  return {
    host: 'vm-web-01',
    from: 0,
    to: 0,
    bucketMs,
    tier: 'raw',
    series: Object.fromEntries(
      Object.entries(series).map(([path, points]) => [
        path,
        points.map(
          ([t, v]) => [t, v, v, v] as [number, number | null, number | null, number | null],
        ),
      ]),
    ),
  };
}

describe('LiveSeries', () => {
  it('holds every numeric series of a snapshot under its path', () => {
    const live = new LiveSeries(MINUTE);
    const stored = live.addSnapshot(snapshotAt(T0));
    expect(stored).toBe(live.size);
    expect(live.get('cpu.usagePercent')?.toPoints()).toEqual([[T0, 12.5]]);
    expect(live.get('cpu.cores.1.usagePercent')?.lastValue).toBe(10);
    expect(live.get('network.interfaces.eth0.rxBytesPerSec')).toBeDefined();
    expect(live.get('disk.filesystems./.usedPercent')?.lastValue).toBe(24.48);
    expect(live.get('agent.collectors.disk.durationMs')?.lastValue).toBe(1.9);
    // Nulls (no PMU here), booleans and strings are not series.
    expect(live.get('perf.cyclesPerSec')).toBeUndefined();
    expect(live.get('perf.hardwareAvailable')).toBeUndefined();
  });

  it('keeps an unavailable collector out without losing the others', () => {
    const live = new LiveSeries(MINUTE);
    const snapshot = snapshotAt(T0);
    Object.assign(snapshot, { disk: { available: false, error: 'no /proc/diskstats' } });
    live.addSnapshot(snapshot);
    expect(live.paths().some((p) => p.startsWith('disk.'))).toBe(false);
    expect(live.get('cpu.usagePercent')).toBeDefined();
  });

  it('keeps only the window: by time, and by count within its capacity', () => {
    const live = new LiveSeries(MINUTE);
    for (let s = 0; s <= 300; s++) live.addSnapshot(snapshotAt(T0 + s * 1000, s));
    const ring = live.get('cpu.usagePercent')!;
    expect(ring.length).toBe(61);
    expect(ring.length).toBeLessThanOrEqual(live.capacity);
    expect([ring.firstTime, ring.lastTime]).toEqual([T0 + 240_000, T0 + 300_000]);
  });

  it('forgets a series that left the snapshot once it is out of the window', () => {
    const live = new LiveSeries(MINUTE);
    live.addSnapshot(snapshotAt(T0));
    for (let s = 1; s <= 61; s++) {
      const snapshot = snapshotAt(T0 + s * 1000);
      delete (snapshot.network.interfaces as Record<string, unknown>).eth0;
      live.addSnapshot(snapshot);
    }
    expect(live.get('network.interfaces.eth0.rxBytesPerSec')).toBeUndefined();
    expect(live.get('network.interfaces.lo.rxBytesPerSec')?.length).toBe(61);
  });

  it('fills a resumed gap in order and skips what it already holds', () => {
    const live = new LiveSeries(MINUTE);
    for (const s of [0, 1, 5, 6]) live.addSnapshot(snapshotAt(T0 + s * 1000, s));
    for (const s of [2, 3, 4, 5, 6]) live.addSnapshot(snapshotAt(T0 + s * 1000, 100 + s));
    expect(live.get('cpu.usagePercent')?.toPoints()).toEqual([
      [T0, 0],
      [T0 + 1000, 1],
      [T0 + 2000, 102],
      [T0 + 3000, 103],
      [T0 + 4000, 104],
      [T0 + 5000, 5],
      [T0 + 6000, 6],
    ]);
    expect(live.addSnapshot(snapshotAt(T0 - 2 * MINUTE))).toBe(0);
  });

  it('backfills history before the live samples and into holes, never over them', () => {
    const live = new LiveSeries(MINUTE);
    live.addSnapshot(snapshotAt(T0 + 10_000, 50));
    live.addSnapshot(snapshotAt(T0 + 14_300, 54));
    const buckets: [number, number | null][] = [];
    for (let s = 0; s <= 15; s++) buckets.push([T0 + s * 1000, s === 3 ? null : 1]);
    const stored = live.addHistory(history({ 'cpu.usagePercent': buckets }));
    // 16 buckets; 3 has no data; 10 and 14 hold live samples.
    expect(stored).toBe(13);
    const points = live.get('cpu.usagePercent')!.toPoints();
    expect(points.map(([t]) => (t - T0) / 1000)).toEqual([
      0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14.3, 15,
    ]);
    expect(points.find(([t]) => t === T0 + 10_000)?.[1]).toBe(50);
  });

  it('grows the rings when the host samples faster than they were sized for', () => {
    const live = new LiveSeries(MINUTE);
    live.addSnapshot(snapshotAt(T0, 1, 1000));
    expect(live.capacity).toBe(ringCapacity(MINUTE, 1000));
    live.addSnapshot(snapshotAt(T0 + 500, 2, 500));
    expect(live.capacity).toBe(ringCapacity(MINUTE, 500));
    expect(live.get('cpu.usagePercent')?.capacity).toBe(ringCapacity(MINUTE, 500));
  });

  it('sizes the rings by the interval of the first snapshot', () => {
    const live = new LiveSeries(15 * MINUTE);
    live.addSnapshot(snapshotAt(T0, 1, 5000));
    expect(live.get('cpu.usagePercent')?.capacity).toBe(182);
  });

  it('counts a revision for every change but a sample appended at the newest time', () => {
    const live = new LiveSeries(5 * MINUTE);
    live.addSnapshot(snapshotAt(T0));
    const first = live.revision;
    live.addSnapshot(snapshotAt(T0 + 1000));
    live.addPoints(T0 + 1000, new Map([['app.web.requests', 3]]));
    expect(live.revision).toBe(first);
    // A late sample fills in behind the newest: charts must redraw for it.
    live.addSnapshot(snapshotAt(T0 + 500));
    expect(live.revision).toBe(first + 1);
    live.addHistory(history({ 'cpu.usagePercent': [[T0 - MINUTE, 5]] }));
    expect(live.revision).toBe(first + 2);
    live.setWindow(MINUTE);
    expect(live.revision).toBe(first + 3);
    live.clear();
    expect(live.revision).toBe(first + 4);
  });

  it('changes the window, cutting to the new one', () => {
    const live = new LiveSeries(5 * MINUTE);
    for (let s = 0; s <= 300; s++) live.addSnapshot(snapshotAt(T0 + s * 1000, s));
    live.setWindow(MINUTE);
    expect(live.get('cpu.usagePercent')?.length).toBe(61);
    live.clear();
    expect(live.size).toBe(0);
  });
});

describe('backfillRequests', () => {
  it('asks for the window in groups of at most 20 series, a bucket per sampling interval', () => {
    const series = Array.from({ length: 45 }, (_, i) => `cpu.cores.${i}.usagePercent`);
    const requests = backfillRequests('db-1', series, new LiveSeries(15 * MINUTE), T0);
    expect(requests.map((r) => r.series.length)).toEqual([20, 20, 5]);
    expect(requests.flatMap((r) => r.series)).toEqual(series);
    for (const request of requests) {
      expect(request).toMatchObject({ host: 'db-1', from: T0 - 15 * MINUTE, to: T0, points: 900 });
    }
    expect(backfillRequests('db-1', [], new LiveSeries(MINUTE), T0)).toEqual([]);
  });
});

/** The example VM with hardware counters and DRAM measured: every panel line has a value. */
function fullSnapshot(ms: number) {
  const snapshot = snapshotAt(ms);
  Object.assign(snapshot.perf, {
    hardwareAvailable: true,
    cyclesPerSec: 2.1e9,
    instructionsPerSec: 2.7e9,
    ipc: 1.29,
    cacheReferencesPerSec: 4e7,
    cacheMissesPerSec: 3e6,
    cacheMissPercent: 7.5,
    branchMissesPerSec: 1e6,
  });
  Object.assign(snapshot.bandwidth, {
    dram: { source: 'resctrl', totalBytesPerSec: 3e9, readBytesPerSec: 2e9, writeBytesPerSec: 1e9 },
  });
  return snapshot as Snapshot;
}

describe('what fills the live window', () => {
  it('covers every line a panel charts: one snapshot, as live or resumed, feeds each of them', () => {
    const snapshot = fullSnapshot(T0);
    const charted = chartedPaths(chartedNames(snapshot));
    // Per core, load 5/15, packets, errors, per interface, per device, migrations, faults…
    expect(charted).toEqual(
      expect.arrayContaining([
        'cpu.cores.0.usagePercent',
        'cpu.cores.1.usagePercent',
        'cpu.load5',
        'cpu.load15',
        'network.rxPacketsPerSec',
        'network.txErrorsPerSec',
        'network.interfaces.eth0.rxBytesPerSec',
        'network.interfaces.eth0.txDropsPerSec',
        'disk.devices.vda.busyPercent',
        'perf.cpuMigrationsPerSec',
        'bandwidth.pageFaultsPerSec',
        'bandwidth.dram.writeBytesPerSec',
      ]),
    );
    const live = new LiveSeries(5 * MINUTE);
    live.addSnapshot(snapshot);
    const missing = charted.filter((path) => live.get(path)?.lastTime !== T0);
    expect(missing).toEqual([]);
  });

  it('names every charted family in the contracts catalogue, so history can answer each', () => {
    const known = new Set(SERIES_PATTERNS.map((p) => p.pattern));
    expect(CHARTED_PATTERNS.filter((pattern) => !known.has(pattern))).toEqual([]);
    expect(CHARTED_PATTERNS).toContain('network.interfaces.*.rxPacketsPerSec');
    expect(CHARTED_PATTERNS).toContain('cpu.cores.*.usagePercent');
  });

  it('backfills from history exactly what the panels chart', () => {
    const snapshot = fullSnapshot(T0);
    const series = backfillSeriesFor(snapshot);
    expect(series).toEqual(chartedPaths(chartedNames(snapshot)));
    expect(new Set(series).size).toBe(series.length);
    for (const path of series) expect(resolveSeries(path), path).not.toBeNull();
    // Before a snapshot names the cores, interfaces and devices: the fixed-name ones.
    expect(BACKFILL_SERIES).toEqual(
      series.filter((path) => !/\.(cores|interfaces|devices)\./.test(path)),
    );
    expect(backfillSeriesFor(undefined)).toEqual([...BACKFILL_SERIES]);
  });
});
