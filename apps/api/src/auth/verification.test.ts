import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicUser } from '@livestat/contracts';
import express, { type ErrorRequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/databases.js';
import { HttpError } from '../http/errors.js';
import { createUserStore } from '../storage/users.js';
import { createAuthenticator, type Authenticate } from './authenticator.js';
import { createRequireAuth } from './require-auth.js';
import { createTokenService, TokenError } from './tokens.js';

const SECRET = 'verification-test-secret-long-enough-0000';

const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  if (err instanceof HttpError) res.status(err.status).json({ error: err.message });
  else res.status(500).json({ error: 'internal error' });
};

// The socket (authenticator) and HTTP (passport-jwt) must give every token the same verdict:
// one rule set, so a token cannot be refused on one door and honoured on the other.
describe('one verification for the socket and for HTTP', () => {
  let test: TestDatabase;
  let server: Server;
  let base = '';
  let authenticate: Authenticate;
  let vera: PublicUser;
  let gone: PublicUser;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    const users = createUserStore(test.db);
    vera = await users.create({ username: 'vera', passwordHash: 'h', role: 'viewer' });
    gone = await users.create({ username: 'gone', passwordHash: 'h', role: 'viewer' });
    await users.remove('gone');
    authenticate = createAuthenticator({
      tokens: createTokenService({ secret: SECRET, ttlSeconds: 60 }),
      users,
    });
    const app = express();
    app.get('/private', createRequireAuth({ secret: SECRET, users }), (_req, res) => {
      res.json({ ok: true });
    });
    app.use(onError);
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await test.drop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (user: PublicUser, extra: Record<string, unknown> = {}) => ({
    sub: String(user.id),
    username: user.username,
    role: user.role,
    iat: now(),
    exp: now() + 600,
    ...extra,
  });
  const sign = (payload: object, options: jwt.SignOptions = {}, secret = SECRET) =>
    jwt.sign(payload, secret, { algorithm: 'HS256', ...options });
  const unsigned = (payload: object) =>
    `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify(payload),
    ).toString('base64url')}.`;

  const cases: [string, () => string, string][] = [
    ['a valid token', () => sign(claims(vera)), 'accepted'],
    [
      'expired 30 s ago (inside the 60 s leeway)',
      () => sign(claims(vera, { exp: now() - 30 })),
      'accepted',
    ],
    [
      'expired 90 s ago (beyond the leeway)',
      () => sign(claims(vera, { exp: now() - 90 })),
      'token expired',
    ],
    [
      'without exp',
      () => {
        const { exp: _exp, ...rest } = claims(vera);
        return sign(rest);
      },
      'invalid token',
    ],
    [
      'signed HS384 with the right secret',
      () => sign(claims(vera), { algorithm: 'HS384' }),
      'invalid token',
    ],
    ['with alg none', () => unsigned(claims(vera)), 'invalid token'],
    [
      'signed with another secret',
      () => sign(claims(vera), {}, `${SECRET}-other`),
      'invalid token',
    ],
    ['of a deleted user', () => sign(claims(gone)), 'invalid token'],
    [
      'with a sub that is not a user id',
      () => sign(claims(vera, { sub: 'vera' })),
      'invalid token',
    ],
    [
      'not valid for 2 more minutes (nbf)',
      () => sign(claims(vera, { nbf: now() + 120 })),
      'invalid token',
    ],
    ['malformed', () => 'not.a.jwt', 'invalid token'],
  ];

  it.each(cases)('%s: the same verdict on both doors', async (_name, make, verdict) => {
    const token = make();
    let socket: string;
    try {
      await authenticate(token);
      socket = 'accepted';
    } catch (err) {
      socket = err instanceof TokenError ? err.reason : `unexpected: ${String(err)}`;
    }
    const res = await fetch(`${base}/private`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { error?: string };
    const http = res.status === 200 ? 'accepted' : `${res.status} ${body.error}`;
    expect({ socket, http }).toEqual({
      socket: verdict,
      http: verdict === 'accepted' ? 'accepted' : `401 ${verdict}`,
    });
  });
});
