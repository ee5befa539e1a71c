import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { historyResponse, type HealthResponse, type Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import express from 'express';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  describePostgres,
  silentLogger,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../../test/databases.js';
import { waitUntil } from '../../test/stream-harness.js';
import { createPostgresDatabase } from '../storage/db.js';
import { createHistoryService } from '../storage/history.js';
import { writeSnapshots } from '../storage/metrics-store.js';
import { createWorkLimiter } from '../storage/work-limiter.js';
import { createApp } from './app.js';
import { HttpError } from './errors.js';
import { createHistoryRouter } from './history-route.js';
import { TWENTY_SERIES } from '../../test/twenty-series.js';

const LOCAL = 'test-host';
const OTHER = 'other-host';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// Ten minutes of data ending now, so requests without from/to see it.
const START = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

const health: HealthResponse = {
  status: 'ok',
  version: '0.1.0',
  host: LOCAL,
  uptimeSeconds: 1,
  database: 'up',
  redis: 'not_configured',
  websocketConnections: 0,
  sampler: { seq: 0, lastSnapshotAt: null },
};

function snapshot(host: string, i: number): Snapshot {
  const s: Snapshot = makeExampleSnapshot({
    host,
    seq: i + 1,
    timestamp: new Date(START + i * 10_000).toISOString(),
  });
  // 10 + i % 6: 10..15 in every whole minute, average 12.5.
  if (s.cpu.available) s.cpu.usagePercent = 10 + (i % 6);
  return s;
}

async function listen(app: express.Express): Promise<{ server: Server; base: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describeEachBackend('GET /api/history', (backend) => {
  let test: TestDatabase;
  let server: Server;
  let base = '';

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    await writeSnapshots(test.db, [
      ...Array.from({ length: 60 }, (_, i) => snapshot(LOCAL, i)),
      ...Array.from({ length: 6 }, (_, i) => snapshot(OTHER, i)),
    ]);
    const history = createHistoryService({
      db: test.db,
      localHost: LOCAL,
      rawRetentionMs: 7 * 24 * HOUR,
    });
    ({ server, base } = await listen(
      createApp({
        logger: silentLogger,
        health: () => health,
        routers: [createHistoryRouter({ history })],
      }),
    ));
  }, 60_000);
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await test.drop();
  });

  async function get(query: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${base}/api/history?${query}`);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    return { status: res.status, body: await res.json() };
  }

  async function expect400(query: string, error: string | RegExp): Promise<void> {
    const { status, body } = await get(query);
    expect(status, query).toBe(400);
    const message = (body as { error: string }).error;
    if (typeof error === 'string') expect(message, query).toBe(error);
    else expect(message, query).toMatch(error);
  }

  it('answers the contract shape with buckets computed from stored rows', async () => {
    const from = new Date(START).toISOString();
    const to = START + 10 * MINUTE;
    const { status, body } = await get(
      `host=${LOCAL}&series=cpu.usagePercent&series=network.interfaces.eth0.rxBytesPerSec&from=${from}&to=${to}&points=10`,
    );
    expect(status).toBe(200);
    const answer = historyResponse.parse(body);
    expect(answer).toMatchObject({ host: LOCAL, from: START, to, bucketMs: MINUTE, tier: '1m' });
    expect(Object.keys(answer.series)).toEqual([
      'cpu.usagePercent',
      'network.interfaces.eth0.rxBytesPerSec',
    ]);
    const cpu = answer.series['cpu.usagePercent']!;
    expect(cpu).toHaveLength(10);
    cpu.forEach((point, k) => expect(point).toEqual([START + k * MINUTE, 12.5, 10, 15]));
    const eth0 = answer.series['network.interfaces.eth0.rxBytesPerSec']!;
    expect(eth0.every(([, avg, min, max]) => avg === 15234.5 && min === avg && max === avg)).toBe(
      true,
    );
  });

  it('answers another stored host when asked, and asks for host when several have data', async () => {
    const other = await get(`series=cpu.usagePercent&host=${OTHER}&from=${START}&points=5000`);
    expect(other.status).toBe(200);
    const answer = historyResponse.parse(other.body);
    expect(answer.host).toBe(OTHER);
    expect(answer.series['cpu.usagePercent']!.filter((point) => point[1] !== null)).toHaveLength(6);

    // The same on every replica, whichever host it samples itself.
    await expect400(
      'series=cpu.usagePercent',
      `host: required when several hosts have data; known: ${OTHER}, ${LOCAL}`,
    );
    const before = Date.now();
    const defaults = await get(`series=cpu.usagePercent&host=${LOCAL}`);
    const after = Date.now();
    expect(defaults.status).toBe(200);
    const last = historyResponse.parse(defaults.body);
    expect(last.host).toBe(LOCAL);
    expect(last.to).toBeGreaterThanOrEqual(before);
    expect(last.to).toBeLessThanOrEqual(after);
    expect(last.from).toBeLessThanOrEqual(last.to - HOUR);
    expect(last.from).toBeGreaterThan(last.to - HOUR - last.bucketMs);
    expect(last.series['cpu.usagePercent']!.length).toBeLessThanOrEqual(500);
    // The raw samples of the last ten minutes are in there.
    const values = last.series['cpu.usagePercent']!.flatMap(([, , min, max]) =>
      min === null || max === null ? [] : [min, max],
    );
    expect(Math.min(...values)).toBe(10);
    expect(Math.max(...values)).toBe(15);
  });

  it('answers each repeated series once, in the order asked', async () => {
    const { status, body } = await get(
      `host=${LOCAL}&series=memory.usedPercent&series=cpu.usagePercent&series=memory.usedPercent&from=${START}&to=${START + MINUTE}`,
    );
    expect(status).toBe(200);
    expect(Object.keys(historyResponse.parse(body).series)).toEqual([
      'memory.usedPercent',
      'cpu.usagePercent',
    ]);
  });

  it('answers the widest range a request can name in one bucket', async () => {
    const { status, body } = await get(
      // Years 0001 to 9999: what ISO 8601's four digits and PostgreSQL both take.
      `host=${LOCAL}&series=cpu.usagePercent&from=0001-01-01&to=253402300799999&points=1`,
    );
    expect(status).toBe(200);
    const answer = historyResponse.parse(body);
    expect(answer.tier).toBe('1h');
    expect(answer.series['cpu.usagePercent']).toEqual([[answer.from, 12.5, 10, 15]]);
  });

  it('answers 400 naming the bad time parameter', async () => {
    const series = `host=${LOCAL}&series=cpu.usagePercent`;
    await expect400(`${series}&from=${START + 5}&to=${START}`, 'from: must be before to');
    await expect400(
      `${series}&from=yesterday&to=${START}`,
      'from: expected an ISO 8601 time with Z or an offset, or epoch milliseconds',
    );
    await expect400(`${series}&from=${START}&to=2026-03-14T10:00:00`, /^to: expected an ISO 8601/);
    await expect400(`${series}&from=${START}&to=`, /^to: /);
    await expect400(`${series}&from=1&from=2`, /^from: .*array/);
  });

  it('answers 400 naming points', async () => {
    const range = `host=${LOCAL}&series=cpu.usagePercent&from=${START}&to=${START + HOUR}`;
    await expect400(`${range}&points=0`, /^points: .*>=1/);
    await expect400(`${range}&points=5001`, /^points: .*<=5000/);
    await expect400(`${range}&points=abc`, /^points: /);
    await expect400(`${range}&points=2.5`, /^points: .*int/);
  });

  it('answers 400 naming series: missing, malformed, unknown, too many', async () => {
    const range = `host=${LOCAL}&from=${START}&to=${START + HOUR}`;
    await expect400(range, 'series: required');
    await expect400(
      `${range}&series=cpu.usagePercent&series=nosuch.x`,
      "series: expected a dotted path such as cpu.usagePercent, got 'nosuch.x'",
    );
    await expect400(
      `${range}&series=cpu.nosuch`,
      /^series: unknown series 'cpu\.nosuch'; known: cpu\.usagePercent, .*network\.interfaces\.<name>\.rxBytesPerSec/,
    );
    const many = Array.from({ length: 21 }, () => 'series=cpu.usagePercent').join('&');
    await expect400(`${range}&${many}`, /^series: .*<=20/);
  });

  it('answers 400 for a host it has never seen, listing the known ones', async () => {
    await expect400(
      `series=cpu.usagePercent&host=nope`,
      `host: unknown host 'nope'; known: ${OTHER}, ${LOCAL}`,
    );
    await expect400(`series=cpu.usagePercent&host=a&host=b`, /^host: .*array/);
  });

  it('runs its guards first, so protecting it is passing them', async () => {
    const deny: express.RequestHandler = () => {
      throw new HttpError(401, 'unauthorized');
    };
    const history = createHistoryService({ db: test.db, localHost: LOCAL, rawRetentionMs: HOUR });
    const app = express().use('/api', createHistoryRouter({ history, guards: [deny] }));
    const guarded = await listen(app);
    try {
      const res = await fetch(`${guarded.base}/api/history?series=cpu.usagePercent`);
      expect(res.status).toBe(401);
    } finally {
      await new Promise((resolve) => guarded.server.close(resolve));
    }
  });
});

describeEachBackend('GET /api/history: bounded', (backend) => {
  let test: TestDatabase;
  const limiter = createWorkLimiter();
  const servers: Server[] = [];
  let base = '';
  let quick = '';
  // Ten minutes at one-second buckets: each request reads raw rows from metrics_snapshots.
  const RAW = `series=cpu.usagePercent&from=${START}&to=${START + 10 * MINUTE}&points=600`;

  // The user a request is from, as passport would set it.
  const asUser: express.RequestHandler = (req, _res, next) => {
    req.user = { id: Number(req.header('x-user') ?? 1), username: 'u', role: 'viewer' };
    next();
  };

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    await writeSnapshots(
      test.db,
      Array.from({ length: 60 }, (_, i) => snapshot(LOCAL, i)),
    );
    const serve = async (timeoutMs: number) => {
      const history = createHistoryService({
        db: test.db.lane('read'),
        localHost: LOCAL,
        rawRetentionMs: 7 * 24 * HOUR,
        minBucketMs: 1000,
        maxRowsScanned: 500_000,
        timeoutMs,
      });
      const router = createHistoryRouter({ history, guards: [asUser], limiter });
      const app = createApp({ logger: silentLogger, health: () => health, routers: [router] });
      const listening = await listen(app);
      servers.push(listening.server);
      return listening.base;
    };
    base = await serve(60_000);
    quick = await serve(2000);
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await test.drop();
  });

  const request = (
    query: string,
    user: number,
    options: { at?: string; signal?: AbortSignal } = {},
  ) =>
    fetch(`${options.at ?? base}/api/history?${query}`, {
      headers: { 'x-user': String(user) },
      signal: options.signal,
    });

  /**
   * Holds metrics_snapshots locked (PostgreSQL: history's SELECTs run, waiting on the lock) or
   * PGlite's one connection (they wait their turn) until released: requests in flight.
   */
  async function holdTable(): Promise<{ release: () => Promise<void> }> {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let locked: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (locked = resolve));
    const done = test.db.transaction(async (tx) => {
      await tx.query('LOCK TABLE metrics_snapshots IN ACCESS EXCLUSIVE MODE');
      locked();
      await gate;
    });
    await held;
    return {
      async release() {
        open();
        await done;
      },
    };
  }

  /** Statements of this database's read lane running (PostgreSQL) or queued (PGlite) now. */
  async function readsInFlight(): Promise<number> {
    if (backend === 'pglite') {
      const { active, waiting } = test.db.stats().read;
      return active + waiting;
    }
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const result = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'livestat:read' AND state = 'active'`,
        [new URL(test.url ?? '').pathname.slice(1)],
      );
      return result.rows[0]?.n ?? 0;
    } finally {
      await client.end();
    }
  }

  async function until(check: () => Promise<boolean>, label: string): Promise<void> {
    const giveUpAt = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${label}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('runs two requests of a user and queues two; a fifth gets 429 + Retry-After, another user is served', async () => {
    const hold = await holdTable();
    let released = false;
    try {
      const mine = Array.from({ length: 4 }, () => request(RAW, 1));
      await waitUntil(() => {
        const load = limiter.load('user:1');
        return load.running === 2 && load.waiting === 2;
      }, 'two running and two waiting');
      const refused = await request(RAW, 1);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: string }).error).toMatch(
        /^too many history or resume requests at once \(at most 2 run together\)/,
      );
      const theirs = request(RAW, 2);
      await waitUntil(() => limiter.load('user:2').running === 1, "the other user's request");
      await hold.release();
      released = true;
      const answers = await Promise.all([...mine, theirs]);
      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
      const cpu = historyResponse.parse(await answers[4]!.json()).series['cpu.usagePercent']!;
      expect(cpu.filter((point) => point[1] !== null)).toHaveLength(60);
    } finally {
      if (!released) await hold.release();
    }
  });

  it('refuses a request over the cost cap with a 400 suggesting a coarser one', async () => {
    const to = Math.floor(Date.now() / HOUR) * HOUR;
    const series = TWENTY_SERIES.map((path) => `series=${path}`).join('&');
    const range = `${series}&from=${to - 24 * HOUR}&to=${to}`;
    const res = await request(`${range}&points=5000`, 3);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error:
        'points: 20 series × 86,400 raw rows exceeds the limit of 500,000 rows scanned; ' +
        'ask for points ≤ 2879 (1-minute rollups), fewer series or a shorter range',
    });
    const coarser = await request(`${range}&points=2879`, 3);
    expect(coarser.status).toBe(200);
    expect(historyResponse.parse(await coarser.json()).tier).toBe('1m');
  });

  it("cancels an aborted request's query in the database", async () => {
    const hold = await holdTable();
    try {
      const controller = new AbortController();
      const aborted = request(RAW, 4, { signal: controller.signal }).catch((err: Error) => err);
      await until(async () => (await readsInFlight()) === 1, 'the history query in flight');
      controller.abort();
      expect(await aborted).toMatchObject({ name: 'AbortError' });
      // Gone while the table is still held: cancelled, not finished.
      await until(async () => (await readsInFlight()) === 0, 'the query cancelled');
      await waitUntil(() => limiter.load('user:4').running === 0, "the user's slot freed");
    } finally {
      await hold.release();
    }
    expect((await request(RAW, 4)).status).toBe(200);
  });

  it('answers 503 when a request runs past the history timeout, and the next one works', async () => {
    const hold = await holdTable();
    let res: Response;
    try {
      res = await request(RAW, 5, { at: quick });
    } finally {
      await hold.release();
    }
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error:
        'history query took longer than 2 s; choose a shorter range, fewer points or fewer series',
    });
    await until(async () => (await readsInFlight()) === 0, 'the timed-out query cancelled');
    expect((await request(RAW, 5, { at: quick })).status).toBe(200);
  });
});

describePostgres('GET /api/history: its connections all busy', () => {
  it('answers 503 with Retry-After rather than an internal error, then serves again', async () => {
    const test = await createTestDatabase('postgres');
    // One history connection, and a short wait for it.
    const db = createPostgresDatabase({
      connectionString: test.url ?? '',
      logger: silentLogger,
      poolSizes: { read: 1 },
      connectionTimeoutMs: 300,
    });
    const history = createHistoryService({
      db: db.lane('read'),
      localHost: LOCAL,
      rawRetentionMs: 7 * 24 * HOUR,
    });
    const { server, base } = await listen(
      createApp({
        logger: silentLogger,
        health: () => health,
        routers: [createHistoryRouter({ history })],
      }),
    );
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    try {
      const held = db.lane('read').session(() => gate);
      const busy = await fetch(`${base}/api/history?series=cpu.usagePercent&host=${LOCAL}`);
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(await busy.json()).toEqual({
        error: 'history is busy: every connection for it is in use; try again',
      });
      open();
      await held;
      expect(
        (await fetch(`${base}/api/history?series=cpu.usagePercent&host=${LOCAL}`)).status,
      ).toBe(200);
    } finally {
      open();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
      await test.drop();
    }
  });
});
