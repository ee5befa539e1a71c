import { Writable } from 'node:stream';
import type { Snapshot } from '@livestat/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/databases.js';
import {
  createBusClients,
  deleteKeys,
  describeRedis,
  TEST_REDIS_URL,
  uniqueRedisNamespace,
} from '../../test/redis.js';
import {
  openClient,
  snapshotOf,
  startStreamHarness,
  waitUntil,
} from '../../test/stream-harness.js';
import { startTcpProxy } from '../../test/tcp-proxy.js';
import { createLogger, type Logger } from '../logger.js';
import type { BusMessage } from './bus.js';
import { createRedisBus, type RedisBus } from './redis-bus.js';

const namespaces: string[] = [];
const buses: RedisBus[] = [];

function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { logger, lines };
}

/** A bus in namespace `ns` with its own two clients (at `url`: TEST_REDIS_URL or a proxy). */
function makeBus(
  ns: { channel: string; keyPrefix: string },
  options: { url?: string; logger?: Logger } = {},
): RedisBus {
  const bus = createRedisBus({
    ...createBusClients(options.url),
    ...ns,
    logger: options.logger ?? createLogger({ level: 'silent' }),
  });
  buses.push(bus);
  return bus;
}

function namespace() {
  const ns = uniqueRedisNamespace();
  namespaces.push(ns.keyPrefix);
  return ns;
}

function record(bus: RedisBus): BusMessage[] {
  const got: BusMessage[] = [];
  bus.subscribe((message) => got.push(message));
  return got;
}

const ids = (messages: BusMessage[]) => messages.map((m) => `${m.snapshot.host}#${m.snapshot.seq}`);

