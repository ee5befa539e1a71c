import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../test/databases.js';
import { describeRedis, TEST_REDIS_URL, uniqueRedisNamespace } from '../../test/redis.js';
import { REDIS_PUBLISHER_OPTIONS } from '../stream/redis-bus.js';
import type { TokenClaims } from './tokens.js';
import {
  createMemoryTicketStore,
  createRedisTicketStore,
  WS_TICKET_TTL_MS,
  type TicketStore,
} from './ws-tickets.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const alice: TokenClaims = {
  userId: 1,
  username: 'alice',
  role: 'admin',
  expiresAtMs: T0 + 3600e3,
};
const bob: TokenClaims = { userId: 2, username: 'bob', role: 'viewer', expiresAtMs: T0 + 600e3 };

describe('memory ticket store', () => {
  it('opens once: the claims it was issued for, then nothing', async () => {
    const store = createMemoryTicketStore({ now: () => T0 });
    const { ticket, expiresAt } = await store.issue(alice);
    expect(ticket).toMatch(/^[\w-]{43}$/);
    expect(Date.parse(expiresAt)).toBe(T0 + WS_TICKET_TTL_MS);
    expect(await store.redeem(ticket)).toEqual(alice);
    expect(await store.redeem(ticket)).toBeNull();
  });

  it('binds each ticket to its own user, and knows no ticket it did not issue', async () => {
    const store = createMemoryTicketStore({ now: () => T0 });
    const forAlice = await store.issue(alice);
    const forBob = await store.issue(bob);
    expect(forAlice.ticket).not.toBe(forBob.ticket);
    expect(await store.redeem(forBob.ticket)).toEqual(bob);
    expect(await store.redeem(forAlice.ticket)).toEqual(alice);
    expect(await store.redeem('made-up-ticket-of-a-plausible-length-000000')).toBeNull();
  });

  it('refuses a ticket once its 30 s are up', async () => {
    let now = T0;
    const store = createMemoryTicketStore({ now: () => now });
    const early = await store.issue(alice);
    const late = await store.issue(alice);
    now = T0 + WS_TICKET_TTL_MS - 1;
    expect(await store.redeem(early.ticket)).toEqual(alice);
    now = T0 + WS_TICKET_TTL_MS;
    expect(await store.redeem(late.ticket)).toBeNull();
  });

  it('keeps a user asking in a loop to their own few tickets, leaving others theirs', async () => {
    const store = createMemoryTicketStore({ now: () => T0, maxPerUser: 3, maxTickets: 5 });
    const bobs = await store.issue(bob);
    const alices = [];
    for (let i = 0; i < 10; i += 1) alices.push(await store.issue(alice));
    // Only alice's newest three still open; bob's ticket was never pushed out by hers.
    const opened = [];
    for (const { ticket } of alices) opened.push((await store.redeem(ticket)) !== null);
    expect(opened).toEqual([...Array(7).fill(false), true, true, true]);
    expect(await store.redeem(bobs.ticket)).toEqual(bob);
  });

  it('refuses a lifetime beyond 30 s', () => {
    expect(() => createMemoryTicketStore({ ttlMs: 60_000 })).toThrow(/ttlMs/);
  });
});

/** A client as the API makes it (no offline queue), once it is connected. */
async function connectedClient(): Promise<Redis> {
  const redis = new Redis(TEST_REDIS_URL, REDIS_PUBLISHER_OPTIONS);
  if (redis.status !== 'ready') await once(redis, 'ready');
  return redis;
}

describeRedis('Redis ticket store: one ticket, any replica, once', () => {
  let clients: Redis[] = [];
  let replicaA: TicketStore;
  let replicaB: TicketStore;
  let keyPrefix: string;

  beforeAll(async () => {
    keyPrefix = `${uniqueRedisNamespace().keyPrefix}ticket:`;
    // Two stores on two connections: what two API processes behind nginx have.
    const make = async () => {
      const redis = await connectedClient();
      clients.push(redis);
      return createRedisTicketStore({ redis, logger: silentLogger, keyPrefix });
    };
    replicaA = await make();
    replicaB = await make();
  });
  afterAll(async () => {
    await Promise.all([replicaA.close(), replicaB.close()]);
    clients = [];
  });

  it('opens on another replica than the one that issued it, and only once', async () => {
    const { ticket } = await replicaA.issue(alice);
    expect(await replicaB.redeem(ticket)).toEqual(alice);
    expect(await replicaA.redeem(ticket)).toBeNull();
    expect(await replicaB.redeem(ticket)).toBeNull();
  });

  it('gives a ticket raced by two replicas to exactly one of them', async () => {
    for (let i = 0; i < 20; i += 1) {
      const { ticket } = await replicaA.issue(bob);
      const answers = await Promise.all([replicaA.redeem(ticket), replicaB.redeem(ticket)]);
      expect(answers.filter((claims) => claims !== null)).toEqual([bob]);
    }
  });

  it('keeps only a hash of the ticket in Redis, and lets Redis expire it', async () => {
    const { ticket } = await replicaA.issue(alice);
    const probe = clients[0]!;
    const keys = await probe.keys(`${keyPrefix}*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(ticket);
    const ttl = await probe.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WS_TICKET_TTL_MS);
    expect(await replicaB.redeem(ticket)).toEqual(alice);
  });

  it('refuses a ticket past its time even while Redis still holds it', async () => {
    let now = Date.now();
    const redis = await connectedClient();
    const store = createRedisTicketStore({
      redis,
      logger: silentLogger,
      keyPrefix,
      now: () => now,
    });
    try {
      const { ticket } = await store.issue(alice);
      now += WS_TICKET_TTL_MS;
      expect(await store.redeem(ticket)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
