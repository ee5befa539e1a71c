import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { createLogger } from '../logger.js';
import { createUserStore, type UserStore } from '../storage/users.js';
import { QueryTimeoutError } from '../storage/db.js';
import { ensureAdmin, ensureAdminRetrying } from './bootstrap.js';
import { PasswordPolicyError, verifyPassword } from './passwords.js';

function capture() {
  const logs: string[] = [];
  const announced: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'info' }, stream),
    announce: (text: string) => announced.push(text),
    logs,
    announced,
  };
}

describeEachBackend('ensureAdmin', (backend) => {
  let test: TestDatabase;
  let users: UserStore;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    users = createUserStore(test.db);
  });
  afterAll(() => test.drop());
  beforeEach(() => test.db.exec('DELETE FROM users'));

  it('creates the admin from ADMIN_USERNAME / ADMIN_PASSWORD, announcing nothing', async () => {
    const c = capture();
    const result = await ensureAdmin({ users, username: 'boss', password: 'from-the-env', ...c });
    expect(result).toBe('created');
    const stored = await users.findByUsername('boss');
    expect(stored?.role).toBe('admin');
    expect(await verifyPassword(stored!.passwordHash, 'from-the-env')).toBe(true);
    expect(c.announced).toEqual([]);
    expect(c.logs.join('')).toContain('created the admin user with ADMIN_PASSWORD');
    expect(c.logs.join('')).not.toContain('from-the-env');
  });

  it('generates a password, announces it once, and never logs it', async () => {
    const c = capture();
    const result = await ensureAdmin({ users, username: 'admin', ...c });
    expect(result).toBe('created_with_generated_password');
    expect(c.announced).toHaveLength(1);
    const password = /^ {6}(\S+)$/m.exec(c.announced[0]!)?.[1];
    // 18 random bytes as base64url.
    expect(password).toMatch(/^[\w-]{24}$/);
    expect(c.announced[0]).toContain('"admin"');
    expect(c.announced[0]).toContain('npm run users -- passwd admin');
    // The command that works in the image too, where there is no tsx.
    expect(c.announced[0]).toContain(
      'docker compose exec api node apps/api/dist/cli/users.js passwd admin',
    );
    const stored = await users.findByUsername('admin');
    expect(stored?.role).toBe('admin');
    expect(await verifyPassword(stored!.passwordHash, password!)).toBe(true);
    expect(c.logs).toHaveLength(1);
    expect(c.logs[0]).not.toContain(password);

    // The next start finds the user and says nothing more.
    const again = capture();
    expect(await ensureAdmin({ users, username: 'admin', ...again })).toBe('exists');
    expect(again.announced).toEqual([]);
    expect(await users.count()).toBe(1);
  });

  it('does nothing when any user exists, even one with another name', async () => {
    await users.create({ username: 'someone', passwordHash: 'h', role: 'viewer' });
    const c = capture();
    expect(await ensureAdmin({ users, username: 'admin', password: 'whatever123', ...c })).toBe(
      'exists',
    );
    expect(await users.findByUsername('admin')).toBeNull();
    expect(c.announced).toEqual([]);
    expect(c.logs).toEqual([]);
  });

  it('creates exactly one admin and one announcement when two processes start at once', async () => {
    const a = capture();
    const b = capture();
    const results = await Promise.all([
      ensureAdmin({ users: createUserStore(test.db), username: 'admin', ...a }),
      ensureAdmin({ users: createUserStore(test.db), username: 'admin', ...b }),
    ]);
    expect(results.sort()).toEqual(['created_with_generated_password', 'exists']);
    expect([...a.announced, ...b.announced]).toHaveLength(1);
    expect(await users.count()).toBe(1);
    const password = /^ {6}(\S+)$/m.exec([...a.announced, ...b.announced][0]!)?.[1];
    const stored = await users.findByUsername('admin');
    expect(await verifyPassword(stored!.passwordHash, password!)).toBe(true);
  });

  it('refuses an ADMIN_PASSWORD that breaks the policy and creates nobody', async () => {
    const c = capture();
    await expect(
      ensureAdmin({ users, username: 'admin', password: 'short', ...c }),
    ).rejects.toBeInstanceOf(PasswordPolicyError);
    expect(await users.count()).toBe(0);
  });

  it('tries again when a statement timed out, and creates the admin once', async () => {
    const c = capture();
    let timeouts = 2;
    // The real store, its first two counts failing as a busy database's statement timeout does.
    const busy: UserStore = {
      ...users,
      count: () => (timeouts-- > 0 ? Promise.reject(new QueryTimeoutError(5000)) : users.count()),
    };
    const result = await ensureAdminRetrying(
      { users: busy, username: 'boss', password: 'from-the-env', ...c },
      { delayMs: 10 },
    );
    expect(result).toBe('created');
    expect(await users.count()).toBe(1);
    expect(c.logs.join('')).toContain('creating the first admin timed out; trying again');
  });

  it('gives up after its attempts, and never retries other errors', async () => {
    const c = capture();
    const alwaysBusy: UserStore = {
      ...users,
      count: () => Promise.reject(new QueryTimeoutError(5000)),
    };
    await expect(
      ensureAdminRetrying(
        { users: alwaysBusy, username: 'boss', password: 'from-the-env', ...c },
        { attempts: 3, delayMs: 1 },
      ),
    ).rejects.toBeInstanceOf(QueryTimeoutError);
    expect(c.logs.join('').match(/trying again/g)).toHaveLength(2);
    await expect(
      ensureAdminRetrying({ users, username: 'admin', password: 'short', ...c }, { delayMs: 1 }),
    ).rejects.toBeInstanceOf(PasswordPolicyError);
  });
});
