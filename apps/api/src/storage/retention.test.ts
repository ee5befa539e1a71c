import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { writeSnapshots } from './metrics-store.js';
import { createRetention, retentionRules } from './retention.js';
import { STORED_SECTIONS } from './rollup.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
/** Rows per snapshot: the example carries every section. */
const SECTIONS = STORED_SECTIONS.length;

describeEachBackend('retention', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test.drop());
  beforeEach(() =>
    test.db.exec('TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts'),
  );

  const count = async (table: string, where = 'true') =>
    (
      await test.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`)
    )[0]!.n;

  it('deletes raw rows past RETENTION_DAYS and rollups past their tier, in small batches', async () => {
    // Snapshots every 6 hours for 120 days up to NOW: 480 snapshots.
    const snapshots = Array.from({ length: (120 * DAY) / (6 * 3_600_000) }, (_, i) =>
      makeExampleSnapshot({
        seq: i + 1,
        timestamp: new Date(NOW - i * 6 * 3_600_000).toISOString(),
      }),
    );
    for (let i = 0; i < snapshots.length; i += 2000)
      await writeSnapshots(test.db, snapshots.slice(i, i + 2000));
    const raw = await count('metrics_snapshots');
    expect(raw).toBe(snapshots.length * SECTIONS);

    const retention = createRetention({
      db: test.db,
      logger: silentLogger,
      rules: retentionRules(7 * DAY),
      batchRows: 97,
      pauseMs: 0,
      now: () => NOW,
    });
    const deleted = await retention.runOnce();

    const rawCutoff = new Date(NOW - 7 * DAY).toISOString();
    const keptRaw = snapshots.filter((s) => s.timestamp >= rawCutoff).length * SECTIONS;
    expect(await count('metrics_snapshots')).toBe(keptRaw);
    expect(deleted.metrics_snapshots).toBe(raw - keptRaw);
    expect(await count('metrics_snapshots', `ts < '${rawCutoff}'`)).toBe(0);

    // 1-minute rollups go after 90 days; the hourly ones (two years) all stay.
    const minuteCutoff = new Date(NOW - 90 * DAY).toISOString();
    expect(await count('metrics_rollup_1m', `bucket < '${minuteCutoff}'`)).toBe(0);
    expect(await count('metrics_rollup_1m', `bucket >= '${minuteCutoff}'`)).toBeGreaterThan(0);
    expect(deleted.metrics_rollup_1h).toBe(0);
    expect(await count('metrics_rollup_1h', `bucket < '${minuteCutoff}'`)).toBeGreaterThan(0);

    // A second pass finds nothing left to do.
    expect(Object.values(await retention.runOnce()).every((n) => n === 0)).toBe(true);
  });

  it('start prunes at once and then on its schedule; stop ends the schedule', async () => {
    const old = (i: number) =>
      makeExampleSnapshot({ seq: i, timestamp: new Date(NOW - 30 * DAY + i).toISOString() });
    await writeSnapshots(test.db, [
      old(1),
      makeExampleSnapshot({ timestamp: new Date(NOW - 1000).toISOString() }),
    ]);
    const retention = createRetention({
      db: test.db,
      logger: silentLogger,
      rules: retentionRules(7 * DAY),
      now: () => NOW,
      intervalMs: 20,
    });
    retention.start();
    await vi.waitFor(async () => expect(await count('metrics_snapshots')).toBe(SECTIONS));
    // Written after the first pass: only a scheduled pass can remove it.
    await writeSnapshots(test.db, [old(2)]);
    await vi.waitFor(async () => expect(await count('metrics_snapshots')).toBe(SECTIONS));
    await retention.stop();
    await writeSnapshots(test.db, [old(3)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await count('metrics_snapshots')).toBe(2 * SECTIONS);
  });
});
