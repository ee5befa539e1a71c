import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import type { ErrorMessage, HostsMessage, PongMessage, Snapshot } from '@livestat/contracts';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  openClient,
  snapshotOf,
  startStreamHarness,
  TEST_JWT_SECRET,
  waitUntil,
  type StreamHarness,
  type TestClient,
} from '../../test/stream-harness.js';
import { createTestDatabase, type TestDatabase } from '../../test/databases.js';
import { createTokenService } from '../auth/tokens.js';
import { createLogger } from '../logger.js';

const isSnapshot = (m: { type: string }): m is Snapshot => m.type === 'snapshot';
const isHosts = (m: { type: string }): m is HostsMessage => m.type === 'hosts';
const isError = (m: { type: string }): m is ErrorMessage => m.type === 'error';
const isPong = (m: { type: string }): m is PongMessage => m.type === 'pong';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

// One users table for the whole file: PGlite takes seconds to start on a busy machine.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
}, 60_000);
afterAll(() => database.drop());

describe('stream server: upgrade, origin and the token matrix', () => {
  let h: StreamHarness;
  let alice: { user: { id: number; username: string; role: string }; token: string };

  beforeAll(async () => {
    h = await startStreamHarness({ database });
    alice = await h.login('alice');
    // Something to send: a broken check would show up as a data frame before the close.
    h.bus.publish(snapshotOf('web-1'));
  });
  afterAll(() => h.close());

  const claims = (expInSeconds: number, user = alice.user) => ({
    sub: String(user.id),
    username: user.username,
    role: user.role,
    exp: Math.floor(Date.now() / 1000) + expInSeconds,
  });

  async function expectRefused(token: string | null, reason: string): Promise<void> {
    const client = connect(h.url(token));
    const { code, reason: got } = await client.closed;
    expect({ code, reason: got, messages: client.messages.length }).toEqual({
      code: 1008,
      reason,
      messages: 0,
    });
  }

  it('closes 1008 with no data frame for every bad token', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bob = await h.login('bob');
    const bobsToken = jwt.sign(claims(3600, bob.user), TEST_JWT_SECRET, { algorithm: 'HS256' });
    await h.users.remove('bob');
    const cases: [string, string | null, string][] = [
      ['missing', null, 'invalid token'],
      ['malformed', 'not-a-jwt', 'invalid token'],
      ['three garbage parts', 'aaa.bbb.ccc', 'invalid token'],
      [
        'bad signature',
        jwt.sign(claims(3600), 'another-secret-that-is-also-long-enough!!', { algorithm: 'HS256' }),
        'invalid token',
      ],
      [
        'alg none',
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims(3600))}.`,
        'invalid token',
      ],
      ['HS512', jwt.sign(claims(3600), TEST_JWT_SECRET, { algorithm: 'HS512' }), 'invalid token'],
      ['RS256', jwt.sign(claims(3600), privateKey, { algorithm: 'RS256' }), 'invalid token'],
      [
        'no exp',
        jwt.sign(
          { sub: String(alice.user.id), username: 'alice', role: 'viewer' },
          TEST_JWT_SECRET,
        ),
        'invalid token',
      ],
      ['expired beyond the leeway', jwt.sign(claims(-120), TEST_JWT_SECRET), 'token expired'],
      ['deleted user', bobsToken, 'invalid token'],
    ];
    for (const [name, token, reason] of cases) {
      await expect(expectRefused(token, reason), name).resolves.toBeUndefined();
    }
  });

  it('accepts a token expired within the 60 s leeway', async () => {
    const token = jwt.sign(claims(-30), TEST_JWT_SECRET, { algorithm: 'HS256' });
    const client = await openClient(h.url(token));
    const first = await client.waitFor(isSnapshot, 'the immediate snapshot');
    expect(first.host).toBe('web-1');
    client.ws.close();
  });

  it('closes 1013 (retry later), not 1008, when authentication itself fails', async () => {
    const broken = await startStreamHarness({
      database,
      authenticate: () => Promise.reject(new Error('connection to the database lost')),
    });
    try {
      const client = connect(broken.url('whatever'));
      expect(await client.closed).toEqual({ code: 1013, reason: 'authentication unavailable' });
      expect(client.messages).toEqual([]);
    } finally {
      await broken.close();
    }
  });

  it('refuses a hostile, null or look-alike Origin with 403 before the upgrade', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://localhost:5173.evil.com']) {
      const client = connect(h.url(alice.token), { origin });
      await expect(client.opened, origin).rejects.toMatchObject({ status: 403 });
    }
  });

  it('lets an allowed Origin and a client without Origin in', async () => {
    for (const origin of ['http://localhost:5173', undefined]) {
      const client = await openClient(h.url(alice.token), origin ? { origin } : {});
      await client.waitFor(isSnapshot, `the snapshot (origin ${origin})`);
      client.ws.close();
      await client.closed;
    }
  });

  it('lets the page the API serves itself in: an Origin naming the requested host', async () => {
    const host = new URL(h.url()).host;
    const client = await openClient(h.url(alice.token), { origin: `http://${host}` });
    await client.waitFor(isSnapshot, 'the snapshot (same origin)');
    client.ws.close();
    await client.closed;
    // Another port on the same name is another origin.
    const port = Number(new URL(h.url()).port);
    const other = connect(h.url(alice.token), { origin: `http://127.0.0.1:${port + 1}` });
    await expect(other.opened).rejects.toMatchObject({ status: 403 });
  });

  it('answers 404 on any other path', async () => {
    const client = connect(h.url(alice.token, '/api/ws/other'));
    await expect(client.opened).rejects.toMatchObject({ status: 404 });
  });
});

