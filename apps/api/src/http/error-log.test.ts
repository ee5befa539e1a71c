import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Router } from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createApp } from './app.js';

const lines: { level: number; msg: string; path?: string }[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  const logger = createLogger(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        callback();
      },
    }),
  );
  const router = Router();
  router.get('/down', () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  });
  router.get('/bug', () => {
    throw new TypeError("Cannot read properties of undefined (reading 'x')");
  });
  const app = createApp({
    logger,
    health: () => {
      throw new Error('not asked');
    },
    routers: [router],
  });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('logs a failure that hits every request once per cause, and answers each without a stack', async () => {
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${base}/api/down`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
  }
  for (let i = 0; i < 5; i++) expect((await fetch(`${base}/api/bug`)).status).toBe(500);

  const failed = lines.filter((line) => line.msg === 'request failed');
  expect(failed.map((line) => [line.level, line.path])).toEqual([
    [50, '/api/down'],
    [50, '/api/bug'],
  ]);
});
