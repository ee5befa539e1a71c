import type { ProcessSort, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { writeSnapshots } from './metrics-store.js';
import { attachProcessTick, type ProcessTickRow } from './process-ticks.js';
import { processTier, queryTopProcesses, type ProcessTier } from './process-top.js';
import { createRetention, retentionRules } from './retention.js';

const START = Date.UTC(2026, 10, 21, 9, 58, 0);
const HOUR = 3_600_000;
const IDENTITIES = Array.from({ length: 25 }, (_, k) => ({
  pid: 1000 + k,
  started: 1_764_000_000 + k,
  name: `proc-${k}`,
  user: k % 2 ? 'alice' : 'root',
}));

/** Snapshot `i` (2 s apart) with a tick of 8–14 processes whose usage moves with `i`. */
function tickSnapshot(i: number): { snapshot: Snapshot; rows: ProcessTickRow[] } {
  const snapshot = makeExampleSnapshot({
    seq: i + 1,
    timestamp: new Date(START + i * 2000).toISOString(),
    intervalMs: 2000,
  }) as Snapshot;
  const rows: ProcessTickRow[] = [];
  for (const [k, id] of IDENTITIES.entries()) {
    if ((i * 7 + k * 3) % 25 >= 8 + (i % 7)) continue;
    const io = k === 4 ? null : ((i * 31 + k * 17) % 50) * 1000 + k;
    rows.push([
      id.pid,
      id.started,
      id.name,
      id.user,
      ((i * 13 + k * 29) % 120) + k / 100,
      (k + 1) * 1_000_000 + ((i * 97) % 5000),
      io,
    ]);
  }
  const commands = new Map(
    IDENTITIES.map((id) => [`${id.pid}:${id.started}`, `/usr/bin/${id.name} --serve`]),
  );
  attachProcessTick(snapshot, { rows, commands });
  return { snapshot, rows };
}

/** The answer computed by hand from the ticks in [from, to). */
function bruteForce(
  ticks: { snapshot: Snapshot; rows: ProcessTickRow[] }[],
  from: number,
  to: number,
  by: ProcessSort,
  limit: number,
) {
  const byId = new Map<
    string,
    { pid: number; cpuSeconds: number; peakRssBytes: number; ioBytes: number | null; seen: number }
  >();
  for (const { snapshot, rows } of ticks) {
    const ts = Date.parse(snapshot.timestamp);
    if (ts < from || ts >= to) continue;
    for (const [pid, started, name, , cpu, rss, io] of rows) {
      const key = `${pid}:${started}:${name}`;
      const entry = byId.get(key) ?? {
        pid,
        cpuSeconds: 0,
        peakRssBytes: 0,
        ioBytes: null,
        seen: 0,
      };
      entry.cpuSeconds += (cpu / 100) * 2;
      entry.peakRssBytes = Math.max(entry.peakRssBytes, rss);
      if (io !== null) entry.ioBytes = (entry.ioBytes ?? 0) + io * 2;
      entry.seen += 2;
      byId.set(key, entry);
    }
  }
  const measure = (e: { cpuSeconds: number; peakRssBytes: number; ioBytes: number | null }) =>
    by === 'cpu' ? e.cpuSeconds : by === 'memory' ? e.peakRssBytes : (e.ioBytes ?? -1);
  return [...byId.values()]
    .sort((a, b) => measure(b) - measure(a) || a.pid - b.pid)
    .slice(0, limit);
}

describe('processTier', () => {
  const now = START + 10 * HOUR;
  it.each<[string, number, number, ProcessTier]>([
    ['ten minutes', now - 10 * 60_000, now, 'raw'],
    ['an hour ago', now - HOUR, now, '1m'],
    ['six hours', now - 6 * HOUR, now, '1m'],
    ['a day', now - 24 * HOUR, now, '1h'],
    ['an hour three days ago, past the per-tick rows', now - 72 * HOUR, now - 71 * HOUR, '1m'],
    ['thirty days', now - 720 * HOUR, now, '1h'],
  ])('answers %s from %s', (_label, from, to, tier) => {
    expect(processTier(from, to, now, 48 * HOUR)).toBe(tier);
  });
});

describeEachBackend('process history', (backend) => {
  let test: TestDatabase;
  // 150 ticks 2 s apart: 5 minutes from 09:58:00, across the 10:00 hour.
  const ticks = Array.from({ length: 150 }, (_, i) => tickSnapshot(i));
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  }, 60_000);
  afterAll(() => test.drop());
  beforeEach(async () => {
    await test.db.exec(
      'TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts, process_ticks, process_rollup_1m, process_rollup_1h, process_commands',
    );
    // Uneven batches, and one batch written twice (a retry): nothing counts twice.
    for (const [a, b] of [
      [0, 7],
      [7, 70],
      [70, 71],
      [71, 150],
    ] as const) {
      await writeSnapshots(
        test.db,
        ticks.slice(a, b).map((t) => t.snapshot),
      );
    }
    await writeSnapshots(
      test.db,
      ticks.slice(7, 70).map((t) => t.snapshot),
    );
  });

  it.each<[ProcessTier, ProcessSort]>([
    ['raw', 'cpu'],
    ['raw', 'memory'],
    ['raw', 'io'],
    ['1m', 'cpu'],
    ['1m', 'io'],
    ['1h', 'cpu'],
    ['1h', 'memory'],
  ])(
    'answers the top processes from %s by %s as brute force over the stored rows does',
    async (tier, by) => {
      // Whole buckets of the tier, so every tier sums the same ticks.
      const [from, to] =
        tier === '1h'
          ? [START - 2 * 60_000, START + 2 * HOUR]
          : [START + 60_000, START + 4 * 60_000];
      const expected = bruteForce(
        ticks,
        tier === '1h' ? Date.UTC(2026, 10, 21, 9) : from,
        to,
        by,
        7,
      );
      const answer = await queryTopProcesses(
        test.db,
        { host: 'vm-web-01', from, to, by, limit: 7 },
        tier,
      );
      expect(answer.tier).toBe(tier);
      expect(answer.processes.map((p) => p.pid)).toEqual(expected.map((e) => e.pid));
      for (const [i, p] of answer.processes.entries()) {
        const e = expected[i]!;
        expect(p.cpuSeconds).toBeCloseTo(e.cpuSeconds, 2);
        expect(p.peakRssBytes).toBe(e.peakRssBytes);
        expect(p.ioBytes).toBe(e.ioBytes);
        expect(p.avgCpuPercent).toBeCloseTo((e.cpuSeconds / e.seen) * 100, 1);
        expect(p.command).toBe(`/usr/bin/proc-${p.pid - 1000} --serve`);
      }
    },
  );

  it('prunes per-tick rows after PROCESS_RETENTION_HOURS and keeps the top lists', async () => {
    const count = async (table: string) =>
      (await test.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
    expect(await count('process_ticks')).toBe(150);
    const minuteRows = await count('process_rollup_1m');
    const retention = createRetention({
      db: test.db,
      logger: silentLogger,
      rules: retentionRules(30 * 24 * HOUR, 48 * HOUR),
      // Three days later, the ticks are past 48 h; the rollups are not past their tiers.
      now: () => START + 72 * HOUR,
    });
    const deleted = await retention.runOnce();
    expect(deleted.process_ticks).toBe(150);
    expect(await count('process_ticks')).toBe(0);
    expect(await count('process_rollup_1m')).toBe(minuteRows);
    const answer = await queryTopProcesses(
      test.db,
      { host: 'vm-web-01', from: START, to: START + HOUR, by: 'cpu', limit: 3 },
      '1m',
    );
    expect(answer.processes).toHaveLength(3);
  });
});
