import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describePostgres, type TestDatabase } from '../databases.js';
import { producedSnapshots } from '../process.js';
import { openClient } from '../stream-harness.js';
import {
  login,
  pollUntil,
  sleep,
  startFaultApi,
  stopAllApis,
  storedCounts,
  wsUrl,
} from './support.js';

// The API as a real process on a database of its own, stopped two ways: SIGTERM, which must
// lose nothing, and SIGKILL, which may lose only what the batch writer had not yet written.

const CLIENTS = 20;
const host = (name: string) => `faults-${name}-${process.pid}`;

describePostgres('fault: the API process stopped by a signal (PostgreSQL)', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', { migrate: false });
  });
  afterAll(async () => {
    await stopAllApis();
    await test?.drop();
  });

  it(`SIGTERM with every snapshot still queued: ${CLIENTS} clients get 1001, exit 0, none lost or duplicated`, async () => {
    const name = host('sigterm');
    // Nothing is due before the signal: a batch of 1000 or an hour-old snapshot.
    const api = await startFaultApi({
      DATABASE_URL: test.url,
      METRICS_HOST_NAME: name,
      BATCH_SIZE: '1000',
      FLUSH_INTERVAL_SECONDS: '3600',
    });
    const token = await login(api.url);
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () => openClient(wsUrl(api.url, token))),
    );
    await Promise.all(
      clients.map((c) => c.until(() => c.snapshots(name).length >= 3, 'three snapshots')),
    );
    // A dozen snapshots produced, all of them waiting in the writer's queue.
    await clients[0]!.until(() => clients[0]!.snapshots(name).length >= 12, 'twelve snapshots');
    // What was buffered while the database was being prepared went out when the migrations
    // ran (roles/storage.ts); everything since is in the writer's queue, none in the database.
    const seen = clients[0]!.snapshots(name).length;
    const storedBefore = (await storedCounts(test.db, name)).snapshots;
    expect(seen - storedBefore).toBeGreaterThanOrEqual(8);

    const signalledAt = performance.now();
    await api.kill('SIGTERM');
    const closes = await Promise.all(clients.map((c) => c.closed));
    const closedMs = performance.now() - signalledAt;
    const exit = await api.exited;
    const exitMs = performance.now() - signalledAt;

    expect(closes).toEqual(
      Array.from({ length: CLIENTS }, () => ({ code: 1001, reason: 'server shutting down' })),
    );
    expect(exit).toEqual({ code: 0, signal: null });
    const produced = producedSnapshots(api.output());
    const flushed = api.logs('writer flushed and closed')[0];
    expect(flushed?.written).toBe(produced);
    const stored = await storedCounts(test.db, name);
    expect(stored).toMatchObject({
      snapshots: produced,
      seqs: produced,
      minSeq: 1,
      maxSeq: produced,
      duplicateKeys: 0,
      rows: produced * stored.metricTypes,
    });
    const lastSeen = Math.max(...clients.map((c) => c.snapshots(name).at(-1)?.seq ?? 0));
    console.log(
      `[faults] SIGTERM: produced ${produced} snapshots (${storedBefore} stored before the signal), stored ${stored.snapshots} ` +
        `(${stored.rows} rows), lost 0, duplicates ${stored.duplicateKeys}; ` +
        `${CLIENTS}/${CLIENTS} clients closed 1001 in ${Math.round(closedMs)} ms ` +
        `(last seq seen ${lastSeen}); exit 0 after ${Math.round(exitMs)} ms`,
    );
  });

  it('SIGKILL loses at most what the writer had not written, and a restart adds no duplicate', async () => {
    const name = host('sigkill');
    const BATCH_SIZE = 5;
    const env = {
      DATABASE_URL: test.url,
      METRICS_HOST_NAME: name,
      BATCH_SIZE: String(BATCH_SIZE),
      FLUSH_INTERVAL_SECONDS: '1',
    };
    const api = await startFaultApi(env);
    const client = await openClient(wsUrl(api.url, await login(api.url)));
    // Past start-up (the first snapshots wait for the migrations, then go in one backlog
    // batch), then ~5 s of steady writing.
    await pollUntil(
      async () => (await storedCounts(test.db, name)).snapshots >= 10,
      'the first writes',
      30_000,
    );
    // The steady writing is the scenario: five seconds of it, so the kill lands mid-stream.
    await sleep(5000);

    const killedAt = performance.now();
    await api.kill('SIGKILL');
    const exit = await api.exited;
    await client.closed;
    expect(exit.code).not.toBe(0);
    // A transaction cut short is rolled back as PostgreSQL sees the connection drop: wait
    // until no other session of this database is inside a statement or a transaction.
    await pollUntil(
      async () =>
        (
          await test.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND state IS DISTINCT FROM 'idle'`,
          )
        )[0]?.n === 0,
      'the transaction of the killed process to end',
      10_000,
      100,
    );

    // What the process produced: the client saw every snapshot up to its death (publishing
    // precedes queuing for the writer, and a killed process prints no summary), give or take
    // one still in a socket buffer — so `lastSeen` is at most the true count.
    const lastSeen = client.snapshots(name).at(-1)?.seq ?? 0;
    const stored = await storedCounts(test.db, name);
    // Batches are written in order, one at a time, a failed one retried first: what is stored
    // is always a prefix 1..n of what was produced.
    expect(stored).toMatchObject({
      minSeq: 1,
      maxSeq: stored.snapshots,
      seqs: stored.snapshots,
      duplicateKeys: 0,
    });
    // The bound, from the writer's rules: a write starts as soon as BATCH_SIZE are queued (the
    // 1 s age rule fires no sooner at 5 snapshots a second), and only one runs at a time. While
    // no write runs, at most BATCH_SIZE−1 wait; a write in flight holds at most BATCH_SIZE, and
    // while it runs fewer than BATCH_SIZE more arrive as long as a write takes under
    // BATCH_SIZE sampling intervals (1 s — a 35-row local transaction takes milliseconds). So
    // at the kill, unwritten = in flight + queued ≤ 2·BATCH_SIZE − 1; a write whose COMMIT had
    // reached the server is stored, not lost.
    const UNFLUSHED_BOUND = 2 * BATCH_SIZE - 1;
    const lost = lastSeen - stored.snapshots;
    expect(lost).toBeLessThanOrEqual(UNFLUSHED_BOUND);
    console.log(
      `[faults] SIGKILL after ${lastSeen} snapshots seen on the stream (exit ${JSON.stringify(exit)}, ` +
        `${Math.round(performance.now() - killedAt)} ms ago): stored ${stored.snapshots}, ` +
        `lost ${lost} (bound ${UNFLUSHED_BOUND} = 2·BATCH_SIZE−1), duplicates ${stored.duplicateKeys}`,
    );

    // Restart on the same database: it stores its own snapshots beside the old ones.
    const before = stored;
    const after = before.maxTs ?? new Date(0);
    const restarted = await startFaultApi(env);
    await pollUntil(
      async () => (await storedCounts(test.db, name, after)).snapshots >= 10,
      'the restarted process writing',
      30_000,
    );
    await restarted.kill('SIGTERM');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });
    const producedAgain = producedSnapshots(restarted.output());
    const added = await storedCounts(test.db, name, after);
    expect(added).toMatchObject({
      snapshots: producedAgain,
      minSeq: 1,
      maxSeq: producedAgain,
      duplicateKeys: 0,
    });
    const total = await storedCounts(test.db, name);
    expect(total.snapshots).toBe(before.snapshots + producedAgain);
    expect(total.duplicateKeys).toBe(0);
    expect(total.rows).toBe(total.snapshots * total.metricTypes);
    console.log(
      `[faults] restart after SIGKILL: produced ${producedAgain}, stored ${added.snapshots}; ` +
        `total ${total.snapshots} snapshots (${total.rows} rows), duplicates ${total.duplicateKeys}`,
    );
  });
});
