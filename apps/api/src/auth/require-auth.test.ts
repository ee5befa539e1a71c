import { createHmac, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicUser } from '@livestat/contracts';
import express, { type ErrorRequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { HttpError } from '../http/errors.js';
import { createUserStore, type UserStore } from '../storage/users.js';
import { createRequireAuth, requireRole } from './require-auth.js';
import { createTokenService } from './tokens.js';

const SECRET = 'require-auth-test-secret-long-enough-000';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sign = (payload: object, options: jwt.SignOptions = {}) =>
  jwt.sign(payload, SECRET, { algorithm: 'HS256', ...options });

// The app's error handler in miniature: HttpError → its status and `{error}`.
const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  if (err instanceof HttpError) res.status(err.status).json({ error: err.message });
  else res.status(500).json({ error: 'internal error' });
};

describeEachBackend('requireAuth (passport-jwt) over HTTP', (backend) => {
  let test: TestDatabase;
  let users: UserStore;
  let server: Server;
  let base = '';
  let viewer: PublicUser;
  let admin: PublicUser;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    users = createUserStore(test.db);
    viewer = await users.create({ username: 'vera', passwordHash: 'h', role: 'viewer' });
    admin = await users.create({ username: 'ada', passwordHash: 'h', role: 'admin' });
    const requireAuth = createRequireAuth({ secret: SECRET, users });
    const app = express();
    app.get('/api/private', requireAuth, (req, res) => {
      res.json({ user: req.user });
    });
    app.get('/api/admin-only', requireAuth, requireRole('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/api/unguarded-role', requireRole('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    app.use(onError);
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await test.drop();
  });

  async function get(path: string, authorization?: string) {
    const res = await fetch(`${base}${path}`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
      challenge: res.headers.get('www-authenticate'),
    };
  }

  const claimsFor = (user: { id: number; username: string; role: string }) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: String(user.id),
      username: user.username,
      role: user.role,
      iat: now,
      exp: now + 600,
    };
  };

  it('lets a valid token through and sets req.user to the stored user', async () => {
    const tokens = createTokenService({ secret: SECRET, ttlSeconds: 600 });
    const res = await get('/api/private', `Bearer ${tokens.issue(viewer).token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: viewer.id, username: 'vera', role: 'viewer' } });
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty Authorization header', ''],
    ['Basic credentials', `Basic ${Buffer.from('vera:pw').toString('base64')}`],
    ['Bearer without a token', 'Bearer '],
  ])('answers 401 authentication required for %s', async (_name, header) => {
    const res = await get('/api/private', header);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'authentication required' });
    expect(res.challenge).toBe('Bearer realm="livestat"');
  });

  it('answers 401 for every token it must not honour', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const good = claimsFor(viewer);
    const { exp: _exp, ...withoutExp } = good;
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...good, exp: String(good.exp) })}`;
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, string][] = [
      ['malformed', 'not.a.jwt', 'invalid token'],
      ['garbage', 'garbage', 'invalid token'],
      ['bad signature', jwt.sign(good, `${SECRET}-other`, { algorithm: 'HS256' }), 'invalid token'],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(good)}.`, 'invalid token'],
      ['HS512, same secret', sign(good, { algorithm: 'HS512' }), 'invalid token'],
      ['RS256', jwt.sign(good, privateKey, { algorithm: 'RS256' }), 'invalid token'],
      ['no exp', sign(withoutExp), 'invalid token'],
      [
        'exp as a string',
        `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`,
        'invalid token',
      ],
      [
        'expired beyond the leeway',
        sign({ ...good, iat: now - 900, exp: now - 120 }),
        'token expired',
      ],
      ['sub as a number', sign({ ...good, sub: viewer.id }), 'invalid token'],
      ['sub of no user', sign({ ...good, sub: String(viewer.id + 1000) }), 'invalid token'],
      ['unknown role', sign({ ...good, role: 'root' }), 'invalid token'],
    ];
    const results = await Promise.all(
      cases.map(async ([name, token]) => {
        const res = await get('/api/private', `Bearer ${token}`);
        return [name, res.status, res.body.error, res.challenge];
      }),
    );
    expect(results).toEqual(
      cases.map(([name, , reason]) => [
        name,
        401,
        reason,
        `Bearer realm="livestat", error="invalid_token", error_description="${reason}"`,
      ]),
    );
  });

  it('accepts a token expired within the 60 s leeway', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = sign({ ...claimsFor(viewer), iat: now - 600, exp: now - 20 });
    expect((await get('/api/private', `Bearer ${token}`)).status).toBe(200);
  });

  it("refuses a deleted user's token that was valid a moment ago", async () => {
    const temp = await users.create({ username: 'temp', passwordHash: 'h', role: 'viewer' });
    const token = sign(claimsFor(temp));
    expect((await get('/api/private', `Bearer ${token}`)).status).toBe(200);
    await users.remove('temp');
    const res = await get('/api/private', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid token' });
  });

  it('uses the role stored now, not the one in the token', async () => {
    const token = sign({ ...claimsFor(viewer), role: 'admin' });
    const res = await get('/api/admin-only', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'requires the admin role' });
  });

  it('requireRole lets the role through, refuses others, and 401s without requireAuth', async () => {
    expect((await get('/api/admin-only', `Bearer ${sign(claimsFor(admin))}`)).body).toEqual({
      ok: true,
    });
    expect((await get('/api/admin-only', `Bearer ${sign(claimsFor(viewer))}`)).status).toBe(403);
    const unguarded = await get('/api/unguarded-role', `Bearer ${sign(claimsFor(admin))}`);
    expect(unguarded.status).toBe(401);
    expect(unguarded.body).toEqual({ error: 'authentication required' });
  });
});
