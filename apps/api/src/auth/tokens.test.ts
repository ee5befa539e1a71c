import { createHmac, generateKeyPairSync } from 'node:crypto';
import type { PublicUser } from '@livestat/contracts';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { claimsOf, createTokenService, TokenError, type TokenFailure } from './tokens.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const ALICE: PublicUser = { id: 7, username: 'alice', role: 'viewer' };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowS = Math.floor(T0 / 1000);
/** Signs by hand, for payloads jsonwebtoken's own `sign` refuses to make. */
function hs256(payload: unknown): string {
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}
const claims = { sub: '7', username: 'alice', role: 'viewer', iat: nowS, exp: nowS + 3600 };

function failureOf(run: () => unknown): TokenFailure | 'accepted' | 'other error' {
  try {
    run();
    return 'accepted';
  } catch (err) {
    return err instanceof TokenError ? err.reason : 'other error';
  }
}

describe('token service', () => {
  const tokens = createTokenService({ secret: SECRET, ttlSeconds: 3600, now: () => T0 });

  it('issues an HS256 token whose claims verify back', () => {
    const { token, expiresAt } = tokens.issue(ALICE);
    expect(expiresAt).toBe('2030-01-01T01:00:00.000Z');
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as {
      alg: string;
    };
    expect(header.alg).toBe('HS256');
    expect(jwt.decode(token)).toEqual({
      sub: '7',
      username: 'alice',
      role: 'viewer',
      iat: nowS,
      exp: nowS + 3600,
    });
    expect(tokens.verify(token)).toEqual({
      userId: 7,
      username: 'alice',
      role: 'viewer',
      expiresAtMs: T0 + 3_600_000,
    });
  });

  it('honours exp with at most 60 s of leeway', () => {
    const issuer = createTokenService({ secret: SECRET, ttlSeconds: 60, now: () => T0 });
    const { token } = issuer.issue(ALICE);
    const at = (ms: number) =>
      createTokenService({ secret: SECRET, ttlSeconds: 60, now: () => ms });
    expect(failureOf(() => at(T0 + 59_000).verify(token))).toBe('accepted');
    // Expired 30 s ago: within the leeway, still accepted.
    expect(failureOf(() => at(T0 + 90_000).verify(token))).toBe('accepted');
    expect(failureOf(() => at(T0 + 119_000).verify(token))).toBe('accepted');
    // Expired 61 s ago: beyond it.
    expect(failureOf(() => at(T0 + 121_000).verify(token))).toBe('token expired');
    expect(failureOf(() => at(T0 + 86_400_000).verify(token))).toBe('token expired');
  });

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const valid = jwt.sign(claims, SECRET, { algorithm: 'HS256' });
  const [validHeader, validPayload] = valid.split('.');

  const matrix: [string, string, TokenFailure][] = [
    ['missing (empty string)', '', 'invalid token'],
    ['malformed: one segment', 'not-a-jwt', 'invalid token'],
    ['malformed: three junk segments', 'a.b.c', 'invalid token'],
    [
      'malformed: bad JSON header',
      `${Buffer.from('{').toString('base64url')}.${validPayload}.x`,
      'invalid token',
    ],
    [
      'bad signature (another secret)',
      jwt.sign(claims, `${SECRET}-other`, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'tampered payload',
      `${validHeader}.${b64({ ...claims, role: 'admin' })}.${valid.split('.')[2]}`,
      'invalid token',
    ],
    [
      'alg none, no signature',
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      'invalid token',
    ],
    [
      'alg none, with our signature',
      `${b64({ alg: 'none', typ: 'JWT' })}.${validPayload}.${valid.split('.')[2]}`,
      'invalid token',
    ],
    [
      'HS512 with the same secret',
      jwt.sign(claims, SECRET, { algorithm: 'HS512' }),
      'invalid token',
    ],
    [
      'HS384 with the same secret',
      jwt.sign(claims, SECRET, { algorithm: 'HS384' }),
      'invalid token',
    ],
    [
      'RS256 with a key pair',
      jwt.sign(claims, privateKey, { algorithm: 'RS256' }),
      'invalid token',
    ],
    [
      'no exp',
      jwt.sign({ sub: '7', username: 'alice', role: 'viewer' }, SECRET, {
        algorithm: 'HS256',
        noTimestamp: true,
      }),
      'invalid token',
    ],
    ['exp as a string', hs256({ ...claims, exp: String(nowS + 3600) }), 'invalid token'],
    [
      'expired beyond the leeway',
      jwt.sign({ ...claims, exp: nowS - 61 }, SECRET, { algorithm: 'HS256' }),
      'token expired',
    ],
    [
      'not yet valid (nbf beyond the leeway)',
      jwt.sign({ ...claims, nbf: nowS + 600 }, SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'sub as a number',
      jwt.sign({ ...claims, sub: 7 }, SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'sub not a positive integer',
      jwt.sign({ ...claims, sub: '0' }, SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'sub with junk',
      jwt.sign({ ...claims, sub: '7; DROP' }, SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'sub missing',
      jwt.sign({ ...claims, sub: undefined }, SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'unknown role',
      jwt.sign({ ...claims, role: 'root' }, SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'username missing',
      jwt.sign({ ...claims, username: '' }, SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
    [
      'payload a bare string',
      jwt.sign('just a string', SECRET, { algorithm: 'HS256' }),
      'invalid token',
    ],
  ];

  it.each(matrix)('rejects %s', (_name, token, reason) => {
    expect(failureOf(() => tokens.verify(token))).toBe(reason);
  });

  it('accepts the baselines the matrix varies', () => {
    expect(failureOf(() => tokens.verify(valid))).toBe('accepted');
    expect(failureOf(() => tokens.verify(hs256(claims)))).toBe('accepted');
  });

  it('rejects a value that is not a string at all', () => {
    expect(failureOf(() => tokens.verify(undefined as unknown as string))).toBe('invalid token');
  });

  it('carries a code beside the reason', () => {
    expect(new TokenError('token expired').code).toBe('token_expired');
    expect(new TokenError('invalid token').code).toBe('invalid_token');
    expect(new TokenError('invalid token').message).toBe('invalid token');
  });

  it('refuses a short secret and a bad ttl', () => {
    expect(() => createTokenService({ secret: 'short', ttlSeconds: 60 })).toThrow(
      /at least 32 bytes/,
    );
    expect(() => createTokenService({ secret: SECRET, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => createTokenService({ secret: SECRET, ttlSeconds: 1.5 })).toThrow(/ttlSeconds/);
  });

  it('reads claims only from payloads shaped as issued', () => {
    expect(claimsOf({ sub: '12', username: 'bob', role: 'admin', exp: 100 })).toEqual({
      userId: 12,
      username: 'bob',
      role: 'admin',
      expiresAtMs: 100_000,
    });
    expect(
      claimsOf({ sub: '99999999999999999', username: 'bob', role: 'admin', exp: 1 }),
    ).toBeNull();
    expect(claimsOf(null)).toBeNull();
    expect(claimsOf('x')).toBeNull();
  });
});
