import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { describe } from 'vitest';
import { REDIS_PUBLISHER_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from '../src/stream/redis-bus.js';
import { recordSkip } from './skips.js';

// Tests of the Redis bus run against the real Redis at TEST_REDIS_URL. When it does not
// answer they are skipped by name, loudly; REQUIRE_SERVICES=1 (CI) turns the skip into a
// failure — the same pattern as databases.ts for PostgreSQL.

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

async function probeRedis(): Promise<string | null> {
  const client = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // connect() only says "Connection is closed."; the 'error' event says why (ECONNREFUSED…).
  let cause: string | undefined;
  client.on('error', (err: Error) => (cause ??= err.message));
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    return cause ?? (err as Error).message;
  } finally {
    client.disconnect();
  }
}

const redisProblem = await probeRedis();

/**
 * Declares a suite that needs the real Redis at TEST_REDIS_URL: skipped with the reason in its
 * title and on stderr when Redis does not answer, and failing under REQUIRE_SERVICES=1.
 */
export function describeRedis(title: string, suite: () => void): void {
  if (redisProblem === null || REQUIRE_SERVICES) {
    describe(title, () => {
      if (redisProblem !== null) {
        throw new Error(
          `REQUIRE_SERVICES=1 but Redis at TEST_REDIS_URL is unreachable: ${redisProblem}`,
        );
      }
      suite();
    });
    return;
  }
  process.stderr.write(
    `\n!!! SKIPPED "${title}": Redis at TEST_REDIS_URL is unreachable (${redisProblem})\n`,
  );
  recordSkip(title, `Redis at TEST_REDIS_URL is unreachable (${redisProblem})`);
  describe.skip(`${title} — SKIPPED: Redis unreachable (${redisProblem})`, suite);
}

/** A channel and key prefix no other test uses, so tests never see each other's snapshots. */
export function uniqueRedisNamespace(): { channel: string; keyPrefix: string } {
  const id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  return { channel: `livestat-test:${id}:snapshots`, keyPrefix: `livestat-test:${id}:latest:` };
}

/**
 * A publisher and a subscriber client with the options `src/roles/bus.ts` uses, at `url` (default
 * TEST_REDIS_URL; pass a TCP proxy's URL to take Redis away).
 */
export function createBusClients(
  url: string = TEST_REDIS_URL,
  extra: RedisOptions = {},
): { publisher: Redis; subscriber: Redis } {
  return {
    publisher: new Redis(url, { ...REDIS_PUBLISHER_OPTIONS, ...extra }),
    subscriber: new Redis(url, { ...REDIS_SUBSCRIBER_OPTIONS, ...extra }),
  };
}

/** Deletes every key under `prefix` (a test's namespace) with a throwaway connection. */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = new Redis(TEST_REDIS_URL);
  client.on('error', () => undefined);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}
