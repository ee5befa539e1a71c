import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthResponse, type HealthResponse } from '@livestat/contracts';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';

const health: HealthResponse = {
  status: 'ok',
  version: '0.1.0',
  host: 'test-host',
  uptimeSeconds: 12,
  database: 'not_configured',
  redis: 'not_configured',
  websocketConnections: 0,
  sampler: { seq: 3, lastSnapshotAt: '2026-11-21T10:00:00.000Z' },
};

let base = '';
let status: HealthResponse['status'] = 'ok';
let server: Server;

beforeAll(async () => {
  const app = createApp({
    logger: pino({ level: 'silent' }),
    health: () => ({ ...health, status }),
  });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('http app', () => {
  it('answers /api/health with the contract body', async () => {
    const res = await fetch(`${base}/api/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(healthResponse.parse(await res.json())).toEqual(health);
  });

  it('answers 503 while degraded so load balancers take it out', async () => {
    status = 'degraded';
    try {
      const res = await fetch(`${base}/api/health`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as HealthResponse).status).toBe('degraded');
    } finally {
      status = 'ok';
    }
  });

  it('answers an unknown API route 404 as JSON {error}', async () => {
    const res = await fetch(`${base}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });

  it('answers a malformed JSON body 400 as JSON {error} without a stack trace', async () => {
    const res = await fetch(`${base}/api/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username":',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+/);
  });
});
