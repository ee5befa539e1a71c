import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { createSpaRouter } from './spa.js';

const INDEX =
  '<!doctype html><div id="app"></div><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = 'console.log("dashboard")';

let dir = '';
let base = '';
let server: Server;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'livestat-spa-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), INDEX);
  await writeFile(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(dir, 'assets', 'index-abc123.js'), SCRIPT);
  const app = createApp({
    logger: pino({ level: 'silent' }),
    health: () => ({
      status: 'ok',
      version: '0.1.0',
      host: 'h',
      uptimeSeconds: 1,
      database: 'up',
      redis: 'not_configured',
      websocketConnections: 0,
      sampler: { seq: 0, lastSnapshotAt: null },
    }),
    spa: createSpaRouter(dir),
  });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('createSpaRouter', () => {
  it('is null when there is no build, so the API serves the API alone', async () => {
    expect(createSpaRouter(path.join(dir, 'missing'))).toBeNull();
  });

  it('serves index.html at / and for any page route, never cached', async () => {
    for (const page of ['/', '/history', '/login?redirect=%2Fhistory']) {
      const res = await fetch(`${base}${page}`, { headers: { accept: 'text/html' } });
      expect(res.status, page).toBe(200);
      expect(res.headers.get('content-type'), page).toMatch(/text\/html/);
      expect(res.headers.get('cache-control'), page).toBe('no-cache');
      expect(await res.text(), page).toBe(INDEX);
    }
  });

  it('serves hashed assets as immutable and a missing one as 404', async () => {
    const res = await fetch(`${base}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
    expect(await res.text()).toBe(SCRIPT);
    expect((await fetch(`${base}/assets/index-gone.js`)).status).toBe(404);
  });

  it.each([
    ['a missing asset', '/assets/index-gone.js'],
    ['a missing directory', '/assets/sub/'],
    ['the assets directory itself', '/assets'],
    ['a traversal with an encoded slash', '/assets/..%2f..%2fetc%2fpasswd'],
    ['a traversal with encoded dots', '/assets/%2e%2e/index.html'],
    ['a NUL', '/assets/index-abc123.js%00'],
    ['a broken escape', '/assets/%E0%A4%A'],
  ])('answers %s under /assets with 404 not found, naming no path', async (_label, target) => {
    // node:http sends the path as written; fetch would resolve the dots first.
    const { status, body } = await new Promise<{ status?: number; body: string }>((resolve) => {
      const { hostname, port } = new URL(base);
      http.get({ hostname, port, path: target, headers: { accept: 'text/html' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
    });
    expect(status).toBe(404);
    expect(JSON.parse(body)).toEqual({ error: 'not found' });
    expect(body).not.toContain(dir);
  });

  it('serves other files of the build and keeps /api answering JSON', async () => {
    expect((await fetch(`${base}/favicon.svg`)).status).toBe(200);
    const api = await fetch(`${base}/api/nope`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: 'not found' });
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });

  it('sends a CSP that allows only same-origin scripts and no https upgrade', async () => {
    const res = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
  });
});
