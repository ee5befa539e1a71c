import {
  flattenSeries,
  historyResponse,
  SERIES_SECTIONS,
  type HistoryPoint,
  type HistoryResponse,
  type Snapshot,
} from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { createHistoryService, HistoryRequestError, queryHistory } from './history.js';
import { writeSnapshots } from './metrics-store.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const RAW_RETENTION = 7 * DAY;

// Not aligned to any bucket, so edges fall between samples.
const T0 = Date.UTC(2026, 2, 14, 6, 0, 0, 123);
const HOST = 'history-host';
const SPIKY = 'spiky-host';
const round = (value: number) => Math.round(value * 1000) / 1000;

const SERIES = [
  'cpu.usagePercent',
  'cpu.cores.0.usagePercent',
  'cpu.cores.12.usagePercent',
  'memory.usedBytes',
  'network.rxBytesPerSec',
  'network.interfaces.eth0.100.rxBytesPerSec',
  'disk.filesystems./.usedPercent',
  'disk.filesystems./var/lib.usedPercent',
  'perf.ipc',
  'agent.collectors.disk.durationMs',
];

/** Snapshot `i` of the main host: every series moves, some come and go. */
function variedSnapshot(i: number): Snapshot {
  // Every ~7 s with a wandering offset, so samples do not sit on bucket edges.
  const ts = T0 + i * 7 * SECOND + ((i * 37) % 1000);
  const s: Snapshot = makeExampleSnapshot({
    host: HOST,
    seq: i + 1,
    timestamp: new Date(ts).toISOString(),
  });
  if (s.cpu.available) {
    s.cpu.usagePercent = round(50 + 45 * Math.sin(i / 17));
    const core = (id: number, usagePercent: number) => ({
      id,
      usagePercent,
      userPercent: usagePercent / 2,
      systemPercent: usagePercent / 4,
      iowaitPercent: 0,
    });
    s.cpu.cores = [core(0, ((i * 13) % 100) + 0.25), core(1, 100 - ((i * 7) % 100))];
    // A core that is only sometimes reported (hot-plugged).
    if (i % 3 === 0) s.cpu.cores.push(core(12, (i % 40) + 0.5));
  }
  if (s.memory.available) s.memory.usedBytes = 1e9 + i * 12345;
  if (i % 50 === 0) s.network = { available: false, error: 'read /proc/net/dev failed' };
  else if (s.network.available) {
    const eth0 = s.network.interfaces.eth0!;
    s.network.rxBytesPerSec = round(2000 + 900 * Math.cos(i / 5));
    s.network.interfaces = {
      'eth0.100': { ...eth0, virtual: true, rxBytesPerSec: 1000 + i * 1.5 + (i % 7) * 0.1 },
      eth0,
    };
  }
  if (s.disk.available) {
    const root = s.disk.filesystems[0]!;
    s.disk.filesystems = [{ ...root, usedPercent: 20 + (i % 50) / 2 }];
    // Unmounted now and then.
    if (i % 5 !== 0) {
      s.disk.filesystems.push({
        ...root,
        mountPoint: '/var/lib',
        usedPercent: 60 + ((i * 3) % 40) / 4,
      });
    }
  }
  if (s.perf.available) s.perf.ipc = i % 4 === 0 ? null : 0.5 + (i % 10) / 10;
  const disk = s.agent.collectors.disk;
  if (disk) disk.durationMs = (i % 9) * 0.3;
  return s;
}

/** 600 one-second snapshots at 5 % CPU with one second at 97 %. */
const SPIKE_AT = T0 + 5 * HOUR + 300 * SECOND;
function spikySnapshot(i: number): Snapshot {
  const ts = T0 + 5 * HOUR + i * SECOND;
  const s: Snapshot = makeExampleSnapshot({
    host: SPIKY,
    seq: i + 1,
    timestamp: new Date(ts).toISOString(),
  });
  if (s.cpu.available) s.cpu.usagePercent = ts === SPIKE_AT ? 97 : 5;
  return s;
}

interface Sample {
  ts: number;
  values: Map<string, number>;
}

