import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { migrate, MIGRATIONS_DIR } from './migrate.js';
import {
  attachProcessTick,
  capRollupRows,
  mergeProcessRollups,
  mergeRollupRow,
  PROCESS_ROLLUP_TOP,
  tickToRollupRow,
  type ProcessRollupRow,
  type ProcessTickRow,
} from './process-ticks.js';
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
    ['three days', now - 72 * HOUR, now, '1h'],
    ['an hour three days ago, past the per-tick rows', now - 72 * HOUR, now - 71 * HOUR, '1m'],
    ['four days', now - 96 * HOUR, now, '1d'],
    ['thirty days', now - 720 * HOUR, now, '1d'],
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
      'TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts, process_ticks, process_rollup_1m, process_rollup_1h, process_rollup_1d, process_commands',
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
    ['1d', 'cpu'],
    ['1d', 'io'],
  ])(
    'answers the top processes from %s by %s as brute force over the stored rows does',
    async (tier, by) => {
      // Whole buckets of the tier, so every tier sums the same ticks. 25 processes are at most
      // PROCESS_ROLLUP_TOP, so no hour or day drops one and brute force over the ticks holds.
      // '1d' by CPU: the ticks lie in a whole day of the range; by I/O: in its last hours.
      const [from, to] =
        tier === '1h'
          ? [START - 2 * 60_000, START + 2 * HOUR]
          : tier === '1d'
            ? by === 'cpu'
              ? [START - 4 * 24 * HOUR, START + 2 * 24 * HOUR]
              : [START - 4 * 24 * HOUR, START + HOUR]
            : [START + 60_000, START + 4 * 60_000];
      const expected = bruteForce(
        ticks,
        tier === '1h' || tier === '1d' ? Date.UTC(2026, 10, 21, 9) : from,
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

  it('keeps the top PROCESS_ROLLUP_TOP of each order in the per-hour and per-day lists', async () => {
    // 60 ticks in one hour of 80 processes each, written in one batch: the lists keep exactly
    // the union of the top 25 by CPU-seconds, peak RSS and I/O of the whole hour.
    const at = Date.UTC(2026, 10, 10, 12, 0, 0);
    const all = new Map<string, ProcessRollupRow>();
    const snapshots = Array.from({ length: 60 }, (_, i) => {
      const snapshot = {
        ...makeExampleSnapshot({
          seq: 1000 + i,
          timestamp: new Date(at + i * 2000).toISOString(),
          intervalMs: 2000,
        }),
        host: 'cap-host',
      } as Snapshot;
      const rows = Array.from({ length: 80 }, (_, k): ProcessTickRow => [
        5000 + k,
        1_764_000_000,
        `job-${k}`,
        'root',
        (i * 7 + k * 13) % 100,
        ((k * 37) % 80) * 1_000_000 + 1,
        k % 3 === 0 ? null : ((i * 11 + k * 5) % 40) * 1000,
      ]);
      for (const row of rows) {
        const add = tickToRollupRow(row, at + i * 2000, 2000);
        const current = all.get(String(row[0]));
        if (current) mergeRollupRow(current, add);
        else all.set(String(row[0]), add);
      }
      attachProcessTick(snapshot, { rows, commands: new Map() });
      return snapshot;
    });
    await writeSnapshots(test.db, snapshots);
    const expected = capRollupRows([...all.values()], PROCESS_ROLLUP_TOP)
      .map((row) => row[0])
      .sort((a, b) => a - b);
    expect(expected.length).toBeGreaterThan(PROCESS_ROLLUP_TOP);
    expect(expected.length).toBeLessThan(80);
    for (const table of ['process_rollup_1h', 'process_rollup_1d']) {
      const [stored] = await test.db.query<{ processes: ProcessRollupRow[] }>(
        `SELECT processes FROM ${table} WHERE host = 'cap-host'`,
      );
      expect(stored!.processes.map((row) => row[0]).sort((a, b) => a - b)).toEqual(expected);
    }
    // Every order's top 10 over the hour survives the cut, from either list.
    for (const by of ['cpu', 'memory', 'io'] as const) {
      const m = by === 'cpu' ? 4 : by === 'memory' ? 5 : 6;
      const truth = [...all.values()]
        .sort((a, b) => (b[m] ?? -1) - (a[m] ?? -1) || a[0] - b[0])
        .slice(0, 10)
        .map((row) => row[0]);
      for (const [tier, to] of [
        ['1h', at + HOUR],
        ['1d', at + 5 * 24 * HOUR],
      ] as const) {
        const answer = await queryTopProcesses(
          test.db,
          { host: 'cap-host', from: at - 24 * HOUR, to, by, limit: 10 },
          tier,
        );
        expect(answer.processes.map((p) => p.pid)).toEqual(truth);
      }
    }
  });

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

describeEachBackend('migration 0008', (backend) => {
  it('fills the per-day lists from the hours stored before it, cut as the writer cuts them', async () => {
    const test = await createTestDatabase(backend, { migrate: false });
    const dir = await mkdtemp(join(tmpdir(), 'livestat-migrations-'));
    try {
      for (const file of await readdir(MIGRATIONS_DIR)) {
        if (/^000[1-7]_.*\.sql$/.test(file))
          await copyFile(join(MIGRATIONS_DIR, file), join(dir, file));
      }
      await migrate(test.db, silentLogger, dir);
      // Two hours of one day, uncapped as the writer left them then: 40 processes each, the
      // second hour's I/O all null (a lost capability), and one hour of the next day.
      const day = Date.UTC(2026, 10, 1);
      const hours = [day + 3 * HOUR, day + 4 * HOUR, day + 24 * HOUR];
      const merged = new Map<number, Map<string, ProcessRollupRow>>();
      for (const [h, hourMs] of hours.entries()) {
        const rows = new Map<string, ProcessRollupRow>();
        for (let k = 0; k < 40; k++) {
          const row: ProcessRollupRow = [
            7000 + k,
            1_760_000_000,
            `p${k}`,
            'root',
            ((k * 17 + h * 5) % 41) + 0.5,
            ((k * 23 + h) % 40) * 1000 + 1,
            h === 1 ? null : ((k * 29 + h) % 43) * 512,
            hourMs + k,
            hourMs + 3_000_000 + k,
            60_000 + k,
          ];
          rows.set(String(k), row);
          const dayMs = hourMs - (hourMs % (24 * HOUR));
          const byDay = merged.get(dayMs) ?? new Map<string, ProcessRollupRow>();
          merged.set(dayMs, byDay);
          const current = byDay.get(String(k));
          if (current) mergeRollupRow(current, row);
          else byDay.set(String(k), [...row] as ProcessRollupRow);
        }
        await mergeProcessRollups(
          test.db,
          'process_rollup_1h',
          'old-host',
          new Map([[hourMs, rows]]),
        );
      }
      await migrate(test.db, silentLogger);
      const stored = await test.db.query<{ bucket_ms: number; processes: ProcessRollupRow[] }>(
        `SELECT (extract(epoch FROM bucket) * 1000)::float8 AS bucket_ms, processes
         FROM process_rollup_1d WHERE host = 'old-host' ORDER BY bucket`,
      );
      expect(stored.map((row) => row.bucket_ms)).toEqual([...merged.keys()]);
      const byPid = (a: ProcessRollupRow, b: ProcessRollupRow) => a[0] - b[0];
      for (const { bucket_ms: ms, processes } of stored) {
        const expected = capRollupRows([...merged.get(ms)!.values()], PROCESS_ROLLUP_TOP);
        expect(expected.length).toBeLessThan(40);
        const got = [...processes].sort(byPid);
        expect(got.map((row) => row[0])).toEqual([...expected].sort(byPid).map((row) => row[0]));
        for (const [i, row] of [...expected].sort(byPid).entries()) {
          expect(got[i]!.slice(2, 4)).toEqual(row.slice(2, 4));
          expect(got[i]![4]).toBeCloseTo(row[4], 6);
          expect(got[i]!.slice(5)).toEqual(row.slice(5));
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      await test.drop();
    }
  }, 60_000);
});
