import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorMessage, HealthResponse, HostsMessage, Snapshot } from '@livestat/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { createHistoryRouter } from '../src/http/history-route.js';
import { createHistoryService } from '../src/storage/history.js';
import { writeSnapshots } from '../src/storage/metrics-store.js';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from './databases.js';
import {
  openClient,
  snapshotOf,
  startStreamHarness,
  type StreamHarness,
} from './stream-harness.js';

// What PostgreSQL and PGlite refuse — a NUL in text, a year 0000 or past 9999 — is refused at
// validation, naming the parameter, before any query: never a 500, never a stack.

const HOST = 'vm-web-01';
const health: HealthResponse = {
  status: 'ok',
  version: '0.1.0',
  host: HOST,
  uptimeSeconds: 1,
  database: 'up',
  redis: 'not_configured',
  websocketConnections: 0,
  sampler: { seq: 0, lastSnapshotAt: null },
};

const isError = (m: { type: string }): m is ErrorMessage => m.type === 'error';
const isHosts = (m: { type: string }): m is HostsMessage => m.type === 'hosts';
const isSnapshot = (m: { type: string }): m is Snapshot => m.type === 'snapshot';

describeEachBackend('input the database cannot take', (backend) => {
  let database: TestDatabase;
  let server: Server;
  let base = '';
  let stream: StreamHarness;
  let token = '';

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    await writeSnapshots(
      database.db,
      [1, 2, 3].map((seq) => snapshotOf(HOST, seq)),
    );
    const history = createHistoryService({
      db: database.db,
      localHost: HOST,
      rawRetentionMs: 7 * 86_400_000,
    });
    const app = createApp({
      logger: silentLogger,
      health: () => health,
      routers: [createHistoryRouter({ history })],
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stream = await startStreamHarness({ database });
    ({ token } = await stream.login('hygiene'));
  }, 60_000);
  afterAll(async () => {
    await stream?.close();
    await new Promise((resolve) => server?.close(resolve));
    await database?.drop();
  });

  it.each([
    ['a NUL in the host', `host=vm%00web&series=cpu.usagePercent`, /^host: must not contain NUL/],
    [
      'a NUL in an interface of a series path',
      'series=network.interfaces.eth%000.rxBytesPerSec',
      /^series: expected a dotted path such as cpu\.usagePercent, got 'network\.interfaces\.eth.0\./,
    ],
    [
      'from in year 0000',
      'series=cpu.usagePercent&from=0000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z',
      'from: must be between years 0001 and 9999',
    ],
    [
      'to past year 9999',
      'series=cpu.usagePercent&from=0&to=253402300800000',
      'to: must be between years 0001 and 9999',
    ],
    [
      'an absurd epoch',
      'series=cpu.usagePercent&from=0&to=99999999999999999999999',
      'to: must be between years 0001 and 9999',
    ],
  ])('GET /api/history with %s answers 400 naming the parameter', async (_label, query, error) => {
    const res = await fetch(`${base}/api/history?${query}`);
    const body = (await res.json()) as { error: string };
    expect(res.status).toBe(400);
    expect(body.error).toMatch(error);
    expect(JSON.stringify(body)).not.toMatch(/stack|at .*\.ts/);
  });

  it('answers the stored rows of years the database takes, down to 0001', async () => {
    const res = await fetch(
      `${base}/api/history?series=cpu.usagePercent&from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z&points=10`,
    );
    expect(res.status).toBe(200);
  });

  it.each([
    ['a resume from year 0000', { type: 'resume', host: HOST, after: '0000-01-01T00:00:00.000Z' }],
    [
      'a resume past year 9999',
      { type: 'resume', host: HOST, after: '+010000-01-01T00:00:00.000Z' },
    ],
    [
      'a resume of a host with a NUL',
      { type: 'resume', host: 'vm\u0000web', after: '2030-01-01T00:00:00.000Z' },
    ],
    ['a subscribe to a host with a NUL', { type: 'subscribe', hosts: [HOST, 'vm\u0000db'] }],
  ])('answers %s with bad_message and keeps the socket serving', async (_label, message) => {
    const client = await openClient(stream.url(token));
    try {
      await client.waitFor(isHosts, 'hosts');
      client.send(message);
      const error = await client.waitFor(isError, 'error');
      expect(error.code).toBe('bad_message');
      expect(error.error).toMatch(
        new RegExp(`^invalid ${message.type} message: (host|hosts\\.1|after): `),
      );
      // The same socket still answers a valid resume from the database.
      client.send({ type: 'resume', host: HOST, after: '2000-01-01T00:00:00.000Z' });
      await client.until(() => client.snapshots(HOST).length >= 3, 'the stored snapshots');
      expect(client.messages.filter(isSnapshot).map((s) => s.seq)).toEqual([1, 2, 3]);
      expect(client.messages.filter(isError)).toHaveLength(1);
    } finally {
      client.ws.close();
      await client.closed;
    }
  });
});