describeRedis('createRedisBus', () => {
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    for (const prefix of namespaces) await deleteKeys(prefix);
  });

  it('delivers across processes with the publisher’s JSON, and never twice to the publisher', async () => {
    const ns = namespace();
    const a = makeBus(ns);
    const b = makeBus(ns);
    await Promise.all([a.ready(), b.ready()]);
    expect([a.status(), b.status()]).toEqual(['up', 'up']);
    const atA = record(a);
    const atB = record(b);

    const s1 = snapshotOf('alpha', 1);
    a.publish(s1);
    // Local subscribers first, synchronously: they never wait for Redis.
    expect(ids(atA)).toEqual(['alpha#1']);
    await waitUntil(() => atB.length === 1, 'alpha#1 at B');
    expect(atB[0]?.json).toBe(JSON.stringify(s1));
    expect(atB[0]?.snapshot).toEqual(s1);

    a.publish(snapshotOf('alpha', 2));
    await waitUntil(() => atB.length === 2, 'alpha#2 at B');
    b.publish(snapshotOf('beta', 1));
    // beta#1 reached A on the same connection as the echoes of A's own two, after them.
    await waitUntil(() => atA.length === 3, 'beta#1 at A');
    expect(ids(atA)).toEqual(['alpha#1', 'alpha#2', 'beta#1']);
    expect(ids(atB)).toEqual(['alpha#1', 'alpha#2', 'beta#1']);
    expect(a.stats()).toMatchObject({ published: 2, received: 1, invalid: 0 });
  });

  it('keeps the latest per host under a TTL, so a process started later serves it at once', async () => {
    const ns = namespace();
    const a = makeBus(ns);
    await a.ready();
    a.publish(snapshotOf('gamma', 5));
    await waitUntil(() => a.stats().published === 1, 'the publish to complete');
    const raw = new Redis(TEST_REDIS_URL);
    try {
      const ttl = await raw.ttl(`${ns.keyPrefix}gamma`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30);
    } finally {
      raw.disconnect();
    }
    const later = makeBus(ns);
    await later.ready();
    expect((await later.latest()).map((m) => `${m.snapshot.host}#${m.snapshot.seq}`)).toEqual([
      'gamma#5',
    ]);
    // Memory and Redis merged, newest per host.
    later.publish(snapshotOf('gamma', 6));
    later.publish(snapshotOf('delta', 1));
    expect(ids(await later.latest()).sort()).toEqual(['delta#1', 'gamma#6']);
  });

  it('keeps deployments with different prefixes apart on one Redis: neither sees the other’s hosts', async () => {
    const id = uniqueRedisNamespace().keyPrefix;
    const deployment = (prefix: string) => {
      namespaces.push(`${prefix}latest:`);
      const bus = createRedisBus({
        ...createBusClients(),
        prefix,
        logger: createLogger({ level: 'silent' }),
      });
      buses.push(bus);
      return bus;
    };
    const siteA = [deployment(`${id}site-a:`), deployment(`${id}site-a:`)];
    const siteB = deployment(`${id}site-b:`);
    await Promise.all([...siteA, siteB].map((bus) => bus.ready()));
    const atA = record(siteA[1]!);
    const atB = record(siteB);

    siteA[0]!.publish(snapshotOf('host-a', 1));
    siteB.publish(snapshotOf('host-b', 1));
    // The same deployment's other replica sees A's host; B's snapshot, sent after, never came.
    await waitUntil(() => atA.length === 1, 'host-a#1 at the second site-a bus');
    await waitUntil(() => siteB.stats().published === 1, 'the site-b publish to complete');
    const probe = makeBus(namespace());
    await probe.ready();
    probe.publish(snapshotOf('marker', 1));
    await waitUntil(() => probe.stats().published === 1, 'a later publish elsewhere');
    expect(ids(atA)).toEqual(['host-a#1']);
    // Its own, delivered locally; site A's never.
    expect(ids(atB)).toEqual(['host-b#1']);
    // A replica started later answers with its own deployment's hosts only.
    const lateA = deployment(`${id}site-a:`);
    const lateB = deployment(`${id}site-b:`);
    await Promise.all([lateA.ready(), lateB.ready()]);
    expect(ids(await lateA.latest())).toEqual(['host-a#1']);
    expect(ids(await lateB.latest())).toEqual(['host-b#1']);
  });

  it('publishes without a subscriber (an agent): up, delivers to others, receives nothing', async () => {
    const ns = namespace();
    const listener = makeBus(ns);
    const { publisher } = createBusClients();
    const agent = createRedisBus({
      publisher,
      ...ns,
      logger: createLogger({ level: 'silent' }),
    });
    buses.push(agent);
    await Promise.all([listener.ready(), agent.ready()]);
    expect(agent.status()).toBe('up');
    const atListener = record(listener);
    const atAgent = record(agent);
    agent.publish(snapshotOf('agent-host', 1));
    await waitUntil(() => atListener.length === 1, 'agent-host#1 at the listener');
    listener.publish(snapshotOf('dash', 1));
    await waitUntil(() => listener.stats().published === 1, 'the listener to publish');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Its own snapshot locally, never the other host's.
    expect(ids(atAgent)).toEqual(['agent-host#1']);
    expect(agent.stats()).toMatchObject({ published: 1, received: 0 });
  });

  it('skips what is not a valid envelope on the channel, and goes on', async () => {
    const ns = namespace();
    const { logger, lines } = memoryLogger();
    const a = makeBus(ns);
    const b = makeBus(ns, { logger });
    await Promise.all([a.ready(), b.ready()]);
    const atB = record(b);
    const raw = new Redis(TEST_REDIS_URL);
    try {
      for (const text of [
        'garbage',
        'livestat/1 0123456789abcdef\n{not json',
        'livestat/1 0123456789abcdef\n{"type":"snapshot","seq":1}',
        'livestat/1 0123456789abcdef\n[1,2,3]',
        'other/9 0123456789abcdef\n{}',
      ]) {
        await raw.publish(ns.channel, text);
      }
    } finally {
      raw.disconnect();
    }
    a.publish(snapshotOf('valid', 1));
    await waitUntil(() => atB.length === 1, 'the valid message');
    expect(ids(atB)).toEqual(['valid#1']);
    expect(b.stats().invalid).toBe(5);
    expect(lines.filter((l) => l.includes('invalid message from redis'))).toHaveLength(5);
  });

  it('rides out an outage: local delivery goes on, nothing queues, one log line, then resumes by itself', async () => {
    const ns = namespace();
    const target = new URL(TEST_REDIS_URL);
    const proxy = await startTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    });
    const { logger, lines } = memoryLogger();
    const a = makeBus(ns);
    const b = makeBus(ns, { url: proxy.url(TEST_REDIS_URL), logger });
    try {
      await Promise.all([a.ready(), b.ready()]);
      const atA = record(a);
      const atB = record(b);

      await proxy.down();
      await waitUntil(() => b.status() === 'down', 'B to see Redis down');
      for (let seq = 1; seq <= 50; seq++) b.publish(snapshotOf('outage', seq));
      expect(atB).toHaveLength(50);
      expect(b.stats().publishFailures).toBe(50);
      expect(lines.filter((l) => l.includes('redis publish failing'))).toHaveLength(1);

      await proxy.up();
      // Cross-process delivery comes back without anyone re-subscribing: both directions.
      let seq = 0;
      await waitUntil(() => {
        a.publish(snapshotOf('from-a', ++seq));
        return atB.some((m) => m.snapshot.host === 'from-a');
      }, 'A → B after the outage');
      await waitUntil(() => {
        b.publish(snapshotOf('from-b', ++seq));
        return atA.some((m) => m.snapshot.host === 'from-b');
      }, 'B → A after the outage');
      // What B published while Redis was away was not queued and replayed.
      expect(atA.filter((m) => m.snapshot.host === 'outage')).toEqual([]);
      expect(b.status()).toBe('up');
      await waitUntil(() => lines.some((l) => l.includes('redis publish resumed')), 'the log');
      expect(lines.filter((l) => l.includes('redis publish failing'))).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('re-subscribes by itself when Redis drops the subscriber connection (CLIENT KILL)', async () => {
    const ns = namespace();
    const clients = createBusClients();
    // Asked before the bus subscribes: a subscribed connection cannot run CLIENT ID.
    const id = await clients.subscriber.client('ID');
    const b = createRedisBus({ ...clients, ...ns, logger: createLogger({ level: 'silent' }) });
    buses.push(b);
    const a = makeBus(ns);
    await Promise.all([a.ready(), b.ready()]);
    const atB = record(b);
    const raw = new Redis(TEST_REDIS_URL);
    try {
      expect(await raw.client('KILL', 'ID', String(id))).toBe(1);
    } finally {
      raw.disconnect();
    }
    let seq = 0;
    await waitUntil(() => {
      a.publish(snapshotOf('after-kill', ++seq));
      return atB.length > 0;
    }, 'a snapshot through the restored subscription');
    expect(atB.every((m) => m.snapshot.host === 'after-kill')).toBe(true);
  });

  it('close() quits both clients', async () => {
    const clients = createBusClients();
    const bus = createRedisBus({
      ...clients,
      ...namespace(),
      logger: createLogger({ level: 'silent' }),
    });
    await bus.ready();
    await bus.close();
    expect([clients.publisher.status, clients.subscriber.status]).toEqual(['end', 'end']);
    bus.publish(snapshotOf('after-close', 1));
    expect(bus.status()).toBe('down');
  });
});

