import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../test/databases.js';
import {
  deleteKeys,
  describeRedis,
  TEST_REDIS_URL,
  uniqueRedisNamespace,
} from '../../test/redis.js';
import { createRequireAuth } from '../auth/require-auth.js';
import { createTokenService } from '../auth/tokens.js';
import { REDIS_PUBLISHER_OPTIONS } from '../stream/redis-bus.js';
import { createUserStore, type UserStore } from '../storage/users.js';
import { createAuthRouter } from './auth-routes.js';
import { HttpError } from './errors.js';
import { createSharedLoginStore, type SharedLoginStore } from './login-limit-store.js';

const SECRET = 'login-limit-store-test-secret-long-enough';

const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  res.status(err instanceof HttpError ? err.status : 500).json({ error: (err as Error).message });
};

describeRedis('the login limit shared over Redis', () => {
  let test: TestDatabase;
  let users: UserStore;
  const servers: Server[] = [];
  const stores: SharedLoginStore[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    users = createUserStore(test.db);
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    for (const store of stores) await store.close();
    for (const prefix of prefixes) await deleteKeys(prefix);
    await test.drop();
  });

  /** A replica: the auth routes with the shared store on `prefix`, at Redis `url`. */
  async function replica(prefix: string, url = TEST_REDIS_URL): Promise<string> {
    const store = createSharedLoginStore({
      redis: new Redis(url, REDIS_PUBLISHER_OPTIONS),
      prefix,
      logger: silentLogger,
    });
    stores.push(store);
    const app = express();
    app.use(express.json());
    app.use(
      '/api',
      createAuthRouter({
        users,
        tokens: createTokenService({ secret: SECRET, ttlSeconds: 60 }),
        requireAuth: createRequireAuth({ secret: SECRET, users }),
        loginRateLimit: { windowMs: 60_000, limit: 3 },
        loginLimitStore: store,
      }),
    );
    app.use(onError);
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/auth/login`;
  }

  const fail = async (url: string) =>
    (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nobody', password: 'guess-guess' }),
      })
    ).status;

  it('counts one client’s failures on every replica: the limit holds whichever one it reaches', async () => {
    const prefix = `${uniqueRedisNamespace().keyPrefix}login:`;
    prefixes.push(prefix);
    const [a, b] = [await replica(prefix), await replica(prefix)];
    const statuses = [await fail(a), await fail(b), await fail(a), await fail(b), await fail(a)];
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Another deployment on the same Redis (another prefix) keeps its own count.
    const other = `${uniqueRedisNamespace().keyPrefix}login:`;
    prefixes.push(other);
    expect(await fail(await replica(other))).toBe(401);
  });

  it('still limits, in its own memory, while Redis cannot be reached', async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    const lonely = await replica('unreachable:login:', 'redis://127.0.0.1:1');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await fail(lonely));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
