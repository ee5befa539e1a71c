import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { userResponse, usersResponse, type HealthResponse } from '@livestat/contracts';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { openClient, startStreamHarness, type StreamHarness } from '../../test/stream-harness.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { createRequireAuth } from '../auth/require-auth.js';
import { createApp } from './app.js';
import { createUsersRouter } from './users-routes.js';

const health: HealthResponse = {
  status: 'ok',
  version: '0.1.0',
  host: 'users-test',
  uptimeSeconds: 1,
  database: 'up',
  redis: 'not_configured',
  websocketConnections: 0,
  sampler: { seq: 0, lastSnapshotAt: null },
};

/** Every admin route, with a body it would accept from an admin. */
const ADMIN_ROUTES: [method: string, path: string, body?: unknown][] = [
  ['GET', '/api/users'],
  ['POST', '/api/users', { username: 'made-by-viewer', password: 'long-enough-1', role: 'admin' }],
  ['PATCH', '/api/users/ID', { role: 'viewer' }],
  ['POST', '/api/users/ID/password', { password: 'a-new-password-1' }],
  ['DELETE', '/api/users/ID'],
];

describeEachBackend('users admin routes over HTTP', (backend) => {
  let database: TestDatabase;
  let h: StreamHarness;
  let server: Server;
  let base = '';
  const logLines: Record<string, unknown>[] = [];
  let admin: { id: number; token: string };
  let viewer: { id: number; token: string };

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function addUser(username: string, role: 'admin' | 'viewer') {
    const user = await h.users.create({ username, passwordHash: 'unused', role });
    return { id: user.id, token: h.tokens.issue(user).token };
  }

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    h = await startStreamHarness({ database });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const requireAuth = createRequireAuth({
      secret: 'stream-test-secret-that-is-long-enough-0123456789',
      users: h.users,
    });
    const app = createApp({
      logger: pino({ level: 'info' }, sink),
      health: () => health,
      routers: [
        createUsersRouter({ users: h.users, logger: pino({}, sink), guards: [requireAuth] }),
      ],
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await h?.close();
    await database?.drop();
  });

  beforeEach(async () => {
    await database.db.exec('DELETE FROM users');
    logLines.length = 0;
    admin = await addUser('root', 'admin');
    viewer = await addUser('watcher', 'viewer');
  });

  it('lists users without hashes, oldest first', async () => {
    const res = await call('GET', '/api/users', admin.token);
    expect(res.status).toBe(200);
    const { users } = usersResponse.parse(res.body);
    expect(users.map((u) => [u.username, u.role])).toEqual([
      ['root', 'admin'],
      ['watcher', 'viewer'],
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/hash|unused/);
  });

  it('adds a user with an argon2 hash of the password, audited without it', async () => {
    const password = 'correct horse battery';
    const res = await call('POST', '/api/users', admin.token, {
      username: 'carol',
      password,
      role: 'viewer',
    });
    expect(res.status).toBe(201);
    const { user } = userResponse.parse(res.body);
    expect(user).toMatchObject({ username: 'carol', role: 'viewer' });
    const stored = await h.users.findByUsername('carol');
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(stored!.passwordHash, password)).toBe(true);

    const audit = logLines.find((line) => line.audit === 'user.create');
    expect(audit).toMatchObject({ actor: 'root', target: { username: 'carol' }, role: 'viewer' });
    expect(JSON.stringify(logLines)).not.toContain(password);
  });

  it('answers 400 naming the field, and 409 for a taken name', async () => {
    const short = await call('POST', '/api/users', admin.token, {
      username: 'dave',
      password: 'short',
    });
    expect(short).toEqual({
      status: 400,
      body: { error: 'password: must be at least 8 characters (got 5)' },
    });
    const badName = await call('POST', '/api/users', admin.token, {
      username: 'has space',
      password: 'long-enough-1',
    });
    expect(badName.status).toBe(400);
    expect(badName.body.error).toMatch(/^username: /);
    const missing = await call('POST', '/api/users', admin.token, { username: 'erin' });
    expect(missing).toEqual({ status: 400, body: { error: 'password: required' } });
    const role = await call('PATCH', `/api/users/${viewer.id}`, admin.token, { role: 'root' });
    expect(role.status).toBe(400);
    expect(role.body.error).toMatch(/^role: /);
    const id = await call('DELETE', '/api/users/abc', admin.token);
    expect(id).toEqual({ status: 400, body: { error: 'id: must be a positive whole number' } });

    const taken = await call('POST', '/api/users', admin.token, {
      username: 'watcher',
      password: 'long-enough-1',
    });
    expect(taken).toEqual({ status: 409, body: { error: 'user "watcher" already exists' } });
  });

  it('changes roles but never demotes or removes the last admin (409)', async () => {
    const demote = await call('PATCH', `/api/users/${admin.id}`, admin.token, { role: 'viewer' });
    expect(demote.status).toBe(409);
    expect(demote.body.error).toMatch(/only admin/);
    const remove = await call('DELETE', `/api/users/${admin.id}`, admin.token);
    expect(remove.status).toBe(409);
    expect((await h.users.findById(admin.id))?.role).toBe('admin');

    const promote = await call('PATCH', `/api/users/${viewer.id}`, admin.token, { role: 'admin' });
    expect(promote.status).toBe(200);
    expect(userResponse.parse(promote.body).user).toMatchObject({ role: 'admin' });
    // Two admins now: the first may step down, and its next request is a viewer's.
    expect(
      (await call('PATCH', `/api/users/${admin.id}`, viewer.token, { role: 'viewer' })).status,
    ).toBe(200);
    expect((await call('GET', '/api/users', admin.token)).status).toBe(403);
    expect(logLines.filter((line) => line.audit === 'user.role')).toHaveLength(2);
  });

  it('resets a password: the old one stops matching, the new one works', async () => {
    await h.users.setPassword('watcher', await hashPassword('old-password-1'));
    const res = await call('POST', `/api/users/${viewer.id}/password`, admin.token, {
      password: 'new-password-1',
    });
    expect(res.status).toBe(204);
    const stored = await h.users.findByUsername('watcher');
    expect(await verifyPassword(stored!.passwordHash, 'new-password-1')).toBe(true);
    expect(await verifyPassword(stored!.passwordHash, 'old-password-1')).toBe(false);
    expect(logLines.find((line) => line.audit === 'user.password')).toMatchObject({
      actor: 'root',
      target: { id: viewer.id, username: 'watcher' },
    });
    expect(JSON.stringify(logLines)).not.toContain('new-password-1');
    const none = await call('POST', '/api/users/987654/password', admin.token, {
      password: 'new-password-1',
    });
    expect(none.status).toBe(404);
  });

  it('removes a user: its token stops working and its open socket closes 1008', async () => {
    const socket = await openClient(h.url(viewer.token));
    const res = await call('DELETE', `/api/users/${viewer.id}`, admin.token);
    expect(res.status).toBe(204);
    expect(await socket.closed).toEqual({ code: 1008, reason: 'user removed' });
    expect((await call('GET', '/api/users', viewer.token)).status).toBe(401);
    expect(logLines.find((line) => line.audit === 'user.remove')).toMatchObject({
      actor: 'root',
      target: { username: 'watcher' },
    });
    expect((await call('DELETE', `/api/users/${viewer.id}`, admin.token)).status).toBe(404);
  });

  describe('a viewer', () => {
    it.each(ADMIN_ROUTES)('%s %s → 403, and nothing changes', async (method, path, body) => {
      const before = await h.users.list();
      const res = await call(method, path.replace('ID', String(admin.id)), viewer.token, body);
      expect(res).toEqual({ status: 403, body: { error: 'requires the admin role' } });
      expect(await h.users.list()).toEqual(before);
      expect(logLines.filter((line) => line.audit)).toEqual([]);
    });
  });
});
