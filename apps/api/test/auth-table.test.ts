import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loginResponse } from '@livestat/contracts';
import type { RequestHandler, Router } from 'express';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../src/auth/tokens.js';
import { createApiRouters } from '../src/roles/api.js';
import { spawnTs, startApi } from './process.js';

// Every data route of the running API, refused the same way whatever is wrong with the
// credential. The routes come from the routers the API mounts, not from a list kept here, so a
// route added without its guard fails this test.

/** Routes that answer without a token, on purpose. */
const PUBLIC_ROUTES = ['POST /api/auth/login'];

const JWT_SECRET = 'auth-table-test-secret-of-enough-length-0';
const ADMIN_PASSWORD = 'auth-table-admin-password';

/** `METHOD /api/path` of every route of `routers`, mounted under `/api` as the app does. */
function routesOf(routers: Router[]): string[] {
  const routes: string[] = [];
  for (const router of routers) {
    for (const layer of router.stack) {
      const route = layer.route as
        { path?: unknown; methods?: Record<string, boolean> } | undefined;
      if (!route) {
        // A nested router or a router-wide middleware: walk it before trusting this table.
        throw new Error(`a ${layer.name} layer the walker does not understand; extend routesOf`);
      }
      if (typeof route.path !== 'string') throw new Error('a route path that is not a string');
      for (const method of Object.keys(route.methods ?? {})) {
        routes.push(`${method.toUpperCase()} /api${route.path}`);
      }
    }
  }
  return routes.sort();
}

// The routers as the API builds them; nothing is called while routes are declared, so the
// dependencies can be empty. The guard is a pass-through: the running process has the real one.
const pass: RequestHandler = (_req, _res, next) => next();
const ROUTES = routesOf(
  createApiRouters({
    requireAuth: pass,
    auth: {} as never,
    history: {} as never,
    processes: {} as never,
    hosts: {} as never,
    wsTicket: {} as never,
    users: {} as never,
    alerts: {} as never,
    apps: {} as never,
    tokens: {} as never,
  }),
);
const GUARDED = ROUTES.filter((route) => !PUBLIC_ROUTES.includes(route));

/** Runs the users CLI on `dataDir`, with `stdin` as its input; resolves with its exit code. */
function usersCli(args: string[], dataDir: string, stdin = ''): Promise<number | null> {
  const child = spawnTs('src/cli/users.ts', args, { DATA_DIR: dataDir });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(output))));
  });
}

describe('the running API refuses every data route without a credential it honours', () => {
  let dataDir: string;
  let api: Awaited<ReturnType<typeof startApi>>;
  let adminToken: string;
  let deletedUserToken: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'livestat-auth-table-'));
    // A user who existed and was deleted: the first id the users table hands out.
    await usersCli(['add', 'ghost', '--password-stdin'], dataDir, 'ghost-password-long\n');
    await usersCli(['remove', 'ghost'], dataDir);
    api = await startApi({
      DATA_DIR: dataDir,
      JWT_SECRET,
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD,
      METRICS_HOST_NAME: 'auth-table',
    });
    // The admin is created once migrations ran: retry the login until it exists.
    let login: Response | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      login = await fetch(`${api.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      if (login.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const session = loginResponse.parse(await login?.json());
    adminToken = session.token;
    // Serial ids are never reused: the admin came after ghost, so ghost's id is below it.
    expect(session.user.id).toBe(2);
    deletedUserToken = createTokenService({ secret: JWT_SECRET, ttlSeconds: 600 }).issue({
      id: 1,
      username: 'ghost',
      role: 'viewer',
    }).token;
  }, 120_000);

  afterAll(async () => {
    api?.child.kill('SIGTERM');
    await api?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  function call(route: string, token?: string) {
    const [method, path] = route.split(' ') as [string, string];
    return fetch(`${api.url}${path.replaceAll(/:\w+/g, 'x')}`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
  }

  it('knows the data routes, and login is the only public one', () => {
    expect(GUARDED).toEqual(
      expect.arrayContaining([
        'GET /api/auth/me',
        'GET /api/history',
        'GET /api/hosts',
        'GET /api/snapshots/latest',
        'POST /api/auth/refresh',
        'POST /api/ws/ticket',
        'GET /api/users',
        'POST /api/users',
        'PATCH /api/users/:id',
        'POST /api/users/:id/password',
        'DELETE /api/users/:id',
        'GET /api/tokens',
        'POST /api/tokens',
        'DELETE /api/tokens/:id',
      ]),
    );
    expect(ROUTES).toEqual(expect.arrayContaining(PUBLIC_ROUTES));
  });

  const credentials: [string, () => string | undefined][] = [
    ['no token', () => undefined],
    ['a malformed token', () => 'not-a-jwt'],
    [
      'a token signed with another secret',
      () =>
        jwt.sign(
          { sub: '2', username: 'admin', role: 'admin', exp: Math.floor(Date.now() / 1000) + 600 },
          `${JWT_SECRET}-but-another`,
          { algorithm: 'HS256' },
        ),
    ],
    ['the token of a deleted user', () => deletedUserToken],
  ];

  for (const route of GUARDED) {
    it.each(credentials)(`${route} with %s → 401 {error}`, async (_name, token) => {
      const res = await call(route, token());
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toMatch(/^(authentication required|invalid token)$/);
    });

    it(`${route} lets the admin's own token past the guard`, async () => {
      // Whatever the route then answers (a 400 for a missing parameter), it is not a 401:
      // the 401s above come from the guard, not from a route that is missing.
      const res = await call(route, adminToken);
      expect(res.status).not.toBe(401);
      expect(res.status).not.toBe(404);
    });
  }
});
