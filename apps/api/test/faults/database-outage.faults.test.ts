import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describePostgres, type TestDatabase } from '../databases.js';
import { producedSnapshots } from '../process.js';
import { openClient } from '../stream-harness.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import {
  getHealth,
  login,
  longestGapMs,
  missingSeqs,
  pollUntil,
  recordArrivals,
  sleep,
  startFaultApi,
  stopAllApis,
  storedCounts,
  summarize,
  wsUrl,
} from './support.js';

// PostgreSQL taken away from a running API — its DATABASE_URL goes through a TCP proxy the
// test controls — and brought back. Meanwhile the live stream must go on at its interval, the
// writer's buffer must hold the snapshots in bounded memory, /api/health must say the database
// is down; once it returns every snapshot produced must be stored, once.

const INTERVAL_MS = 500;
/** A stall longer than this many intervals means the outage reached the live stream. */
const MAX_STALL_INTERVALS = 3;
/** RSS growth allowed over the outage and the drain: generous (a minute is ~120 snapshots). */
const RSS_GROWTH_BOUND_MB = 60;

const host = (name: string) => `faults-db-${name}-${process.pid}`;
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

describePostgres('fault: PostgreSQL unreachable behind a TCP proxy', () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', { migrate: false });
    const target = new URL(test.url as string);
    proxy = await startTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5432),
    });
  });
  afterAll(async () => {
    await stopAllApis();
    await proxy?.close();
    await test?.drop();
  });

  async function outage(mode: 'refuse' | 'blackhole', outageMs: number): Promise<void> {
    const name = host(mode);
    const api = await startFaultApi({
      DATABASE_URL: proxy.url(test.url as string),
      METRICS_HOST_NAME: name,
      SAMPLING_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
      BATCH_SIZE: '5',
      FLUSH_INTERVAL_SECONDS: '1',
    });
    const client = await openClient(wsUrl(api.url, await login(api.url)));
    const arrivals = recordArrivals(client.ws, name);
    await pollUntil(
      async () => (await storedCounts(test.db, name)).snapshots >= 5,
      'the first writes',
      30_000,
    );
    expect(await getHealth(api.url)).toMatchObject({ status: 200, body: { database: 'up' } });

    const rssKb: number[] = [api.rssKb() ?? NaN];
    const rssTimer = setInterval(() => {
      const kb = api.rssKb();
      if (kb !== null) rssKb.push(kb);
    }, 3000);
    try {
      await proxy.down(mode);
      const downAt = performance.now();
      const downHealth = await pollUntil(
        async () => {
          const health = await getHealth(api.url);
          return health.body.database === 'down' && health;
        },
        'health to report the database down',
        20_000,
        500,
      );
      const healthDownMs = performance.now() - downAt;
      expect(downHealth).toMatchObject({ status: 503, body: { status: 'degraded' } });
      // The outage's length is the scenario: it lasts `outageMs` whatever the API does.
      await sleep(outageMs - 2000 - (performance.now() - downAt));
      // Still down near the end: the writer retrying does not make it look up.
      expect((await getHealth(api.url)).body.database).toBe('down');
      await sleep(outageMs - (performance.now() - downAt));

      const seqAtUp = arrivals.at(-1)?.seq ?? 0;
      await proxy.up();
      const upAt = performance.now();
      const during = arrivals.filter((a) => a.at >= downAt && a.at <= upAt);
      const stallMs = longestGapMs(arrivals, downAt, upAt);
      const expected = Math.floor((upAt - downAt) / INTERVAL_MS);

      const drained = await pollUntil(
        async () => {
          const counts = await storedCounts(test.db, name);
          return counts.snapshots >= seqAtUp && counts;
        },
        `the writer to store the ${seqAtUp} snapshots produced by the end of the outage`,
        90_000,
      );
      const drainMs = performance.now() - upAt;
      await pollUntil(
        async () => {
          const health = await getHealth(api.url);
          return health.status === 200 && health.body.database === 'up';
        },
        'health to report the database up',
        30_000,
        500,
      );
      clearInterval(rssTimer);
      rssKb.push(api.rssKb() ?? NaN);

      await api.kill('SIGTERM');
      expect(await api.exited).toEqual({ code: 0, signal: null });
      const produced = producedSnapshots(api.output());
      const stored = await storedCounts(test.db, name);
      const recovered = api.logs('database writes recovered')[0];
      const rss = summarize(rssKb);
      console.log(
        `[faults] PostgreSQL ${mode} for ${Math.round((upAt - downAt) / 1000)} s: ` +
          `health said down after ${Math.round(healthDownMs)} ms; ` +
          `stream delivered ${during.length} snapshots during the outage (${expected} intervals), ` +
          `longest stall ${Math.round(stallMs)} ms; writer recovered after ` +
          `${String(recovered?.attempts)} attempts (downMs ${String(recovered?.downMs)}), ` +
          `stored the ${seqAtUp} produced by then ${Math.round(drainMs)} ms after the database ` +
          `returned (${drained.snapshots} stored then); produced ${produced}, stored ` +
          `${stored.snapshots}, lost ${produced - stored.snapshots}, duplicates ${stored.duplicateKeys}`,
      );
      console.log(
        `[faults] PostgreSQL ${mode}: RSS MB min ${mb(rss.min)} max ${mb(rss.max)} ` +
          `(start ${mb(rssKb[0] ?? NaN)}, growth ${mb((rss.max || 0) - (rssKb[0] ?? 0))}); ` +
          `series every 3 s: ${rssKb.map(mb).join(' ')}`,
      );

      // The live stream was not held up by the outage: a snapshot at every interval, no gap.
      expect(stallMs).toBeLessThanOrEqual(MAX_STALL_INTERVALS * INTERVAL_MS);
      expect(during.length).toBeGreaterThanOrEqual(Math.floor(expected * 0.8));
      expect(missingSeqs(arrivals)).toEqual([]);
      // Nothing lost, nothing twice, nothing dropped from the buffer.
      expect(stored).toMatchObject({
        snapshots: produced,
        seqs: produced,
        minSeq: 1,
        maxSeq: produced,
        duplicateKeys: 0,
        rows: produced * stored.metricTypes,
      });
      expect(api.logs('write buffer full')).toEqual([]);
      expect(recovered).toBeDefined();
      expect(rss.max - (rssKb[0] ?? 0)).toBeLessThan(RSS_GROWTH_BOUND_MB * 1024);
    } finally {
      clearInterval(rssTimer);
      await proxy.up();
    }
  }

  it('refused for 10 s: the stream goes on, health says down, and nothing is lost once it returns', () =>
    outage('refuse', 10_000));

  it('black-holed for 60 s: the stream goes on, memory stays bounded, and nothing is lost once it returns', () =>
    outage('blackhole', 60_000));
});
