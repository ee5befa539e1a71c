import { randomBytes } from 'node:crypto';
import {
  COLLECTOR_NAMES,
  historyResponse,
  hostsResponse,
  loginResponse,
} from '@livestat/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describePostgres, type TestDatabase } from './databases.js';
import {
  freePort,
  producedSnapshots,
  startAgent,
  startApi,
  tryConnect,
  waitForOutput,
} from './process.js';
import { defaultRedisPrefix } from '../src/config.js';
import { STORED_SECTIONS } from '../src/storage/rollup.js';
import { describeRedis, TEST_REDIS_URL } from './redis.js';
import { openClient } from './stream-harness.js';
import { startTcpProxy } from './tcp-proxy.js';

// ROLE=agent as real processes beside a real API on one PostgreSQL and one Redis:
// the dashboard streams, lists and charts a host whose process has no HTTP at all. Host names
// carry a per-run id, as in stream-process.test.ts: the Redis channel is the default one, so
// that is what keeps concurrent runs apart.

const PASSWORD = 'agent-test-password';
// The agent's own collector sections plus `agent`: one row each per snapshot.
const SECTIONS = STORED_SECTIONS.length;

/** The Redis URL as the agent's start line shows it: no credentials, the database number kept. */
function expectedRedisDisplay(connection: string): string {
  const url = new URL(connection);
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return loginResponse.parse(await res.json()).token;
}

async function getJson(url: string, token: string): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.json();
}

async function storedSnapshots(test: TestDatabase, host: string) {
  const rows = await test.db
    .query<{ snapshots: number; rows: number }>(
      `SELECT count(DISTINCT ts)::int AS snapshots, count(*)::int AS rows
         FROM metrics_snapshots WHERE host = $1`,
      [host],
    )
    // Before the migrations ran there is no table yet.
    .catch(() => [{ snapshots: 0, rows: 0 }]);
  return rows[0] ?? { snapshots: 0, rows: 0 };
}

