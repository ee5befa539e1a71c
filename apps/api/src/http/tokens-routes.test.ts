import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  API_TOKEN_PATTERN,
  apiTokensResponse,
  createApiTokenResponse,
  type HealthResponse,
} from '@livestat/contracts';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { createRequireAuth } from '../auth/require-auth.js';
import { createTokenService } from '../auth/tokens.js';
import { createTokenStore, type TokenStore } from '../tokens/token-store.js';
import { createUserStore } from '../storage/users.js';
import { createApp } from './app.js';
import { createTokensRouter } from './tokens-routes.js';

const SECRET = 'tokens-routes-test-secret-of-enough-length';
const health: HealthResponse = {
  status: 'ok',
  version: '0.1.0',
  host: 'tokens-test',
  uptimeSeconds: 1,
  database: 'up',
  redis: 'not_configured',
  websocketConnections: 0,
  sampler: { seq: 0, lastSnapshotAt: null },
};

describeEachBackend('API token admin routes over HTTP', (backend) => {
  let database: TestDatabase;
  let apiTokens: TokenStore;
  let server: Server;
  let base = '';
  let adminToken = '';
  let viewerToken = '';
  const logs: string[] = [];

  async function call(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    const users = createUserStore(database.db);
    apiTokens = createTokenStore(database.db);
    const jwt = createTokenService({ secret: SECRET, ttlSeconds: 600 });
    adminToken = jwt.issue(
      await users.create({ username: 'root', passwordHash: 'x', role: 'admin' }),
    ).token;
    viewerToken = jwt.issue(
      await users.create({ username: 'eve', passwordHash: 'x', role: 'viewer' }),
    ).token;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const logger = pino({}, sink);
    server = createApp({
      logger,
      health: () => health,
      routers: [
        createTokensRouter({
          apiTokens,
          logger,
          guards: [createRequireAuth({ secret: SECRET, users })],
        }),
      ],
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await database?.drop();
  });

  beforeEach(async () => {
    await database.db.exec('DELETE FROM api_tokens');
    logs.length = 0;
  });

  it('creates a token shown once, lists it without the secret, and revokes it', async () => {
    const created = await call('POST', '/api/tokens', adminToken, { name: 'queue-worker' });
    expect(created.status).toBe(201);
    const { token, info } = createApiTokenResponse.parse(created.body);
    expect(token).toMatch(API_TOKEN_PATTERN);
    expect(info).toMatchObject({
      name: 'queue-worker',
      scope: 'ingest',
      prefix: token.slice(0, 8),
      createdBy: 'root',
      lastUsedAt: null,
      revokedAt: null,
    });
    expect((await apiTokens.check(token, 'ingest')).ok).toBe(true);

    const listed = await call('GET', '/api/tokens', adminToken);
    expect(apiTokensResponse.parse(listed.body).tokens.map((t) => t.name)).toEqual([
      'queue-worker',
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(token);

    expect((await call('DELETE', `/api/tokens/${info.id}`, adminToken)).status).toBe(204);
    expect(await apiTokens.check(token, 'ingest')).toEqual({ ok: false, reason: 'revoked' });
    const after = apiTokensResponse.parse((await call('GET', '/api/tokens', adminToken)).body);
    expect(after.tokens[0]?.revokedAt).not.toBeNull();

    const audit = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit.map((line) => line.audit)).toEqual(['token.create', 'token.revoke']);
    expect(audit[0]).toMatchObject({
      actor: 'root',
      target: { id: info.id, name: 'queue-worker' },
    });
    expect(logs.join('')).not.toContain(token);
  });

  it('answers 400 naming the field, and 404 for a token that is not there', async () => {
    expect(await call('POST', '/api/tokens', adminToken, { name: '  ' })).toEqual({
      status: 400,
      body: { error: 'name: must not be empty' },
    });
    const scope = await call('POST', '/api/tokens', adminToken, { name: 'x', scope: 'admin' });
    expect(scope).toEqual({ status: 400, body: { error: "scope: must be 'ingest'" } });
    expect((await call('DELETE', '/api/tokens/abc', adminToken)).status).toBe(400);
    expect(await call('DELETE', '/api/tokens/987654', adminToken)).toEqual({
      status: 404,
      body: { error: 'no token with id 987654' },
    });
  });

  describe('a viewer', () => {
    it.each([
      ['GET', '/api/tokens', undefined],
      ['POST', '/api/tokens', { name: 'sneaky' }],
      ['DELETE', '/api/tokens/ID', undefined],
    ] as const)('%s %s → 403, and nothing changes', async (method, path, body) => {
      const { info } = await apiTokens.create({ name: 'kept', scope: 'ingest', createdBy: null });
      const res = await call(method, path.replace('ID', String(info.id)), viewerToken, body);
      expect(res).toEqual({ status: 403, body: { error: 'requires the admin role' } });
      expect((await apiTokens.list()).map((t) => [t.name, t.revokedAt])).toEqual([['kept', null]]);
      expect(logs).toEqual([]);
    });
  });
});