describe('stream server: the stream and client messages', () => {
  let h: StreamHarness;
  let token: string;

  beforeAll(async () => {
    h = await startStreamHarness({ database });
    ({ token } = await h.login('carol'));
  });
  afterAll(() => h.close());

  it('sends the latest snapshot of every host at once, a hosts list, then every new snapshot', async () => {
    h.bus.publish(snapshotOf('a', 1));
    h.bus.publish(snapshotOf('a', 2));
    h.bus.publish(snapshotOf('b', 1));
    const client = await openClient(h.url(token));
    const hosts = await client.waitFor(isHosts, 'the hosts list');
    // Before any new publish: what the cache held.
    expect(client.snapshots().map((s) => [s.host, s.seq])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(hosts.hosts.map((host) => host.name)).toEqual(['a', 'b']);
    h.bus.publish(snapshotOf('b', 2));
    await client.waitFor((m) => isSnapshot(m) && m.host === 'b' && m.seq === 2, 'b#2');
    expect(client.snapshots().map((s) => [s.host, s.seq])).toEqual([
      ['a', 2],
      ['b', 1],
      ['b', 2],
    ]);
    client.ws.close();
  });

  it('filters by subscription, and sends the latest of a newly subscribed host at once', async () => {
    h.bus.publish(snapshotOf('x', 1));
    h.bus.publish(snapshotOf('y', 1));
    const client = await openClient(h.url(token));
    await client.waitFor(isHosts, 'the hosts list');
    client.send({ type: 'subscribe', hosts: ['x'] });
    client.send({ type: 'ping', id: 'subscribed' });
    await client.waitFor((m) => isPong(m) && m.id === 'subscribed', 'pong');
    const before = client.messages.length;
    h.bus.publish(snapshotOf('y', 2));
    h.bus.publish(snapshotOf('x', 2));
    await client.waitFor((m) => isSnapshot(m) && m.host === 'x' && m.seq === 2, 'x#2');
    expect(client.messages.slice(before).map((m) => isSnapshot(m) && [m.host, m.seq])).toEqual([
      ['x', 2],
    ]);

    const mark = client.messages.length;
    client.send({ type: 'subscribe', hosts: ['x', 'y'] });
    await client.waitFor((m) => isSnapshot(m) && m.host === 'y' && m.seq === 2, 'y#2 at once');
    expect(client.messages.slice(mark).map((m) => isSnapshot(m) && [m.host, m.seq])).toEqual([
      ['y', 2],
    ]);

    const again = client.messages.length;
    client.send({ type: 'request_snapshot' });
    await waitUntil(() => client.messages.length >= again + 2, 'the latest again');
    expect(
      client.messages
        .slice(again)
        .map((m) => isSnapshot(m) && [m.host, m.seq])
        .sort(),
    ).toEqual([
      ['x', 2],
      ['y', 2],
    ]);
    client.ws.close();
  });

  it('answers ping with pong echoing the id, and bad messages with coded errors', async () => {
    const client = await openClient(h.url(token));
    client.send({ type: 'ping', id: 42 });
    const pong = await client.waitFor(isPong, 'pong');
    expect(pong.id).toBe(42);
    expect(Number.isFinite(Date.parse(pong.timestamp))).toBe(true);

    client.send('{not json');
    client.send({ type: 'shout' });
    client.send({ type: 'subscribe', hosts: 'all' });
    client.send({ type: 'resume', host: 'a', after: 'yesterday' });
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await waitUntil(() => client.messages.filter(isError).length >= 5, 'five errors');
    expect(client.messages.filter(isError).map((m) => m.code)).toEqual([
      'bad_json',
      'bad_message',
      'bad_message',
      'bad_message',
      'bad_message',
    ]);
    expect(client.messages.filter(isError)[1]?.error).toContain('unknown message type "shout"');
    // Still served.
    client.send({ type: 'ping', id: 'after' });
    await client.waitFor((m) => isPong(m) && m.id === 'after', 'pong after errors');
    client.ws.close();
  });

  it('closes 1009 on a frame over 4 KiB; another client does not notice', async () => {
    const other = await openClient(h.url(token));
    const big = await openClient(h.url(token));
    await big.waitFor(isHosts, 'hosts');
    big.send({ type: 'ping', id: 'x'.repeat(5000) });
    expect((await big.closed).code).toBe(1009);
    h.bus.publish(snapshotOf('after-1009', 1));
    await other.waitFor((m) => isSnapshot(m) && m.host === 'after-1009', 'the next snapshot');
    other.send({ type: 'ping', id: 'still here' });
    await other.waitFor((m) => isPong(m) && m.id === 'still here', 'pong');
    other.ws.close();
  });
});

describe('stream server: token lifetime on an open socket', () => {
  let h: StreamHarness;

  // Tokens live 4 s and the server allows no leeway, so expiry happens within the test.
  beforeAll(async () => {
    h = await startStreamHarness({ database, tokenTtlSeconds: 4, tokenLeewayMs: 0 });
  });
  afterAll(() => h.close());

  it('closes 1008 "token expired" when the token runs out, unless renewed by an auth message', async () => {
    const { user, token } = await h.login('dave');
    const fresh = createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 3600 }).issue(user);
    const expiresAtMs = (jwt.decode(token) as { exp: number }).exp * 1000;
    const idle = await openClient(h.url(token));
    const renewing = await openClient(h.url(token));
    renewing.send({ type: 'auth', token: fresh.token });

    expect(await idle.closed).toEqual({ code: 1008, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAtMs);
    await waitUntil(() => Date.now() > expiresAtMs + 500, 'the old expiry to pass');
    renewing.send({ type: 'ping', id: 'later' });
    await renewing.waitFor((m) => isPong(m) && m.id === 'later', 'pong after the old expiry');
    renewing.ws.close();
    expect((await renewing.closed).code).toBe(1005);
  });

  it('closes 1008 when a renewal token is bad', async () => {
    const { token } = await h.login('erin');
    const client = await openClient(h.url(token));
    client.send({ type: 'auth', token: 'forged' });
    expect(await client.closed).toEqual({ code: 1008, reason: 'invalid token' });
  });
});