describePostgres('an agent process beside an API process', () => {
  describeRedis('on one PostgreSQL and one Redis', () => {
    const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
    let test: TestDatabase;
    beforeAll(async () => {
      // Not migrated: the agent and the API migrate it together, in whichever order.
      test = await createTestDatabase('postgres', { migrate: false });
    });
    afterAll(() => test?.drop());

    it('streams, lists and charts the agent’s host, opens no port, and keeps every snapshot on SIGTERM', async () => {
      const dash = `dash-${id}`;
      const agentHost = `agent-1-${id}`;
      // A password in the URL (trust auth ignores it) that must never reach the agent's log.
      const databaseUrl = new URL(test.url as string);
      if (!databaseUrl.password) databaseUrl.password = `hunter2-${id}`;
      const password = decodeURIComponent(databaseUrl.password);
      const agentPort = await freePort();

      const [api, agent] = await Promise.all([
        startApi({
          ROLE: 'api',
          DATABASE_URL: databaseUrl.toString(),
          REDIS_URL: TEST_REDIS_URL,
          METRICS_HOST_NAME: dash,
          ADMIN_PASSWORD: PASSWORD,
          FLUSH_INTERVAL_SECONDS: '0.5',
        }),
        startAgent({
          DATABASE_URL: databaseUrl.toString(),
          REDIS_URL: TEST_REDIS_URL,
          METRICS_HOST_NAME: agentHost,
          FLUSH_INTERVAL_SECONDS: '0.5',
          PORT: String(agentPort),
          HOST: '127.0.0.1',
        }),
      ]);
      try {
        // The start line says what it samples and where it publishes, without credentials.
        const start = agent
          .output()
          .split('\n')
          .find((line) => line.includes('agent sampling'));
        expect(JSON.parse(start ?? '{}')).toMatchObject({
          role: 'agent',
          host: agentHost,
          intervalMs: 200,
          collectors: [...COLLECTOR_NAMES],
          publishTo: expectedRedisDisplay(TEST_REDIS_URL),
          storeIn: `postgres://${databaseUrl.host}${databaseUrl.pathname}`,
        });

        // No HTTP: no listening line, and its PORT refuses connections.
        expect(agent.output()).not.toMatch(/"url":"http/);
        // (An agent does take StatsD over UDP for its host's applications: that is not HTTP.)
        const listening = agent
          .output()
          .split('\n')
          .filter(
            (line) => line.includes('listening') && !line.includes('StatsD listening on udp'),
          );
        expect(listening).toEqual([]);
        expect(await tryConnect(agentPort)).toBe('ECONNREFUSED');

        await waitForOutput(api.output, 'log in at');
        const token = await login(api.url);

        // A client on the API receives the agent's snapshots through Redis.
        const client = await openClient(
          `${api.url.replace('http', 'ws')}/api/ws/metrics?token=${encodeURIComponent(token)}`,
        );
        client.send({ type: 'subscribe', hosts: [agentHost] });
        await client.until(
          () => client.snapshots(agentHost).length >= 3,
          'three of the agent’s snapshots on the API’s socket',
        );
        const seqs = client.snapshots(agentHost).map((s) => s.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        client.ws.close(1000);

        // The host picker lists both hosts.
        await expect
          .poll(
            async () =>
              hostsResponse
                .parse(await getJson(`${api.url}/api/hosts`, token))
                .hosts.map((host) => host.name),
            { timeout: 15_000 },
          )
          .toEqual(expect.arrayContaining([dash, agentHost]));

        // History answers for the agent's host from what its writer stored.
        await expect
          .poll(
            async () => {
              const answer = historyResponse.parse(
                await getJson(
                  `${api.url}/api/history?host=${agentHost}&series=cpu.usagePercent`,
                  token,
                ),
              );
              expect(answer.host).toBe(agentHost);
              return (answer.series['cpu.usagePercent'] ?? []).filter(([, avg]) => avg !== null)
                .length;
            },
            { timeout: 15_000 },
          )
          .toBeGreaterThan(0);
      } finally {
        agent.child.kill('SIGTERM');
        api.child.kill('SIGTERM');
      }
      expect(await agent.exited).toBe(0);
      expect(await api.exited).toBe(0);
      expect(agent.output()).toContain('shutdown complete');
      expect(agent.output() + agent.errors()).not.toContain(password);

      const produced = producedSnapshots(agent.output());
      expect(produced).toBeGreaterThanOrEqual(3);
      expect(await storedSnapshots(test, agentHost)).toEqual({
        snapshots: produced,
        rows: produced * SECTIONS,
      });
    }, 120_000);

    it('samples with PostgreSQL and Redis down at start, writes once PostgreSQL is back, publishes once Redis is', async () => {
      const host = `agent-outage-${id}`;
      const database = new URL(test.url as string);
      const redis = new URL(TEST_REDIS_URL);
      const pgProxy = await startTcpProxy({
        targetHost: database.hostname,
        targetPort: Number(database.port || 5432),
      });
      const redisProxy = await startTcpProxy({
        targetHost: redis.hostname,
        targetPort: Number(redis.port || 6379),
      });
      const reader = new Redis(TEST_REDIS_URL);
      reader.on('error', () => undefined);
      await Promise.all([pgProxy.down('refuse'), redisProxy.down('refuse')]);
      const agent = await startAgent({
        DATABASE_URL: pgProxy.url(test.url as string),
        REDIS_URL: redisProxy.url(TEST_REDIS_URL),
        METRICS_HOST_NAME: host,
        FLUSH_INTERVAL_SECONDS: '0.5',
      });
      try {
        await waitForOutput(agent.output, 'database unreachable at start', agent.errors);
        await waitForOutput(agent.output, 'redis connection lost', agent.errors);

        // PostgreSQL back, Redis still away: the buffered snapshots and the new ones are written.
        await pgProxy.up();
        await expect
          .poll(async () => (await storedSnapshots(test, host)).snapshots, { timeout: 30_000 })
          .toBeGreaterThanOrEqual(5);
        expect(
          await reader.get(`${defaultRedisPrefix(redisProxy.url(TEST_REDIS_URL))}latest:${host}`),
        ).toBeNull();

        // Redis back: publishing resumes by itself, refreshing the host's latest key.
        await redisProxy.up();
        await expect
          .poll(
            () => reader.get(`${defaultRedisPrefix(redisProxy.url(TEST_REDIS_URL))}latest:${host}`),
            { timeout: 30_000 },
          )
          .toContain(`"host":"${host}"`);
        await waitForOutput(agent.output, 'redis publish resumed', agent.errors);
      } finally {
        agent.child.kill('SIGTERM');
      }
      try {
        expect(await agent.exited).toBe(0);
        const produced = producedSnapshots(agent.output());
        expect(await storedSnapshots(test, host)).toEqual({
          snapshots: produced,
          rows: produced * SECTIONS,
        });
      } finally {
        reader.disconnect();
        await Promise.all([pgProxy.close(), redisProxy.close()]);
      }
    }, 120_000);
  });
});
