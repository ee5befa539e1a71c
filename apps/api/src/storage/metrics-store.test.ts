import { flattenSeries, type SeriesSection, type Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { toBusMessage } from '../stream/bus.js';
import { QueryCancelledError, type Database, type Queryable } from './db.js';
import {
  asStored,
  mergeAggregates,
  prepareSnapshots,
  readSnapshots,
  storedSection,
  writePrepared,
  writeSnapshots,
} from './metrics-store.js';
import {
  attachProcessTick,
  createProcessListCache,
  type ProcessListCache,
} from './process-ticks.js';
import { aggregateSections, STORED_SECTIONS, TIERS } from './rollup.js';

const START = Date.UTC(2026, 10, 21, 9, 58, 30);

/** A snapshot whose numbers move with `i`, so avg, min and max all differ per bucket. */
function varied(i: number, host = 'vm-web-01'): Snapshot {
  const s: Snapshot = makeExampleSnapshot({
    host,
    seq: i + 1,
    timestamp: new Date(START + i * 1000).toISOString(),
  });
  const wave = Math.sin(i / 7) * 40 + 50;
  if (s.cpu.available) {
    s.cpu.usagePercent = Math.round(wave * 1000) / 1000;
    s.cpu.cores[1]!.usagePercent = (i * 37) % 100;
  }
  if (s.network.available)
    s.network.interfaces['eth0.100'] = { ...s.network.interfaces.eth0!, rxBytesPerSec: i * 1.5 };
  if (s.memory.available) s.memory.usedPercent = (i % 13) + 0.25;
  // A collector that failed this tick: stored, but no numbers for the rollups.
  if (i % 50 === 0) s.disk = { available: false, error: 'statfs timed out' };
  return s;
}

/**
 * `db` with the SQL of its transactions' statements recorded; with `failOnce`, the first
 * statement containing that text after `after` statements is not run and fails instead.
 */
function recorded(db: Database, fault?: { failOnce: string; after: number }) {
  const statements: string[] = [];
  let failed = false;
  const wrap = (tx: Queryable): Queryable => ({
    query: async (sql, params, options) => {
      statements.push(sql);
      if (fault && !failed && statements.length > fault.after && sql.includes(fault.failOnce)) {
        failed = true;
        throw new Error('injected failure');
      }
      return tx.query(sql, params, options);
    },
    exec: (sql, options) => tx.exec(sql, options),
    copyFrom: (table, columns, text) => tx.copyFrom(table, columns, text),
  });
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === 'transaction') {
        return <T>(fn: (tx: Queryable) => Promise<T>) => target.transaction((tx) => fn(wrap(tx)));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { db: wrapped, statements };
}

describeEachBackend('writeSnapshots', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test.drop());
  beforeEach(() =>
    test.db.exec(
      'TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts, process_ticks, process_rollup_1m, process_rollup_1h, process_commands',
    ),
  );

  it('stores one row per section per snapshot, each section as its JSON', async () => {
    const snapshot = varied(3);
    const result = await writeSnapshots(test.db, [snapshot]);
    expect(result).toMatchObject({ rows: 10, inserted: 10 });
    const rows = await test.db.query<{ metric_type: string; ts: Date; metric_data: unknown }>(
      'SELECT metric_type, ts, metric_data FROM metrics_snapshots ORDER BY metric_type',
    );
    expect(rows.map((r) => r.metric_type)).toEqual([
      'agent',
      'bandwidth',
      'cgroups',
      'cpu',
      'disk',
      'memory',
      'network',
      'perf',
      'pressure',
      'processes',
    ]);
    for (const row of rows) {
      expect(row.ts.toISOString()).toBe(snapshot.timestamp);
      expect(row.metric_data).toEqual(storedSection(snapshot, row.metric_type as SeriesSection));
    }
  });

  it('rollups equal a brute-force computation over the stored raw rows, batch sizes notwithstanding', async () => {
    // 66 minutes crossing two hour boundaries, written in uneven batches and with a retried batch.
    const snapshots = Array.from({ length: 4000 }, (_, i) => varied(i));
    for (let i = 0; i < snapshots.length;) {
      const size = 1 + ((i * 7919) % 1300);
      await writeSnapshots(test.db, snapshots.slice(i, i + size));
      i += size;
    }
    const retried = await writeSnapshots(test.db, snapshots.slice(2000, 2100));
    expect(retried).toEqual({ rows: 1000, inserted: 0, rollupRows: 0 });

    const raw = await test.db.query<{
      metric_type: SeriesSection;
      ts_ms: number;
      metric_data: unknown;
    }>(
      'SELECT metric_type, (extract(epoch FROM ts) * 1000)::float8 AS ts_ms, metric_data FROM metrics_snapshots',
    );
    expect(raw).toHaveLength(4000 * 10);
    for (const tier of TIERS) {
      const expected = new Map<
        string,
        { samples: number; sum: number; min: number; max: number }
      >();
      for (const row of raw) {
        const bucket = row.ts_ms - (row.ts_ms % tier.bucketMs);
        for (const [series, value] of flattenSeries(row.metric_type, row.metric_data)) {
          const key = `${series}|${bucket}`;
          const e = expected.get(key) ?? { samples: 0, sum: 0, min: Infinity, max: -Infinity };
          e.samples += 1;
          e.sum += value;
          e.min = Math.min(e.min, value);
          e.max = Math.max(e.max, value);
          expected.set(key, e);
        }
      }
      const stored = await test.db.query<{
        series: string;
        bucket_ms: number;
        samples: number;
        sum: number;
        min: number;
        max: number;
      }>(
        `SELECT series, (extract(epoch FROM bucket) * 1000)::float8 AS bucket_ms, samples, sum, min, max FROM ${tier.table}`,
      );
      expect(stored.length, tier.name).toBe(expected.size);
      for (const row of stored) {
        const e = expected.get(`${row.series}|${row.bucket_ms}`);
        expect(e, `${tier.name} ${row.series} ${row.bucket_ms}`).toBeDefined();
        expect(row.samples).toBe(e!.samples);
        expect(row.min).toBe(e!.min);
        expect(row.max).toBe(e!.max);
        expect(Math.abs(row.sum - e!.sum)).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(e!.sum)),
        );
      }
    }
    const minute = await test.db.query<{ samples: number }>(
      `SELECT samples FROM metrics_rollup_1m WHERE series = 'disk.writeBytesPerSec' AND bucket = $1`,
      [new Date(START + 90_000 - ((START + 90_000) % 60_000)).toISOString()],
    );
    // One failed disk reading in that minute (i = 50) leaves 59 samples.
    expect(minute[0]?.samples).toBe(59);
  });

  it('counts a host in the hosts table with its first and last snapshot', async () => {
    await writeSnapshots(test.db, [varied(10, 'b'), varied(0, 'a'), varied(5, 'a')]);
    await writeSnapshots(test.db, [varied(20, 'a')]);
    const hosts = await test.db.query<{ host: string; first_seen: Date; last_seen: Date }>(
      'SELECT host, first_seen, last_seen FROM hosts ORDER BY host',
    );
    expect(
      hosts.map((h) => [h.host, h.first_seen.getTime() - START, h.last_seen.getTime() - START]),
    ).toEqual([
      ['a', 0, 20_000],
      ['b', 10_000, 10_000],
    ]);
  });

  it('reads back exactly the snapshots after a timestamp, as they were streamed', async () => {
    const snapshots = Array.from({ length: 6 }, (_, i) => varied(i * 50));
    await writeSnapshots(test.db, [...snapshots, varied(1, 'other-host')]);
    const after = await readSnapshots(test.db, 'vm-web-01', snapshots[1]!.timestamp, 100);
    expect(after).toEqual(snapshots.slice(2).map(asStored));
    expect(await readSnapshots(test.db, 'vm-web-01', snapshots[1]!.timestamp, 2)).toEqual(
      snapshots.slice(2, 4).map(asStored),
    );
    expect(await readSnapshots(test.db, 'vm-web-01', snapshots[5]!.timestamp, 10)).toEqual([]);
    // Page by page, each after the last one read: the same snapshots, never more than a page.
    const pages: Snapshot[][] = [];
    let cursor = new Date(0).toISOString();
    for (;;) {
      const page = await readSnapshots(test.db, 'vm-web-01', cursor, 4);
      if (page.length === 0) break;
      pages.push(page);
      cursor = page[page.length - 1]!.timestamp;
    }
    expect(pages.map((page) => page.length)).toEqual([4, 2]);
    expect(pages.flat()).toEqual(snapshots.map(asStored));
    // A read for a socket that has gone is not run.
    const gone = AbortSignal.abort();
    await expect(
      readSnapshots(test.db, 'vm-web-01', cursor, 4, { signal: gone }),
    ).rejects.toBeInstanceOf(QueryCancelledError);
  });

  it('stores text with backslashes, tabs and quotes exactly, and a key offered twice once', async () => {
    const odd: Snapshot = varied(7, 'host\\with\ttab "quoted"');
    if (odd.disk.available) odd.disk.filesystems[0]!.mountPoint = '/mnt/back\\slash\nline';
    const result = await writeSnapshots(test.db, [odd, odd]);
    expect(result.inserted).toBe(10);
    expect(await readSnapshots(test.db, odd.host, new Date(0).toISOString(), 10)).toEqual([
      asStored(odd),
    ]);
  });

  it('stores each section as the bus published it, without serializing it again', async () => {
    const snapshot = varied(9);
    const published = JSON.parse(toBusMessage(snapshot).json) as Snapshot;
    // Changed after publishing: what is stored is what was streamed (and proves the reuse).
    if (snapshot.memory.available) snapshot.memory.usedPercent = 99.5;
    await writeSnapshots(test.db, [snapshot]);
    const [streamed] = await readSnapshots(test.db, snapshot.host, new Date(0).toISOString(), 1);
    expect(streamed?.memory).toEqual(published.memory);
    expect(streamed?.memory).not.toEqual(snapshot.memory);
    expect(streamed?.cpu).toEqual(published.cpu);
    // The top lists are stored apart, so `processes` is serialized on its own, without them.
    expect(streamed?.processes).toEqual(storedSection(snapshot, 'processes'));
  });

  it('stores a batch prepared ahead as writeSnapshots would, and a prepared retry not twice', async () => {
    const snapshots = Array.from({ length: 130 }, (_, i) => varied(i));
    const prepared = await prepareSnapshots(snapshots.slice(0, 100));
    // Part of it is already stored, as after a lost COMMIT acknowledgement.
    await writeSnapshots(test.db, snapshots.slice(60, 130));
    expect(await writePrepared(test.db, prepared)).toMatchObject({ rows: 1000, inserted: 600 });
    expect(await writePrepared(test.db, prepared)).toMatchObject({ inserted: 0, rollupRows: 0 });
    // Sums compared to the last bits: batches split differently add in another order.
    const rollups = async () =>
      (
        await test.db.query<{ series: string; bucket: Date; sum: number }>(
          'SELECT series, bucket, samples, sum, min, max FROM metrics_rollup_1m ORDER BY series, bucket',
        )
      ).map((row) => ({ ...row, sum: Number(row.sum.toPrecision(12)) }));
    const viaPrepared = await rollups();
    await test.db.exec(
      'TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts, process_ticks, process_rollup_1m, process_rollup_1h, process_commands',
    );
    await writeSnapshots(test.db, snapshots);
    expect(viaPrepared).toEqual(await rollups());
    expect(await readSnapshots(test.db, 'vm-web-01', new Date(0).toISOString(), 200)).toEqual(
      snapshots.map(asStored),
    );
  });

  it('stores and reads back a snapshot of an agent older than the pressure and cgroups sections', async () => {
    const old: Snapshot = varied(3, 'old-agent');
    delete old.pressure;
    delete old.cgroups;
    expect(await writeSnapshots(test.db, [old, varied(4, 'old-agent')])).toMatchObject({
      rows: 8 + 10,
      inserted: 8 + 10,
    });
    const back = await readSnapshots(test.db, 'old-agent', new Date(0).toISOString(), 10);
    expect(back).toEqual([old, varied(4, 'old-agent')].map(asStored));
    expect(back[0]).not.toHaveProperty('cgroups');
  });

  it('merges the rollups in one statement exactly as one merge per tier did', async () => {
    // Names an array literal must quote and escape, and batches that meet inside a bucket.
    const odd = (i: number) => {
      const s = varied(i, 'vm "quoted", {braced} \\ host');
      if (s.network.available) {
        s.network.interfaces['tap "q" \\ {a,b}'] = {
          ...s.network.interfaces.eth0!,
          rxBytesPerSec: i,
        };
      }
      return s;
    };
    const snapshots = Array.from({ length: 300 }, (_, i) => odd(i));
    const batches = [snapshots.slice(0, 95), snapshots.slice(95, 110), snapshots.slice(110)];
    const tables = async () =>
      Promise.all(
        ['metrics_rollup_1m', 'metrics_rollup_1h', 'hosts'].map((table) =>
          test.db.query(`SELECT * FROM ${table} ORDER BY 1, 2, 3`),
        ),
      );
    for (const batch of batches) await writeSnapshots(test.db, batch);
    const merged = await tables();
    expect(merged[0]!.some((row) => String(row.series).includes('tap "q" \\ {a,b}'))).toBe(true);
    expect(merged[2]).toEqual([
      expect.objectContaining({
        host: 'vm "quoted", {braced} \\ host',
        first_seen: new Date(snapshots[0]!.timestamp),
        last_seen: new Date(snapshots.at(-1)!.timestamp),
      }),
    ]);

    await test.db.exec('TRUNCATE metrics_rollup_1m, metrics_rollup_1h, hosts');
    // The way before: each tier's aggregates merged on their own, the hosts upserted apart.
    for (const batch of batches) {
      const sections = batch.flatMap((snapshot) =>
        STORED_SECTIONS.map((section) => ({ snapshot, section })),
      );
      await test.db.transaction(async (tx) => {
        for (const [tier, aggregates] of aggregateSections(sections)) {
          await mergeAggregates(tx, tier, aggregates);
        }
        await tx.query(
          `INSERT INTO hosts (host, first_seen, last_seen)
           SELECT host, min(ts), max(ts) FROM unnest($1::text[], $2::timestamptz[]) AS u(host, ts)
           GROUP BY host
           ON CONFLICT (host) DO UPDATE SET
             first_seen = least(hosts.first_seen, excluded.first_seen),
             last_seen = greatest(hosts.last_seen, excluded.last_seen)`,
          [batch.map((s) => s.host), batch.map((s) => s.timestamp)],
        );
      });
    }
    expect(await tables()).toEqual(merged);
  });

  it('writes a new batch without looking its keys up, and one partly stored without failing', async () => {
    const snapshots = Array.from({ length: 20 }, (_, i) => varied(i));
    const rec = recorded(test.db);
    expect(await writeSnapshots(rec.db, snapshots.slice(0, 10))).toMatchObject({ inserted: 100 });
    expect(rec.statements.filter((sql) => sql.includes('FROM metrics_snapshots'))).toEqual([]);
    // Half of it stored already: the COPY meets a stored key, and the write goes again at once,
    // looking the keys up, in one call.
    expect(await writeSnapshots(rec.db, snapshots.slice(5, 20))).toMatchObject({
      rows: 150,
      inserted: 100,
    });
    expect(rec.statements.filter((sql) => sql.includes('FROM metrics_snapshots'))).toHaveLength(1);
    expect(await readSnapshots(test.db, 'vm-web-01', new Date(0).toISOString(), 50)).toEqual(
      snapshots.map(asStored),
    );
  });

  it('stores the same process lists merging into the lists it wrote last as reading them back', async () => {
    // 40 processes a tick whose CPU and memory move, over two hours, so the per-hour and
    // per-day lists are capped, across minute, hour boundaries; a write failing midway.
    const ticked = Array.from({ length: 1460 / 12 }, (_, b) =>
      Array.from({ length: 12 }, (_, j) => {
        const i = b * 12 + j;
        const s = { ...varied(i), timestamp: new Date(START + i * 5000).toISOString() };
        attachProcessTick(s, {
          rows: Array.from({ length: 40 }, (_, p) => [
            100 + ((p + b) % 45),
            1_000 + p,
            `proc-${p}`,
            'root',
            ((i * 7 + p * 13) % 97) / 10,
            (p * 31 + i) * 4096,
            p % 3 === 0 ? null : (i + p) % 11,
          ]),
          commands: new Map([[`${100 + (b % 45)}:1000`, `/usr/bin/proc-0 --batch ${b}`]]),
        });
        return s;
      }),
    ).filter((_, b) => b % 7 !== 3); // gaps: a bucket the last write did not touch
    await test.db.exec('TRUNCATE process_rollup_1d');
    const lists = async () => ({
      m: await test.db.query(
        'SELECT host, bucket, processes FROM process_rollup_1m ORDER BY bucket',
      ),
      h: await test.db.query(
        'SELECT host, bucket, processes FROM process_rollup_1h ORDER BY bucket',
      ),
      d: await test.db.query(
        'SELECT host, bucket, processes FROM process_rollup_1d ORDER BY bucket',
      ),
      c: await test.db.query('SELECT * FROM process_commands ORDER BY pid, started'),
    });
    const run = async (processLists?: ProcessListCache) => {
      const rec = recorded(test.db, { failOnce: 'INSERT INTO process_commands', after: 9 });
      for (const batch of ticked) {
        try {
          await writeSnapshots(rec.db, batch, undefined, { processLists });
        } catch {
          await writeSnapshots(rec.db, batch, undefined, { processLists });
        }
      }
      return rec;
    };
    const cache = createProcessListCache();
    const withCache = await run(cache);
    const cached = await lists();
    expect(cached.h.length).toBe(3);
    // Capped: the hour's list holds fewer processes than its minutes' lists together.
    const hour = (cached.h[1]!.bucket as Date).getTime();
    const seen = new Set(
      cached.m
        .filter((row) => (row.bucket as Date).getTime() - hour < 3_600_000)
        .filter((row) => (row.bucket as Date).getTime() >= hour)
        .flatMap((row) => (row.processes as unknown[][]).map((p) => `${p[0]}:${p[1]}`)),
    );
    expect((cached.h[1]!.processes as unknown[]).length).toBeLessThan(seen.size);
    await test.db.exec(
      'TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts, process_ticks, process_rollup_1m, process_rollup_1h, process_rollup_1d, process_commands',
    );
    const without = await run();
    expect(await lists()).toEqual(cached);
    // Lists were read back only where the last write had not written them: the first batch, the
    // one after the failed write, a new bucket's first batch (it may hold rows of an earlier run).
    const reads = (rec: typeof without, table: string) =>
      rec.statements.filter((sql) => sql.includes(`JOIN ${table} AS r`)).length;
    expect(reads(without, 'process_rollup_1h')).toBe(ticked.length + 1);
    expect(reads(without, 'process_rollup_1d')).toBe(ticked.length + 1);
    // Read only by the first write, the one after the failed write, and a new hour's first
    // (it may hold rows of an earlier run); a gap within the hour reads nothing.
    expect(reads(withCache, 'process_rollup_1h')).toBe(4);
    expect(reads(withCache, 'process_rollup_1d')).toBe(2);
  }, 60_000);

  it('writes nothing for an empty batch', async () => {
    expect(await writeSnapshots(test.db, [])).toEqual({ rows: 0, inserted: 0, rollupRows: 0 });
  });
});
