import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { historyResponse, type HealthResponse, type Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import express from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { createHistoryService } from '../storage/history.js';
import { writeSnapshots } from '../storage/metrics-store.js';
import { createApp } from './app.js';
import { HttpError } from './errors.js';
import { createHistoryRouter } from './history-route.js';

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
  });
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
      `series=cpu.usagePercent&series=network.interfaces.eth0.rxBytesPerSec&from=${from}&to=${to}&points=10`,
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

  it('answers another stored host when asked, and the last hour of the local host by default', async () => {
    const other = await get(`series=cpu.usagePercent&host=${OTHER}&from=${START}&points=5000`);
    expect(other.status).toBe(200);
    const answer = historyResponse.parse(other.body);
    expect(answer.host).toBe(OTHER);
    expect(answer.series['cpu.usagePercent']!.filter((point) => point[1] !== null)).toHaveLength(6);

    const before = Date.now();
    const defaults = await get('series=cpu.usagePercent');
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
      `series=memory.usedPercent&series=cpu.usagePercent&series=memory.usedPercent&from=${START}&to=${START + MINUTE}`,
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
      'series=cpu.usagePercent&from=0001-01-01&to=253402300799999&points=1',
    );
    expect(status).toBe(200);
    const answer = historyResponse.parse(body);
    expect(answer.tier).toBe('1h');
    expect(answer.series['cpu.usagePercent']).toEqual([[answer.from, 12.5, 10, 15]]);
  });

  it('answers 400 naming the bad time parameter', async () => {
    const series = 'series=cpu.usagePercent';
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
    const range = `series=cpu.usagePercent&from=${START}&to=${START + HOUR}`;
    await expect400(`${range}&points=0`, /^points: .*>=1/);
    await expect400(`${range}&points=5001`, /^points: .*<=5000/);
    await expect400(`${range}&points=abc`, /^points: /);
    await expect400(`${range}&points=2.5`, /^points: .*int/);
  });

  it('answers 400 naming series: missing, malformed, unknown, too many', async () => {
    const range = `from=${START}&to=${START + HOUR}`;
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
