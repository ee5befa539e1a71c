import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { createUserStore, UserStoreError, type UserStore } from './users.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err instanceof UserStoreError ? err.code : `unexpected: ${String(err)}`;
  }
}

describeEachBackend('user store', (backend) => {
  let test: TestDatabase;
  let users: UserStore;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    users = createUserStore(test.db);
  });
  afterAll(() => test.drop());
  beforeEach(async () => {
    await test.db.exec('DELETE FROM users');
  });

  it('creates users and finds them by name (with the hash) and by id (without it)', async () => {
    expect(await users.count()).toBe(0);
    const alice = await users.create({ username: 'alice', passwordHash: 'h1', role: 'admin' });
    const bob = await users.create({ username: 'bob', passwordHash: 'h2', role: 'viewer' });
    expect(alice).toEqual({ id: expect.any(Number), username: 'alice', role: 'admin' });
    expect(bob.id).toBeGreaterThan(alice.id);
    expect(await users.count()).toBe(2);

    const found = await users.findByUsername('alice');
    expect(found).toMatchObject({ id: alice.id, username: 'alice', role: 'admin' });
    expect(found?.passwordHash).toBe('h1');
    expect(found?.createdAt).toBeInstanceOf(Date);
    // Exactly the public fields: this object becomes `req.user` and the `/auth/me` answer.
    expect(await users.findById(bob.id)).toStrictEqual({
      id: bob.id,
      username: 'bob',
      role: 'viewer',
    });
    expect(await users.findByUsername('Alice')).toBeNull();
    expect(await users.findByUsername('nobody')).toBeNull();
    expect(await users.findById(bob.id + 1000)).toBeNull();
    expect(await users.findById(0)).toBeNull();
    expect(await users.findById(1.5)).toBeNull();
  });

  it('refuses a taken username with user_exists, also when two creates race', async () => {
    await users.create({ username: 'carol', passwordHash: 'h', role: 'viewer' });
    expect(
      await codeOf(users.create({ username: 'carol', passwordHash: 'other', role: 'admin' })),
    ).toBe('user_exists');
    expect((await users.findByUsername('carol'))?.passwordHash).toBe('h');

    const results = await Promise.allSettled([
      users.create({ username: 'dave', passwordHash: 'a', role: 'admin' }),
      users.create({ username: 'dave', passwordHash: 'b', role: 'admin' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect((rejected?.reason as UserStoreError).code).toBe('user_exists');
    expect(await users.count()).toBe(2);
  });

  it.each(['', 'has space', 'x'.repeat(65), 'semi;colon', 'ümlaut'])(
    'refuses the username %j with invalid_username',
    async (username) => {
      expect(await codeOf(users.create({ username, passwordHash: 'h', role: 'viewer' }))).toBe(
        'invalid_username',
      );
      expect(await users.count()).toBe(0);
    },
  );

  it('rejects a role outside admin|viewer at the database', async () => {
    await expect(
      test.db.query("INSERT INTO users (username, password_hash, role) VALUES ('x', 'h', 'root')"),
    ).rejects.toThrow(/check/i);
  });

  it('changes a password, and says false for an unknown user', async () => {
    await users.create({ username: 'erin', passwordHash: 'old', role: 'viewer' });
    expect(await users.setPassword('erin', 'new')).toBe(true);
    expect((await users.findByUsername('erin'))?.passwordHash).toBe('new');
    expect(await users.setPassword('nobody', 'x')).toBe(false);
  });

  it('removes users but never the last admin', async () => {
    const admin = await users.create({ username: 'root', passwordHash: 'h', role: 'admin' });
    await users.create({ username: 'viewer1', passwordHash: 'h', role: 'viewer' });
    expect(await users.remove('viewer1')).toBe(true);
    expect(await users.remove('viewer1')).toBe(false);
    expect(await codeOf(users.remove('root'))).toBe('last_admin');
    expect(await users.findById(admin.id)).not.toBeNull();

    await users.create({ username: 'root2', passwordHash: 'h', role: 'admin' });
    expect(await users.remove('root')).toBe(true);
    expect(await codeOf(users.remove('root2'))).toBe('last_admin');
    expect((await users.list()).map((u) => u.username)).toEqual(['root2']);
  });

  it('tells its listeners of each removal, and of nothing refused or absent', async () => {
    await users.create({ username: 'admin1', passwordHash: 'h', role: 'admin' });
    const gone = await users.create({ username: 'leaver', passwordHash: 'h', role: 'viewer' });
    const removed: unknown[] = [];
    const unsubscribe = users.onRemoved((user) => removed.push(user));
    expect(await users.remove('leaver')).toBe(true);
    expect(await users.remove('leaver')).toBe(false);
    expect(await codeOf(users.remove('admin1'))).toBe('last_admin');
    expect(removed).toEqual([gone]);

    unsubscribe();
    await users.create({ username: 'later', passwordHash: 'h', role: 'viewer' });
    await users.remove('later');
    expect(removed).toHaveLength(1);
  });

  it('changes a role, but never demotes the only admin', async () => {
    const a = await users.create({ username: 'a', passwordHash: 'h', role: 'admin' });
    const b = await users.create({ username: 'b', passwordHash: 'h', role: 'viewer' });
    expect(await codeOf(users.setRole(a.id, 'viewer'))).toBe('last_admin');
    expect(await users.findById(a.id)).toMatchObject({ role: 'admin' });
    // Re-affirming the only admin is not a demotion.
    expect(await users.setRole(a.id, 'admin')).toEqual({ id: a.id, username: 'a', role: 'admin' });
    expect(await users.setRole(b.id, 'admin')).toEqual({ id: b.id, username: 'b', role: 'admin' });
    expect(await users.setRole(a.id, 'viewer')).toEqual({
      id: a.id,
      username: 'a',
      role: 'viewer',
    });
    expect(await codeOf(users.setRole(b.id, 'viewer'))).toBe('last_admin');
    expect(await users.setRole(987_654, 'viewer')).toBeNull();
  });

  it('answers which of many ids are still users, in one query', async () => {
    const a = await users.create({ username: 'a', passwordHash: 'h', role: 'admin' });
    const b = await users.create({ username: 'b', passwordHash: 'h', role: 'viewer' });
    await test.db.query('DELETE FROM users WHERE id = $1', [b.id]);
    expect(await users.existing([a.id, b.id, a.id, 987_654])).toEqual(new Set([a.id]));
    expect(await users.existing([])).toEqual(new Set());
    expect(await users.existing([0, -1, 1.5])).toEqual(new Set());
  });

  it('lists every user oldest first with created_at', async () => {
    const before = Date.now();
    await users.create({ username: 'u1', passwordHash: 'h', role: 'admin' });
    await users.create({ username: 'u2', passwordHash: 'h', role: 'viewer' });
    const list = await users.list();
    expect(list.map(({ username, role }) => ({ username, role }))).toEqual([
      { username: 'u1', role: 'admin' },
      { username: 'u2', role: 'viewer' },
    ]);
    for (const user of list) {
      expect(user).not.toHaveProperty('passwordHash');
      // Database and test clocks are the same machine's; a minute covers any rounding.
      expect(Math.abs(user.createdAt.getTime() - before)).toBeLessThan(60_000);
    }
  });
});
