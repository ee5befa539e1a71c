import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { createUserStore, type UserStore } from '../storage/users.js';
import { createAuthenticator, type Authenticate } from './authenticator.js';
import { createTokenService, TokenError, type TokenService } from './tokens.js';

const SECRET = 'authenticator-test-secret-of-enough-length';
const T0 = Date.parse('2030-06-01T12:00:00.000Z');

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    return err instanceof TokenError ? err.reason : `unexpected: ${String(err)}`;
  }
}

describeEachBackend('createAuthenticator', (backend) => {
  let test: TestDatabase;
  let users: UserStore;
  let tokens: TokenService;
  let authenticate: Authenticate;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    users = createUserStore(test.db);
    tokens = createTokenService({ secret: SECRET, ttlSeconds: 600, now: () => T0 });
    authenticate = createAuthenticator({ tokens, users });
  });
  afterAll(() => test.drop());

  it('returns the user as stored now and the token expiry', async () => {
    const carol = await users.create({ username: 'carol', passwordHash: 'h', role: 'viewer' });
    const { token, expiresAt } = tokens.issue(carol);
    expect(await authenticate(token)).toEqual({
      user: { id: carol.id, username: 'carol', role: 'viewer' },
      expiresAtMs: Date.parse(expiresAt),
    });
    // Promoted after the token was issued: the table wins over the token's claim.
    await test.db.query("UPDATE users SET role = 'admin' WHERE id = $1", [carol.id]);
    expect((await authenticate(token)).user.role).toBe('admin');
  });

  it("rejects a deleted user's still-valid token as 'invalid token'", async () => {
    const dan = await users.create({ username: 'dan', passwordHash: 'h', role: 'viewer' });
    const { token } = tokens.issue(dan);
    expect(await reasonOf(authenticate(token))).toBe('accepted');
    expect(await users.remove('dan')).toBe(true);
    expect(await reasonOf(authenticate(token))).toBe('invalid token');
  });

  it('passes on the token failures', async () => {
    const erin = await users.create({ username: 'erin', passwordHash: 'h', role: 'viewer' });
    const { token } = tokens.issue(erin);
    const later = createAuthenticator({
      tokens: createTokenService({ secret: SECRET, ttlSeconds: 600, now: () => T0 + 661_000 }),
      users,
    });
    expect(await reasonOf(later(token))).toBe('token expired');
    const otherSecret = createAuthenticator({
      tokens: createTokenService({ secret: `${SECRET}-rotated`, ttlSeconds: 600, now: () => T0 }),
      users,
    });
    expect(await reasonOf(otherSecret(token))).toBe('invalid token');
    expect(await reasonOf(authenticate(''))).toBe('invalid token');
  });

  it('rejects a token for a user id that never existed', async () => {
    const { token } = tokens.issue({ id: 987_654, username: 'ghost', role: 'admin' });
    expect(await reasonOf(authenticate(token))).toBe('invalid token');
  });
});
