import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverMessage, type ProcessesMessage, type ServerMessage } from '@livestat/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../test/databases.js';
import { deleteKeys, describeRedis, TEST_REDIS_URL } from '../../test/redis.js';
import {
  openClient,
  startStreamHarness,
  waitUntil,
  type TestClient,
} from '../../test/stream-harness.js';
import { createProcessesCollector } from '../collectors/processes.js';
import { REDIS_PUBLISHER_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from './redis-bus.js';
import {
  processTablePayload,
  processWatchKind,
  type ProcessTablePayload,
} from './process-watch.js';
import { createRedisWatchRelay } from './watch-relay.js';
import { createWatchHub, type WatchHub } from './watches.js';

const FIXTURE = fileURLToPath(
  new URL('../../test/fixtures/proc/processes-debian12-6.18/', import.meta.url),
);
const TIMESTAMP = '2030-01-01T00:00:01.000Z';

/** The table a real collector reads from the captured /proc files. */
async function fixtureTable(): Promise<ProcessTablePayload> {
  const collector = createProcessesCollector(
    {
      procRoot: path.join(FIXTURE, 't1'),
      sysRoot: '/nonexistent',
      rootFs: path.join(FIXTURE, 'rootfs'),
      now: () => 0,
    },
    { clockTicks: 100, pageSize: 4096 },
  );
  await collector.collect();
  return processTablePayload(collector.latestTable()!);
}

const isProcesses =
  (host: string) =>
  (m: ServerMessage): m is ProcessesMessage =>
    m.type === 'processes' && m.host === host;

/** Sends a ping and waits for its pong: every message sent before it has arrived. */
async function barrier(client: TestClient, id: string): Promise<void> {
  client.send({ type: 'ping', id });
  await client.waitFor((m) => m.type === 'pong' && m.id === id, `pong ${id}`);
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
}, 60_000);
afterAll(() => database.drop());

describe('watch_processes over a real socket (in-process)', () => {
  it('sends the watched host its table each tick, sorted and cut, until unwatched', async () => {
    const watches = createWatchHub({ kinds: [processWatchKind], logger: silentLogger });
    const harness = await startStreamHarness({ database, watches });
    try {
      const { token } = await harness.login('watcher');
      const client = await openClient(harness.url(token));
      const table = await fixtureTable();
      client.send({ type: 'watch_processes', host: 'h1', sort: 'memory', limit: 2 });
      await waitUntil(() => watches.wanted('processes', 'h1'), 'the watch registered');
      watches.publish({ kind: 'processes', host: 'h2', timestamp: TIMESTAMP, table });
      watches.publish({ kind: 'processes', host: 'h1', timestamp: TIMESTAMP, table });
      const message = await client.waitFor(isProcesses('h1'), 'the table of h1');
      expect(serverMessage.parse(message)).toEqual(message);
      const byMemory = [...table.rows].sort((a, b) => b.rssBytes - a.rssBytes).slice(0, 2);
      expect(message).toMatchObject({ sort: 'memory', total: 6, timestamp: TIMESTAMP });
      expect(message.processes).toEqual(byMemory);

      client.send({ type: 'unwatch_processes', host: 'h1' });
      await barrier(client, 'after-unwatch');
      watches.publish({ kind: 'processes', host: 'h1', timestamp: TIMESTAMP, table });
      await barrier(client, 'after-publish');
      expect(client.messages.filter((m) => m.type === 'processes')).toHaveLength(1);
      expect(watches.wanted('processes', 'h1')).toBe(false);
    } finally {
      await harness.close();
    }
  });

  it('answers a bad watch with an error naming the field, limits watches, and forgets them on close', async () => {
    const watches = createWatchHub({ kinds: [processWatchKind], logger: silentLogger });
    const harness = await startStreamHarness({ database, watches });
    try {
      const { token } = await harness.login('greedy');
      const client = await openClient(harness.url(token));
      client.send({ type: 'watch_processes', host: 'h1', limit: 5000 });
      const bad = await client.waitFor((m) => m.type === 'error', 'an error');
      expect(bad).toMatchObject({ code: 'bad_message' });
      expect(bad.type === 'error' && bad.error).toContain('limit');

      for (const host of ['a', 'b', 'c', 'd', 'e']) client.send({ type: 'watch_processes', host });
      const refused = await client.waitFor(
        (m) => m.type === 'error' && m.code === 'too_many_watches',
        'the fifth watch refused',
      );
      expect(refused.type === 'error' && refused.error).toContain('at most 4');
      await barrier(client, 'watched');
      expect(watches.size()).toBe(4);
      // Watching a host again changes the watch, it does not add one.
      client.send({ type: 'watch_processes', host: 'a', sort: 'io' });
      await barrier(client, 'rewatched');
      expect(watches.size()).toBe(4);

      client.ws.close();
      await client.closed;
      await waitUntil(() => watches.size() === 0, 'the watches released');
    } finally {
      await harness.close();
    }
  });
});

describeRedis('watch_processes across processes (Redis)', () => {
  const prefix = `livestat-test:${process.pid}-watch:`;
  const hubs: WatchHub[] = [];
  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.close()));
    await deleteKeys(prefix);
  });

  function hub(subscribe: boolean): WatchHub {
    const relay = createRedisWatchRelay({
      publisher: new Redis(TEST_REDIS_URL, REDIS_PUBLISHER_OPTIONS),
      subscriber: subscribe ? new Redis(TEST_REDIS_URL, REDIS_SUBSCRIBER_OPTIONS) : undefined,
      prefix,
      logger: silentLogger,
      ttlSeconds: 1,
      checkMs: 50,
    });
    const created = createWatchHub({ kinds: [processWatchKind], relay, logger: silentLogger });
    hubs.push(created);
    return created;
  }

  it("an agent publishes its table only while a replica's socket watches its host", async () => {
    const agent = hub(false);
    const replica = hub(true);
    const harness = await startStreamHarness({ database, watches: replica });
    const probe = new Redis(TEST_REDIS_URL);
    try {
      const table = await fixtureTable();
      const key = `${prefix}watch:processes:agent-host`;
      // Nobody watches: no key, and the agent does not want to publish.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(agent.wanted('processes', 'agent-host')).toBe(false);
      expect(await probe.exists(key)).toBe(0);

      const { token } = await harness.login('remote-watcher');
      const client = await openClient(harness.url(token));
      client.send({ type: 'watch_processes', host: 'agent-host', limit: 3 });
      await waitUntil(() => agent.wanted('processes', 'agent-host'), 'the agent seeing the key');
      expect(await probe.ttl(key)).toBeGreaterThan(0);
      // The replica's subscription may still be on its way: publish until it arrives.
      const message = await (async () => {
        for (;;) {
          agent.publish({ kind: 'processes', host: 'agent-host', timestamp: TIMESTAMP, table });
          const got = client.messages.find(isProcesses('agent-host'));
          if (got) return got;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      expect(message.processes.map((p) => p.pid)).toEqual(
        [...table.rows]
          .sort((a, b) => b.cpuPercent - a.cpuPercent || a.pid - b.pid)
          .slice(0, 3)
          .map((p) => p.pid),
      );

      client.send({ type: 'unwatch_processes' });
      await barrier(client, 'unwatched');
      // The key is no longer refreshed: it expires, and the agent stops publishing.
      await waitUntil(
        () => !agent.wanted('processes', 'agent-host'),
        'the agent seeing the key expire',
      );
      expect(await probe.exists(key)).toBe(0);
    } finally {
      probe.disconnect();
      await harness.close();
    }
  });
});
