import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostsResponse, latestSnapshotsResponse } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import express from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { writeSnapshots } from '../storage/metrics-store.js';
import { createLocalBus, type Bus } from '../stream/bus.js';
import { HttpError } from './errors.js';
import { createHostsRouter } from './hosts-routes.js';

const at = (iso: string) => new Date(iso).toISOString();

describeEachBackend('GET /api/hosts and /api/snapshots/latest', (backend) => {
  let test: TestDatabase;
  let bus: Bus;
  let server: Server;
  let base = '';

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    bus = createLocalBus();
    // Stored only: a host that stopped reporting an hour ago.
    await writeSnapshots(test.db, [
      makeExampleSnapshot({ host: 'old-host', timestamp: at('2026-11-21T09:00:00Z') }),
      makeExampleSnapshot({ host: 'live-host', timestamp: at('2026-11-21T09:30:00Z') }),
    ]);
    // Live: newer than what the writer stored so far.
    bus.publish(
      makeExampleSnapshot({ host: 'live-host', seq: 7, timestamp: at('2026-11-21T10:00:05Z') }),
    );
    bus.publish(
      makeExampleSnapshot({ host: 'new-host', seq: 1, timestamp: at('2026-11-21T10:00:04Z') }),
    );

    const app = express();
    const denyWithoutHeader: express.RequestHandler = (req, _res, next) => {
      if (req.headers['x-test-auth'] !== 'yes') throw new HttpError(401, 'authentication required');
      next();
    };
    app.use('/api', createHostsRouter({ bus, db: test.db, guards: [denyWithoutHeader] }));
    app.use(((err, _req, res, _next) => {
      res
        .status(err instanceof HttpError ? err.status : 500)
        .json({ error: (err as Error).message });
    }) as express.ErrorRequestHandler);
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await bus.close();
    await test.drop();
  });

  const get = (path: string, auth = true) =>
    fetch(`${base}${path}`, { headers: auth ? { 'x-test-auth': 'yes' } : {} });

  it('lists every host, stored or live, newest first with its latest time', async () => {
    const res = await get('/api/hosts');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(hostsResponse.parse(await res.json()).hosts).toEqual([
      { name: 'live-host', lastSeen: at('2026-11-21T10:00:05Z') },
      { name: 'new-host', lastSeen: at('2026-11-21T10:00:04Z') },
      { name: 'old-host', lastSeen: at('2026-11-21T09:00:00Z') },
    ]);
  });

  it('answers the latest snapshot of every live host, exactly as published', async () => {
    const res = await get('/api/snapshots/latest');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { snapshots } = latestSnapshotsResponse.parse(await res.json());
    expect(snapshots.map((s) => [s.host, s.seq, s.timestamp])).toEqual([
      ['live-host', 7, at('2026-11-21T10:00:05Z')],
      ['new-host', 1, at('2026-11-21T10:00:04Z')],
    ]);
  });

  it('runs its guards first', async () => {
    for (const path of ['/api/hosts', '/api/snapshots/latest']) {
      const res = await get(path, false);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'authentication required' });
    }
  });

  it('still lists the live hosts when the database cannot answer', async () => {
    const down = await createTestDatabase(backend);
    await down.drop();
    const app = express().use('/api', createHostsRouter({ bus, db: down.db }));
    const other = app.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const res = await fetch(
        `http://127.0.0.1:${(other.address() as AddressInfo).port}/api/hosts`,
      );
      expect(res.status).toBe(200);
      expect(hostsResponse.parse(await res.json()).hosts.map((h) => h.name)).toEqual([
        'live-host',
        'new-host',
      ]);
    } finally {
      other.close();
    }
  });
});