function samplesOf(snapshots: readonly Snapshot[]): Sample[] {
  return snapshots.map((snapshot) => {
    const values = new Map<string, number>();
    for (const section of SERIES_SECTIONS) {
      for (const [path, value] of flattenSeries(section, snapshot[section]))
        values.set(path, value);
    }
    return { ts: Date.parse(snapshot.timestamp), values };
  });
}

const RESOLUTION = { raw: 1, '1m': MINUTE, '1h': HOUR } as const;

/**
 * The answer computed the slow, obvious way: each sample is filed under its tier bucket
 * (itself for raw rows); those starting in [origin, to) go to bucket ⌊(ts − origin) / width⌋.
 */
function bruteForce(
  samples: readonly Sample[],
  path: string,
  answer: HistoryResponse,
): HistoryPoint[] {
  const { from: origin, to, bucketMs, tier } = answer;
  const resolution = RESOLUTION[tier];
  const buckets = Math.ceil((to - origin) / bucketMs);
  const acc = Array.from({ length: buckets }, () => ({
    n: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
  }));
  for (const { ts, values } of samples) {
    const value = values.get(path);
    if (value === undefined) continue;
    const filed = ts - (ts % resolution);
    if (filed < origin || filed >= to) continue;
    const bucket = acc[Math.floor((ts - origin) / bucketMs)]!;
    bucket.n += 1;
    bucket.sum += value;
    bucket.min = Math.min(bucket.min, value);
    bucket.max = Math.max(bucket.max, value);
  }
  return acc.map((b, k) => [
    origin + k * bucketMs,
    b.n === 0 ? null : b.sum / b.n,
    b.n === 0 ? null : b.min,
    b.n === 0 ? null : b.max,
  ]);
}

