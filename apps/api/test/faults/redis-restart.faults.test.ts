import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthResponse, type HealthResponse } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClient, waitUntil, type TestClient } from '../stream-harness.js';
import { login, pollUntil, sleep, startFaultApi, stopAllApis, wsUrl } from './support.js';

// Fault: Redis restarted under two API replicas. A Redis of this test's own
// (the shared one on 6379 serves other suites) is SIGKILLed for ~3 s and started again on the
// same port. Meanwhile each replica's clients keep receiving that replica's own snapshots;
// once Redis is back, ioredis reconnects and resubscribes by itself and the other replica's
// snapshots flow again within 5 s.

const JWT_SECRET = 'redis-fault-test-secret-that-is-long-enough-0123456789';
const OUTAGE_MS = 3000;
const RESUME_LIMIT_MS = 5000;
const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

const redisServerProblem = ((): string | null => {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) return probe.error.message;
  return probe.status === 0 ? null : `redis-server --version exited ${probe.status}`;
})();

/** A TCP port free right now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface RedisServer {
  /** Epoch ms at which it logged that it accepts connections. */
  readyAt: number;
  kill(): Promise<void>;
}

/** A private, non-persistent redis-server on `port`, resolved once it accepts connections. */
async function startRedis(port: number): Promise<RedisServer> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let output = '';
  const readyAt = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(Date.now());
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', (code) => reject(new Error(`redis-server exited ${code}:\n${output}`)));
  });
  return {
    readyAt,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function health(base: string): Promise<HealthResponse> {
  const res = await fetch(`${base}/api/health`);
  return healthResponse.parse(await res.json());
}

/** Snapshot arrivals at a client: which host, and when (epoch ms) it came in. */
type Arrivals = { host: string; at: number }[];

/** A client of `base` subscribed to every host, with the arrival time of every snapshot. */
async function streamClient(base: string): Promise<{ client: TestClient; arrivals: Arrivals }> {
  const client = await openClient(wsUrl(base, await login(base)));
  const arrivals: Arrivals = [];
  client.ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { type?: string; host?: string };
    if (message.type === 'snapshot' && message.host) {
      arrivals.push({ host: message.host, at: Date.now() });
    }
  });
  client.send({ type: 'subscribe', hosts: [] });
  return { client, arrivals };
}

const between = (arrivals: Arrivals, host: string, from: number, to: number) =>
  arrivals.filter((a) => a.host === host && a.at > from && a.at < to).length;

const suite = () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'livestat-redis-fault-'));
  });
  afterAll(async () => {
    await stopAllApis();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('replicas resubscribe within 5 s of Redis coming back; local streams never stop', async () => {
    const redisPort = await freePort();
    let redis = await startRedis(redisPort);
    const hosts = { a: `a-${process.pid}`, b: `b-${process.pid}` };
    const env = (name: 'a' | 'b') => ({
      DATA_DIR: join(dataDir, name),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      METRICS_HOST_NAME: hosts[name],
      SAMPLING_INTERVAL_SECONDS: '0.2',
      JWT_SECRET,
    });
    // Resolved once each has migrated and made its admin (in its own PGlite).
    const [a, b] = await Promise.all([startFaultApi(env('a')), startFaultApi(env('b'))]);
    try {
      const onA = await streamClient(a.url);
      const onB = await streamClient(b.url);
      const countOf = (arrivals: Arrivals, host: string) =>
        arrivals.filter((x) => x.host === host).length;
      await waitUntil(
        () => countOf(onB.arrivals, hosts.a) >= 3 && countOf(onA.arrivals, hosts.b) >= 3,
        'each replica’s snapshots on the other',
        30_000,
      );

      // --- Redis goes away ----------------------------------------------------------------
      const killedAt = Date.now();
      await redis.kill();
      await pollUntil(
        async () => (await health(b.url)).redis === 'down',
        'B’s health to report redis down',
        15_000,
      );
      // The outage's length is the scenario: Redis stays down OUTAGE_MS whatever the API does.
      await sleep(killedAt + OUTAGE_MS - Date.now());
      redis = await startRedis(redisPort);
      const { readyAt } = redis;

      // During the outage B's client kept receiving B's own snapshots (0.2 s apart), and
      // none of A's (the first second is left for one already in flight).
      const localDuringOutage = between(onB.arrivals, hosts.b, killedAt, readyAt);
      expect(localDuringOutage).toBeGreaterThanOrEqual(5);
      expect(between(onB.arrivals, hosts.a, killedAt + 1000, readyAt)).toBe(0);
      expect(between(onA.arrivals, hosts.a, killedAt, readyAt)).toBeGreaterThanOrEqual(5);

      // --- Redis is back: the other replica's snapshots resume ----------------------------
      const firstAfter = (arrivals: Arrivals, host: string) =>
        arrivals.find((x) => x.host === host && x.at >= readyAt);
      const aOnB = await waitUntil(
        () => firstAfter(onB.arrivals, hosts.a),
        'A’s snapshots on B again',
        30_000,
      );
      const bOnA = await waitUntil(
        () => firstAfter(onA.arrivals, hosts.b),
        'B’s snapshots on A again',
        30_000,
      );
      const resumedOnB = aOnB.at - readyAt;
      const resumedOnA = bOnA.at - readyAt;
      console.log(
        `redis restart: down ${readyAt - killedAt} ms; B's client had ${localDuringOutage} ` +
          `local snapshots meanwhile; after Redis accepted connections again, A's first snapshot ` +
          `reached B's client in ${resumedOnB} ms and B's reached A's client in ${resumedOnA} ms`,
      );
      expect(resumedOnB).toBeLessThanOrEqual(RESUME_LIMIT_MS);
      expect(resumedOnA).toBeLessThanOrEqual(RESUME_LIMIT_MS);

      // Streams resumed, not one stray message: A's snapshots keep coming to B.
      const resumedCount = () => between(onB.arrivals, hosts.a, readyAt, Infinity);
      await waitUntil(() => resumedCount() >= 5, 'five of A’s snapshots on B after the restart');

      for (const api of [a, b]) {
        const status = await pollUntil(
          async () => {
            const now = await health(api.url);
            return now.redis === 'up' && now.status === 'ok' ? now : null;
          },
          'health to report redis up',
          15_000,
        );
        expect(status).toMatchObject({ status: 'ok', redis: 'up', database: 'up' });
      }
      onA.client.ws.close(1000);
      onB.client.ws.close(1000);
    } finally {
      await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
      await Promise.all([a.exited, b.exited]);
      await redis.kill();
    }
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(await b.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
};

if (redisServerProblem === null || REQUIRE_SERVICES) {
  describe('Redis restarted under two API processes', () => {
    if (redisServerProblem !== null) {
      throw new Error(`REQUIRE_SERVICES=1 but redis-server cannot run: ${redisServerProblem}`);
    }
    suite();
  });
} else {
  process.stderr.write(
    `\n!!! SKIPPED "Redis restarted": no redis-server on PATH (${redisServerProblem})\n`,
  );
  describe.skip(`Redis restarted — SKIPPED: no redis-server (${redisServerProblem})`, suite);
}