describe('stream server: heartbeat, shutdown and logs', () => {
  it('terminates a client that does not answer pings; one that does stays', async () => {
    // Not shorter: the clients share the server's event loop, and a loop stalled for a whole
    // interval on a busy machine would make the lively client miss its pong too.
    const h = await startStreamHarness({ database, heartbeatIntervalMs: 1000 });
    try {
      const { token } = await h.login('frank');
      const silent = await openClient(h.url(token), { autoPong: false });
      const lively = await openClient(h.url(token));
      expect((await silent.closed).code).toBe(1006);
      await waitUntil(() => h.stream.connections() === 1, 'the server to drop the silent socket');
      lively.send({ type: 'ping', id: 'alive' });
      await lively.waitFor((m) => isPong(m) && m.id === 'alive', 'pong');
      lively.ws.close();
    } finally {
      await h.close();
    }
  });

  it('on close(): 1001 to every socket, 503 for new upgrades, stragglers terminated', async () => {
    const h = await startStreamHarness({ database, closeGraceMs: 500 });
    try {
      const { token } = await h.login('gina');
      const clients: TestClient[] = [];
      for (let i = 0; i < 3; i++) clients.push(await openClient(h.url(token)));
      const stuck = await openClient(h.url(token));
      await stuck.waitFor(isHosts, 'hosts');
      // Never reads again, so never answers the closing handshake.
      stuck.ws.pause();
      expect(h.stream.connections()).toBe(4);
      await h.stream.close();
      expect(h.stream.connections()).toBe(0);
      for (const client of clients) {
        expect(await client.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      }
      stuck.ws.resume();
      expect([1001, 1006]).toContain((await stuck.closed).code);
      const late = connect(h.url(token));
      await expect(late.opened).rejects.toMatchObject({ status: 503 });
    } finally {
      await h.close();
    }
  });

  it('logs user names and close codes, never the token or the query string', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const h = await startStreamHarness({ database, logger });
    try {
      const { token } = await h.login('hank');
      const client = await openClient(h.url(token));
      client.send({ type: 'auth', token });
      client.send({ type: 'ping' });
      await client.waitFor(isPong, 'pong');
      client.ws.close(1000, 'bye');
      await client.closed;
      await connect(h.url('bad-token-value')).closed;
      await waitUntil(() => lines.some((l) => l.includes('"code":1000')), 'the close line');
      const log = lines.join('');
      expect(log).toContain('"user":"hank"');
      expect(log).toContain('"reason":"invalid token"');
      expect(log).not.toContain(token);
      expect(log).not.toContain('bad-token-value');
      expect(log).not.toContain('token=');
    } finally {
      await h.close();
    }
  });
});