describeRedis('stream servers sharing one Redis', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
  }, 60_000);
  afterAll(async () => {
    await database.drop();
    for (const prefix of namespaces) await deleteKeys(prefix);
  });

  const isSnapshotOf = (host: string, seq: number) => (m: { type: string }) =>
    m.type === 'snapshot' && (m as Snapshot).host === host && (m as Snapshot).seq === seq;

  it("a client on B receives A's snapshots, and any replica serves A's latest at once", async () => {
    const ns = namespace();
    const busA = createRedisBus({
      ...createBusClients(),
      ...ns,
      logger: createLogger({ level: 'silent' }),
    });
    const busB = createRedisBus({
      ...createBusClients(),
      ...ns,
      logger: createLogger({ level: 'silent' }),
    });
    await Promise.all([busA.ready(), busB.ready()]);
    const a = await startStreamHarness({ database, bus: busA });
    const b = await startStreamHarness({ database, bus: busB });
    try {
      const { token } = await a.login('replica-user');
      busA.publish(snapshotOf('host-a', 1));
      const onB = await openClient(b.url(token));
      await onB.waitFor(isSnapshotOf('host-a', 1), 'A’s latest, at once, on B');
      busA.publish(snapshotOf('host-a', 2));
      await onB.waitFor(isSnapshotOf('host-a', 2), 'A’s next snapshot on B');

      // A replica started after A published still has it, from Redis's latest key.
      const busC = createRedisBus({
        ...createBusClients(),
        ...ns,
        logger: createLogger({ level: 'silent' }),
      });
      const c = await startStreamHarness({ database, bus: busC });
      try {
        const onC = await openClient(c.url(token));
        await onC.waitFor(isSnapshotOf('host-a', 2), 'A’s latest on C');
        expect(onC.snapshots().map((s) => `${s.host}#${s.seq}`)).toEqual(['host-a#2']);
      } finally {
        await c.close();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('through an outage of B’s Redis: B’s local clients still get B’s snapshots, and A’s come back by themselves', async () => {
    const ns = namespace();
    const target = new URL(TEST_REDIS_URL);
    const proxy = await startTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    });
    const busA = createRedisBus({
      ...createBusClients(),
      ...ns,
      logger: createLogger({ level: 'silent' }),
    });
    const busB = createRedisBus({
      ...createBusClients(proxy.url(TEST_REDIS_URL)),
      ...ns,
      logger: createLogger({ level: 'silent' }),
    });
    await Promise.all([busA.ready(), busB.ready()]);
    const a = await startStreamHarness({ database, bus: busA });
    const b = await startStreamHarness({ database, bus: busB });
    try {
      const { token } = await b.login('outage-user');
      const onB = await openClient(b.url(token));
      await onB.waitFor((m) => m.type === 'hosts', 'hosts');

      await proxy.down();
      await waitUntil(() => busB.status() === 'down', 'B to see Redis down');
      busB.publish(snapshotOf('host-b', 1));
      await onB.waitFor(isSnapshotOf('host-b', 1), 'B’s own snapshot during the outage');

      await proxy.up();
      let seq = 0;
      await waitUntil(() => {
        busA.publish(snapshotOf('host-a', ++seq));
        return onB.snapshots('host-a').length > 0;
      }, 'A’s snapshots on B after the outage');
      expect(onB.snapshots('host-a').every((s) => s.seq <= seq)).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await proxy.close();
    }
  });
});
