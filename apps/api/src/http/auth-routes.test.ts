import { once } from 'node:events';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loginResponse, meResponse } from '@livestat/contracts';
import express, { type ErrorRequestHandler } from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { hashPassword } from '../auth/passwords.js';
import { createRequireAuth } from '../auth/require-auth.js';
import { createTokenService, type TokenService } from '../auth/tokens.js';
import { createUserStore, type UserStore } from '../storage/users.js';
import { createApp } from './app.js';
import { createAuthRouter, INVALID_CREDENTIALS } from './auth-routes.js';
import { HttpError } from './errors.js';

const SECRET = 'auth-routes-test-secret-of-enough-length';
const PASSWORD = 'correct horse battery';

// The app's error handler in miniature (app.ts): HttpError and body-parser 4xx → `{error}`.
const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  const status =
    err instanceof HttpError ? err.status : ((err as { status?: number }).status ?? 500);
  res.status(status).json({ error: status >= 500 ? 'internal error' : (err as Error).message });
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One HTTP request from a chosen loopback address, so tests can be two different clients. */
function send(
  base: string,
  method: string,
  path: string,
  options: {
    body?: string;
    token?: string;
    from?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          ...(options.body === undefined
            ? {}
            : { 'content-type': options.contentType ?? 'application/json' }),
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describeEachBackend('auth routes over HTTP', (backend) => {
  let test: TestDatabase;
  let users: UserStore;
  let tokens: TokenService;
  const servers: Server[] = [];

  async function start(loginRateLimit?: { windowMs: number; limit: number }): Promise<string> {
    const app = express();
    app.use(express.json({ limit: '16kb' }));
    const requireAuth = createRequireAuth({ secret: SECRET, users });
    app.use('/api', createAuthRouter({ users, tokens, requireAuth, loginRateLimit }));
    app.use(onError);
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const login = (base: string, body: unknown, from?: string) =>
    send(base, 'POST', '/api/auth/login', { body: JSON.stringify(body), from });

  /** The whole app (createApp), as the API serves it, with TRUST_PROXY as given. */
  async function startApp(trustProxy: string[], limit: number): Promise<string> {
    const requireAuth = createRequireAuth({ secret: SECRET, users });
    const app = createApp({
      logger: silentLogger,
      health: () => {
        throw new Error('not asked');
      },
      routers: [
        createAuthRouter({
          users,
          tokens,
          requireAuth,
          loginRateLimit: { windowMs: 60_000, limit },
        }),
      ],
      trustProxy,
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A failed login from `from` with the given X-Forwarded-For; its status. */
  const failFrom = async (base: string, from: string, forwardedFor: string) =>
    (
      await send(base, 'POST', '/api/auth/login', {
        body: JSON.stringify({ username: 'alice', password: 'guess-guess' }),
        from,
        headers: { 'x-forwarded-for': forwardedFor },
      })
    ).status;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    users = createUserStore(test.db);
    tokens = createTokenService({ secret: SECRET, ttlSeconds: 3600 });
    const passwordHash = await hashPassword(PASSWORD);
    await users.create({ username: 'alice', passwordHash, role: 'admin' });
    await users.create({ username: 'bob', passwordHash, role: 'viewer' });
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await test.drop();
  });

  it('logs in, answering a token that GET /auth/me accepts', async () => {
    const base = await start();
    const before = Date.now();
    const res = await login(base, { username: 'bob', password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = loginResponse.parse(res.body);
    expect(body.user).toEqual({ id: expect.any(Number), username: 'bob', role: 'viewer' });
    const claims = tokens.verify(body.token);
    expect(claims).toMatchObject({ userId: body.user.id, username: 'bob', role: 'viewer' });
    expect(Date.parse(body.expiresAt)).toBe(claims.expiresAtMs);
    // JWT_TTL from the issue time (whole seconds).
    expect(claims.expiresAtMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);

    const me = await send(base, 'GET', '/api/auth/me', { token: body.token });
    expect(me.status).toBe(200);
    expect(meResponse.parse(me.body)).toEqual({ user: body.user });
    expect(me.body).toEqual({ user: body.user });
  });

  it('trims the username as the contract does', async () => {
    const base = await start();
    const res = await login(base, { username: '  alice ', password: PASSWORD });
    expect(res.status).toBe(200);
    expect(loginResponse.parse(res.body).user.username).toBe('alice');
  });

  it('answers an unknown user exactly as a wrong password', async () => {
    const base = await start();
    const wrong = await login(base, { username: 'alice', password: 'not the password' });
    const unknown = await login(base, { username: 'mallory', password: 'not the password' });
    const wrongCase = await login(base, { username: 'Alice', password: PASSWORD });
    for (const res of [wrong, unknown, wrongCase]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: INVALID_CREDENTIALS });
    }
    const shape = (res: Reply) => ({
      type: res.headers['content-type'],
      length: res.headers['content-length'],
      challenge: res.headers['www-authenticate'],
    });
    expect(shape(unknown)).toEqual(shape(wrong));
  });

  it.each([
    [{}, 'username: required; password: required'],
    [{ username: 'alice' }, 'password: required'],
    [{ password: PASSWORD }, 'username: required'],
    [{ username: 5, password: PASSWORD }, 'username: '],
    [{ username: '   ', password: PASSWORD }, 'username: '],
    [{ username: 'alice', password: '' }, 'password: '],
    [{ username: 'alice', password: 'x'.repeat(1025) }, 'password: '],
    [{ username: 'u'.repeat(65), password: PASSWORD }, 'username: '],
    [['alice', PASSWORD], 'body must be a JSON object with username and password'],
  ])('answers 400 naming the field for %j', async (body, message) => {
    const base = await start();
    const res = await login(base, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(message);
    expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
  });

  it('answers 400 for a body that is not JSON, or no body at all', async () => {
    const base = await start();
    const broken = await send(base, 'POST', '/api/auth/login', { body: '{"username":' });
    expect(broken.status).toBe(400);
    expect(typeof broken.body.error).toBe('string');
    const none = await send(base, 'POST', '/api/auth/login');
    expect(none).toMatchObject({
      status: 400,
      body: { error: 'body must be a JSON object with username and password' },
    });
    const form = await send(base, 'POST', '/api/auth/login', {
      body: `username=alice&password=${PASSWORD}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(400);
  });

  it('answers 429 after the limit of failed attempts from one IP, and only from that IP', async () => {
    const base = await start({ windowMs: 60_000, limit: 3 });
    const bad = { username: 'alice', password: 'guess-guess' };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await login(base, bad)).status);
    expect(statuses).toEqual([401, 401, 401]);

    const limited = await login(base, bad);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: 'too many login attempts; try again later' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits: the limiter is in front of the check.
    expect((await login(base, { username: 'alice', password: PASSWORD })).status).toBe(429);

    // Another client address has its own budget.
    const other = await login(base, { username: 'alice', password: PASSWORD }, '127.0.0.2');
    expect(other.status).toBe(200);
  });

  it('keys the limit on the client address when that client forges X-Forwarded-For', async () => {
    // 127.0.0.1 is the one proxy named; 127.0.0.2 talks to the API directly.
    const base = await startApp(['127.0.0.1'], 3);
    const statuses = [];
    for (let i = 1; i <= 4; i++)
      statuses.push(await failFrom(base, '127.0.0.2', `198.51.100.${i}`));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('gives each client a trusted proxy forwards its own bucket', async () => {
    const base = await startApp(['127.0.0.1'], 2);
    const first = [];
    for (let i = 0; i < 3; i++) first.push(await failFrom(base, '127.0.0.1', '203.0.113.1'));
    expect(first).toEqual([401, 401, 429]);
    // Another client behind the same proxy still has its budget.
    expect(await failFrom(base, '127.0.0.1', '203.0.113.2')).toBe(401);
    // The proxy appends the address it saw: what the client put before it changes nothing.
    expect(await failFrom(base, '127.0.0.1', '192.0.2.9, 203.0.113.1')).toBe(429);
  });

  it('believes a network name (loopback, uniquelocal) for the peer only, not for the hop it forwards', async () => {
    // As nginx on a private network forwarding a client of that same network: the client
    // (127.0.0.5 here) is in the trusted range too, yet what it forged must not become its key.
    const base = await startApp(['loopback'], 3);
    const statuses = [];
    for (let i = 1; i <= 4; i++) {
      statuses.push(await failFrom(base, '127.0.0.1', `198.51.100.${i}, 127.0.0.5`));
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(await failFrom(base, '127.0.0.1', '127.0.0.6')).toBe(401);
  });

  it('does not count successful logins against the limit', async () => {
    const base = await start({ windowMs: 60_000, limit: 2 });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await login(base, { username: 'bob', password: PASSWORD })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('GET /auth/me refuses a missing or bad token and a deleted user', async () => {
    const base = await start();
    expect(await send(base, 'GET', '/api/auth/me')).toMatchObject({
      status: 401,
      body: { error: 'authentication required' },
    });
    expect(await send(base, 'GET', '/api/auth/me', { token: 'nope' })).toMatchObject({
      status: 401,
      body: { error: 'invalid token' },
    });

    await users.create({
      username: 'short-lived',
      passwordHash: await hashPassword(PASSWORD),
      role: 'viewer',
    });
    const res = await login(base, { username: 'short-lived', password: PASSWORD });
    const { token } = loginResponse.parse(res.body);
    expect((await send(base, 'GET', '/api/auth/me', { token })).status).toBe(200);
    await users.remove('short-lived');
    expect(await send(base, 'GET', '/api/auth/me', { token })).toMatchObject({
      status: 401,
      body: { error: 'invalid token' },
    });
  });

  const refresh = (base: string, token?: string) =>
    send(base, 'POST', '/api/auth/refresh', { token });
  /** A token for `user` as if issued `agoMs` ago by a service with `ttlSeconds`. */
  const issuedAgo = (
    user: { id: number; username: string; role: 'admin' | 'viewer' },
    agoMs: number,
    ttlSeconds = 3600,
    secret = SECRET,
  ) => createTokenService({ secret, ttlSeconds, now: () => Date.now() - agoMs }).issue(user).token;

  it('POST /auth/refresh answers a new token, as login does, that expires JWT_TTL from now', async () => {
    const base = await start();
    const bob = (await users.findByUsername('bob'))!;
    const user = { id: bob.id, username: 'bob', role: 'viewer' } as const;
    // Issued ten minutes ago: it runs out 50 minutes from now, the refreshed one in 60.
    const old = issuedAgo(user, 600_000);
    const oldExpiry = tokens.verify(old).expiresAtMs;

    const before = Date.now();
    const res = await refresh(base, old);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = loginResponse.parse(res.body);
    expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'token', 'user']);
    expect(body.user).toEqual(user);
    expect(body.token).not.toBe(old);
    const claims = tokens.verify(body.token);
    expect(claims).toMatchObject({ userId: bob.id, username: 'bob', role: 'viewer' });
    expect(Date.parse(body.expiresAt)).toBe(claims.expiresAtMs);
    expect(claims.expiresAtMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);
    expect(claims.expiresAtMs).toBeGreaterThan(oldExpiry);

    const me = await send(base, 'GET', '/api/auth/me', { token: body.token });
    expect(me).toMatchObject({ status: 200, body: { user } });
    // The refreshed token refreshes in turn: the session slides for as long as it is renewed.
    const again = await refresh(base, body.token);
    expect(again.status).toBe(200);
    expect(loginResponse.parse(again.body).user).toEqual(user);
  });

  it('POST /auth/refresh refuses a missing, bad, foreign or expired token', async () => {
    const base = await start();
    const bob = (await users.findByUsername('bob'))!;
    const user = { id: bob.id, username: 'bob', role: 'viewer' } as const;
    expect(await refresh(base)).toMatchObject({
      status: 401,
      body: { error: 'authentication required' },
    });
    expect(await refresh(base, 'nope')).toMatchObject({
      status: 401,
      body: { error: 'invalid token' },
    });
    const foreign = issuedAgo(user, 0, 3600, 'another-secret-of-at-least-32-bytes!!');
    expect(await refresh(base, foreign)).toMatchObject({
      status: 401,
      body: { error: 'invalid token' },
    });
    // Ran out an hour ago: far beyond the 60 s leeway, so it cannot be renewed.
    const expired = await refresh(base, issuedAgo(user, 7_200_000));
    expect(expired).toMatchObject({ status: 401, body: { error: 'token expired' } });
    expect(expired.headers['www-authenticate']).toContain('error_description="token expired"');
  });

  it('POST /auth/refresh renews a token just past its exp, within the guard leeway', async () => {
    const base = await start();
    const bob = (await users.findByUsername('bob'))!;
    // exp was 30 s ago; the guard, as every token check, allows 60 s of clock leeway.
    const late = issuedAgo({ id: bob.id, username: 'bob', role: 'viewer' }, 3_630_000);
    const res = await refresh(base, late);
    expect(res.status).toBe(200);
    expect(tokens.verify(loginResponse.parse(res.body).token).expiresAtMs).toBeGreaterThan(
      Date.now(),
    );
  });

  it('POST /auth/refresh refuses a deleted user and answers the current role', async () => {
    const base = await start();
    const carol = await users.create({
      username: 'carol',
      passwordHash: await hashPassword(PASSWORD),
      role: 'viewer',
    });
    const token = issuedAgo(carol, 0);
    await test.db.query("UPDATE users SET role = 'admin' WHERE id = $1", [carol.id]);
    const res = await refresh(base, token);
    expect(res.status).toBe(200);
    const body = loginResponse.parse(res.body);
    expect(body.user).toEqual({ id: carol.id, username: 'carol', role: 'admin' });
    expect(tokens.verify(body.token).role).toBe('admin');

    await users.remove('carol');
    for (const stale of [token, body.token]) {
      expect(await refresh(base, stale)).toMatchObject({
        status: 401,
        body: { error: 'invalid token' },
      });
    }
  });

  it('refuses a nonsensical rate limit', () => {
    const requireAuth = createRequireAuth({ secret: SECRET, users });
    expect(() =>
      createAuthRouter({ users, tokens, requireAuth, loginRateLimit: { windowMs: 0, limit: 5 } }),
    ).toThrow(/windowMs/);
    expect(() =>
      createAuthRouter({
        users,
        tokens,
        requireAuth,
        loginRateLimit: { windowMs: 60_000, limit: 0 },
      }),
    ).toThrow(/limit/);
  });
});
