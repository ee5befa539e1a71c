import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loginResponse } from '@livestat/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPgliteDatabase } from '../src/storage/db.js';
import { producedSnapshots, startApi } from './process.js';
import { describeRedis, TEST_REDIS_URL } from './redis.js';
import { openClient } from './stream-harness.js';

// Two real API processes sharing one Redis, as two replicas would: a client on B — a replica
// that only serves (SAMPLING=off) — sees what A samples, B's /metrics shows A's host, and a
// SIGTERM closes sockets 1001 and loses no snapshot.

const PASSWORD = 'process-test-password';
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'livestat-stream-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return loginResponse.parse(await res.json()).token;
}

async function waitForOutput(output: () => string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no '${text}' in:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const wsUrl = (base: string, token: string) =>
  `${base.replace('http', 'ws')}/api/ws/metrics?token=${encodeURIComponent(token)}`;

describeRedis('two API processes on one Redis', () => {
  it('streams A’s snapshots to a client on B; SIGTERM closes 1001 and keeps every snapshot', async () => {
    const env = (name: string) => ({
      DATA_DIR: join(dataDir, name),
      REDIS_URL: TEST_REDIS_URL,
      METRICS_HOST_NAME: `process-test-${name}-${process.pid}`,
      ADMIN_PASSWORD: PASSWORD,
      BATCH_SIZE: '5',
    });
    const metricsToken = 'process-test-metrics-token';
    const [a, b] = await Promise.all([
      startApi(env('a')),
      startApi({ ...env('b'), SAMPLING: 'off', METRICS_TOKEN: metricsToken }),
    ]);
    const hostA = env('a').METRICS_HOST_NAME;
    try {
      // The admin exists once migrations ran; the API listens before that.
      for (const api of [a, b]) await waitForOutput(api.output, 'log in at');
      // Each process made its own admin in its own PGlite; log in to each.
      const tokenB = await login(b.url);
      const onB = await openClient(wsUrl(b.url, tokenB));
      onB.send({ type: 'subscribe', hosts: [hostA] });
      await onB.until(() => onB.snapshots(hostA).length >= 3, 'three of A’s snapshots on B');
      const seqs = onB.snapshots(hostA).map((s) => s.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));

      // Prometheus on B: A's host metrics arrived over Redis; the token is required.
      expect((await fetch(`${b.url}/metrics`)).status).toBe(401);
      const scrape = await fetch(`${b.url}/metrics`, {
        headers: { authorization: `Bearer ${metricsToken}` },
      });
      expect(scrape.status).toBe(200);
      const exposition = await scrape.text();
      expect(exposition).toMatch(new RegExp(`^node_load1\\{instance="${hostA}"\\} [0-9.]+$`, 'm'));
      expect(exposition).toMatch(/^livestat_websocket_connections 1$/m);
      expect(exposition).toMatch(/^nodejs_eventloop_lag_seconds /m);

      const onA = await openClient(wsUrl(a.url, await login(a.url)));
      a.child.kill('SIGTERM');
      expect(await onA.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      expect(await a.exited).toBe(0);
      onB.ws.close(1000);
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
    }
    expect(await b.exited).toBe(0);
    // B sampled nothing: everything its client saw came from A.
    expect(producedSnapshots(b.output())).toBe(0);

    const produced = producedSnapshots(a.output());
    const db = await createPgliteDatabase(join(dataDir, 'a', 'pglite'));
    try {
      const rows = await db.query<{ n: number }>(
        'SELECT count(DISTINCT ts)::int AS n FROM metrics_snapshots WHERE host = $1',
        [hostA],
      );
      expect(rows[0]?.n).toBe(produced);
    } finally {
      await db.close();
    }
  }, 90_000);
});