function expectMatches(
  actual: HistoryPoint[] | undefined,
  expected: HistoryPoint[],
  label: string,
) {
  expect(actual, label).toBeDefined();
  expect(actual!.length, label).toBe(expected.length);
  expected.forEach((want, k) => {
    const got = actual![k]!;
    expect(got[0], `${label} bucket ${k}`).toBe(want[0]);
    for (let j = 1; j <= 3; j++) {
      const w = want[j] as number | null;
      const g = got[j] as number | null;
      if (w === null) expect(g, `${label} bucket ${k}[${j}]`).toBeNull();
      else
        expect(Math.abs(g! - w), `${label} bucket ${k}[${j}]: ${g} vs ${w}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(w)),
        );
    }
  });
  // Not vacuous: the comparison saw values.
  return expected.filter((point) => point[1] !== null).length;
}

describeEachBackend('history', (backend) => {
  let test: TestDatabase;
  let samples: Sample[];
  let spiky: Sample[];

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    // About 3 h, with a 7-minute hole (the sampler was down) between 700 and 760.
    const snapshots = Array.from({ length: 1600 }, (_, i) => i)
      .filter((i) => i < 700 || i >= 760)
      .map(variedSnapshot);
    const spikes = Array.from({ length: 600 }, (_, i) => spikySnapshot(i));
    for (const all of [snapshots, spikes]) {
      for (let k = 0; k < all.length; k += 250)
        await writeSnapshots(test.db, all.slice(k, k + 250));
    }
    samples = samplesOf(snapshots);
    spiky = samplesOf(spikes);
  }, 120_000);
  afterAll(() => test.drop());

  async function check(
    range: { from: number; to: number; points: number; now?: number; rawRetentionMs?: number },
    tier: HistoryResponse['tier'],
  ): Promise<HistoryResponse> {
    const answer = await queryHistory(
      test.db,
      { host: HOST, series: SERIES, ...range },
      { now: range.now ?? range.to, rawRetentionMs: range.rawRetentionMs ?? RAW_RETENTION },
    );
    historyResponse.parse(answer);
    expect(answer.tier).toBe(tier);
    expect(answer.to).toBe(range.to);
    expect(answer.from).toBeLessThanOrEqual(range.from);
    expect(Object.keys(answer.series).sort()).toEqual([...SERIES].sort());
    let seen = 0;
    for (const path of SERIES) {
      const length = answer.series[path]!.length;
      expect(length).toBeLessThanOrEqual(range.points);
      const filled = expectMatches(
        answer.series[path],
        bruteForce(samples, path, answer),
        `${tier} ${path}`,
      );
      expect(filled, path).toBeGreaterThan(0);
      seen += filled;
    }
    expect(seen).toBeGreaterThan(SERIES.length);
    return answer;
  }

  it('answers raw buckets equal to a brute-force bucketing of the same values', async () => {
    const answer = await check(
      { from: T0 + 10 * MINUTE + 333, to: T0 + 2 * HOUR + 17, points: 500 },
      'raw',
    );
    expect(answer.bucketMs).toBe(15 * SECOND);
    // The sampler's 7-minute hole shows as null buckets, not as a line across it.
    const cpu = answer.series['cpu.usagePercent']!;
    expect(cpu.filter((point) => point[1] === null).length).toBeGreaterThanOrEqual(25);
  });

  it('answers raw buckets past both ends of the data as nulls', async () => {
    const answer = await check({ from: T0 - HOUR, to: T0 + 4 * HOUR, points: 5000 }, 'raw');
    expect(answer.bucketMs).toBe(5 * SECOND);
    expect(answer.series['cpu.usagePercent']![0]).toEqual([answer.from, null, null, null]);
  });

  it('answers from the 1-minute rollups when the width is whole minutes', async () => {
    const answer = await check(
      { from: T0 - 123, to: T0 + 3 * HOUR + 12 * MINUTE, points: 100 },
      '1m',
    );
    expect(answer.bucketMs).toBe(2 * MINUTE);
  });

  it('answers from the 1-minute rollups once raw rows are past retention', async () => {
    const range = { from: T0 + 10 * MINUTE + 333, to: T0 + 2 * HOUR + 17, points: 5000 };
    const answer = await check({ ...range, now: range.to + 30 * DAY }, '1m');
    expect(answer.bucketMs).toBe(MINUTE);
    expect(answer.series['cpu.usagePercent']!.length).toBeLessThan(5000);
  });

  it('answers from the 1-hour rollups for wide buckets and old ranges', async () => {
    const wide = await check({ from: T0 - DAY, to: T0 + DAY, points: 20 }, '1h');
    expect(wide.bucketMs).toBe(3 * HOUR);
    const old = { from: T0 - 20 * MINUTE, to: T0 + 3 * HOUR + 40 * MINUTE, points: 5000 };
    const answer = await check({ ...old, now: old.to + 100 * DAY }, '1h');
    expect(answer.bucketMs).toBe(HOUR);
  });

  it('shows a one-second spike as the max of its bucket in a 30-day view', async () => {
    const to = T0 + 5 * HOUR + 10 * MINUTE;
    const answer = await queryHistory(
      test.db,
      { host: SPIKY, series: ['cpu.usagePercent'], from: to - 30 * DAY, to, points: 500 },
      { now: to, rawRetentionMs: RAW_RETENTION },
    );
    expect(answer.tier).toBe('1h');
    expect(answer.bucketMs).toBe(2 * HOUR);
    const points = answer.series['cpu.usagePercent']!;
    expectMatches(points, bruteForce(spiky, 'cpu.usagePercent', answer), '30 d spike');
    const bucket = points.find(
      ([start]) => start <= SPIKE_AT && SPIKE_AT < start + answer.bucketMs,
    )!;
    expect(bucket[3]).toBe(97);
    expect(bucket[2]).toBe(5);
    expect(bucket[1]).toBeCloseTo((599 * 5 + 97) / 600, 9);
    expect(points.filter((point) => point[1] !== null)).toHaveLength(1);
  });

  it('reads a rollup tier by the canonical name of an element (core 00 is core 0)', async () => {
    const range = { from: T0, to: T0 + 3 * HOUR, points: 50 };
    const options = { now: range.to, rawRetentionMs: RAW_RETENTION };
    const series = [
      'cpu.cores.00.usagePercent',
      'cpu.cores.0.usagePercent',
      'cpu.cores.0.usagePercent',
    ];
    const answer = await queryHistory(test.db, { host: HOST, series, ...range }, options);
    expect(answer.tier).toBe('1m');
    expect(Object.keys(answer.series)).toEqual([
      'cpu.cores.00.usagePercent',
      'cpu.cores.0.usagePercent',
    ]);
    expect(answer.series['cpu.cores.00.usagePercent']).toEqual(
      answer.series['cpu.cores.0.usagePercent'],
    );
    expect(answer.series['cpu.cores.0.usagePercent']!.some((point) => point[1] !== null)).toBe(
      true,
    );
  });

  it('answers all-null buckets for a host or series without data', async () => {
    // Whole minutes, so exactly 60 one-minute buckets.
    const range = { from: T0 - 123, to: T0 - 123 + HOUR, points: 60 };
    const options = { now: range.to, rawRetentionMs: RAW_RETENTION };
    const series = [
      'cpu.usagePercent',
      'network.interfaces.wlan9.rxBytesPerSec',
      'disk.filesystems./nope.usedPercent',
    ];
    for (const host of ['no-such-host', HOST]) {
      const answer = await queryHistory(test.db, { host, series, ...range }, options);
      expect(answer.bucketMs).toBe(MINUTE);
      for (const path of series) {
        const points = answer.series[path]!;
        expect(points).toHaveLength(60);
        const empty = host !== HOST || path !== 'cpu.usagePercent';
        expect(points.every((point) => point.slice(1).every((v) => v === null))).toBe(empty);
      }
    }
  });

  it('refuses an unknown series, listing the known patterns', async () => {
    const request = {
      host: HOST,
      series: ['cpu.usagePercent', 'cpu.nosuch'],
      from: T0,
      to: T0 + HOUR,
      points: 10,
    };
    const options = { now: T0 + HOUR, rawRetentionMs: RAW_RETENTION };
    const failure = queryHistory(test.db, request, options);
    await expect(failure).rejects.toThrow(HistoryRequestError);
    await expect(failure).rejects.toThrow(
      /^series: unknown series 'cpu\.nosuch'; known: cpu\.usagePercent, .*network\.interfaces\.<name>\.rxBytesPerSec.*disk\.filesystems\.<name>\.usedPercent/,
    );
  });

  it('answers the only host by default, asks for host when there are several, and refuses hosts it has never seen', async () => {
    const service = createHistoryService({
      db: test.db,
      localHost: 'local-box',
      rawRetentionMs: RAW_RETENTION,
      now: () => T0 + HOUR,
    });
    const request = {
      series: ['cpu.usagePercent'],
      from: T0 - 123,
      to: T0 - 123 + HOUR,
      points: 60,
    };
    // Two hosts stored: every replica asks the same, whichever host it samples itself.
    await expect(service.query(request)).rejects.toThrow(
      `host: required when several hosts have data; known: ${[HOST, SPIKY].sort().join(', ')}`,
    );
    const local = await service.query({ ...request, host: 'local-box' });
    expect(local.host).toBe('local-box');
    expect(local.series['cpu.usagePercent']!.every((point) => point[1] === null)).toBe(true);
    const stored = await service.query({ ...request, host: HOST });
    expect(
      stored.series['cpu.usagePercent']!.filter((point) => point[1] !== null).length,
    ).toBeGreaterThan(50);
    await expect(service.query({ ...request, host: 'nope' })).rejects.toThrow(
      `host: unknown host 'nope'; known: ${[HOST, 'local-box', SPIKY].sort().join(', ')}`,
    );

    const lone = await createTestDatabase(backend);
    try {
      const only = (streaming: string[]) =>
        createHistoryService({
          db: lone.db,
          localHost: 'replica-2',
          rawRetentionMs: RAW_RETENTION,
          now: () => T0 + HOUR,
          streamingHosts: () => streaming,
        });
      await expect(only([]).query(request)).rejects.toThrow(
        'host: no host has sent data yet; name one with host=',
      );
      // Streaming before its first rows are stored: still the only host.
      expect((await only([HOST]).query(request)).host).toBe(HOST);
      await writeSnapshots(lone.db, [variedSnapshot(0), variedSnapshot(1)]);
      expect((await only([]).query(request)).host).toBe(HOST);
      expect((await only([HOST]).query(request)).host).toBe(HOST);
      await expect(only(['agent-7']).query(request)).rejects.toThrow(
        `host: required when several hosts have data; known: agent-7, ${HOST}`,
      );
    } finally {
      await lone.drop();
    }
  });
});
