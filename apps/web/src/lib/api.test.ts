import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HistoryResponse, LoginResponse } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AUTHENTICATION_FAILED,
  ApiError,
  AuthError,
  SESSION_EXPIRED,
  createApiClient,
  historySearch,
  sessionEndReason,
  streamUrl,
  ticketedStream,
} from './api';
import { SocketOpenError } from './stream-socket';

const TOKEN = 'header.payload.signature';
const USER = { id: 1, username: 'alice', role: 'admin' } as const;
const LOGIN: LoginResponse = { token: TOKEN, expiresAt: '2030-01-01T00:00:00.000Z', user: USER };

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base = '';
let handler: Handler;
const seen: Seen[] = [];

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      handler(req, res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  seen.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (overrides: Parameters<typeof createApiClient>[0] = {}) =>
  createApiClient({ baseUrl: base, getToken: () => TOKEN, ...overrides });

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

describe('createApiClient over real HTTP', () => {
  it('logs in with a JSON body and no Authorization header', async () => {
    handler = (_req, res) => json(res, 200, LOGIN);
    const answer = await createApiClient({ baseUrl: base }).login('alice', 'secret pass');
    expect(answer).toEqual(LOGIN);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/auth/login',
        authorization: undefined,
        contentType: 'application/json',
        body: JSON.stringify({ username: 'alice', password: 'secret pass' }),
      },
    ]);
  });

  it('reports bad credentials as an http 401, not as the end of a session', async () => {
    handler = (_req, res) => json(res, 401, { error: 'invalid username or password' });
    const onUnauthorized = vi.fn();
    const error = await failure(client({ onUnauthorized }).login('alice', 'wrong'));
    expect(error).not.toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ kind: 'http', status: 401 });
    expect(error.message).toBe('invalid username or password');
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('sends the bearer token and validates /api/auth/me', async () => {
    handler = (_req, res) => json(res, 200, { user: USER });
    expect(await client().me()).toEqual({ user: USER });
    expect(seen[0]).toMatchObject({ method: 'GET', authorization: `Bearer ${TOKEN}` });
  });

  it('refreshes with a bodiless POST carrying the bearer token, validated as a login answer', async () => {
    const renewed: LoginResponse = {
      ...LOGIN,
      token: 'new.token.here',
      expiresAt: '2031-01-01T00:00:00.000Z',
    };
    handler = (_req, res) => json(res, 200, renewed);
    expect(await client().refresh()).toEqual(renewed);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/auth/refresh',
        authorization: `Bearer ${TOKEN}`,
        contentType: undefined,
        body: '',
      },
    ]);

    handler = (_req, res) => json(res, 200, { ...renewed, expiresAt: 'tomorrow' });
    expect(await failure(client().refresh())).toMatchObject({
      kind: 'invalid',
      message: 'unexpected answer from /api/auth/refresh at expiresAt',
    });
  });

  it('reports a refused refresh as the end of the session', async () => {
    handler = (_req, res) => json(res, 401, { error: 'token expired' });
    const onUnauthorized = vi.fn();
    const error = await failure(client({ onUnauthorized }).refresh());
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 401, reason: SESSION_EXPIRED });
    expect(onUnauthorized).toHaveBeenCalledWith(error, TOKEN);
  });

  it.each([
    ['token expired', SESSION_EXPIRED],
    ['invalid token', AUTHENTICATION_FAILED],
    ['authentication required', AUTHENTICATION_FAILED],
  ])('turns a 401 "%s" into an AuthError saying "%s"', async (serverSays, shown) => {
    handler = (_req, res) => json(res, 401, { error: serverSays });
    const onUnauthorized = vi.fn();
    const error = await failure(client({ onUnauthorized }).hosts());
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401, reason: shown });
    expect(error.message).toBe(serverSays);
    expect(onUnauthorized).toHaveBeenCalledWith(error, TOKEN);
  });

  it('refuses an authenticated call without a token, sending nothing', async () => {
    const onUnauthorized = vi.fn();
    const error = await failure(client({ getToken: () => null, onUnauthorized }).me());
    expect(error).toBeInstanceOf(AuthError);
    expect(seen).toHaveLength(0);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('asks /api/history with repeated series and epoch-ms times, and validates the answer', async () => {
    const answer: HistoryResponse = {
      host: 'vm-web-01',
      from: 1000,
      to: 61_000,
      bucketMs: 1000,
      tier: 'raw',
      series: { 'cpu.usagePercent': [[1000, 12.5, 10, 15]], 'memory.usedBytes': [] },
    };
    handler = (_req, res) => json(res, 200, answer);
    const result = await client().history({
      host: 'vm-web-01',
      series: ['cpu.usagePercent', 'memory.usedBytes'],
      from: 1000.4,
      to: 60_999.2,
      points: 60,
    });
    expect(result).toEqual(answer);
    const url = new URL(seen[0]!.url, base);
    expect(url.pathname).toBe('/api/history');
    expect(url.searchParams.getAll('series')).toEqual(['cpu.usagePercent', 'memory.usedBytes']);
    expect(Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'series'))).toEqual({
      host: 'vm-web-01',
      from: '1000',
      to: '61000',
      points: '60',
    });
  });

  it('passes a 400 message naming the parameter through', async () => {
    handler = (_req, res) => json(res, 400, { error: "series: unknown series 'cpu.nope'" });
    const error = await failure(client().history({ series: ['cpu.nope'], from: 0, to: 1 }));
    expect(error).toMatchObject({ kind: 'http', status: 400 });
    expect(error.message).toBe("series: unknown series 'cpu.nope'");
  });

  it('validates the latest snapshots and the hosts list', async () => {
    const snapshot = makeExampleSnapshot();
    handler = (req, res) =>
      req.url === '/api/hosts'
        ? json(res, 200, { hosts: [{ name: 'vm-web-01', lastSeen: snapshot.timestamp }] })
        : json(res, 200, { snapshots: [snapshot] });
    expect(await client().latestSnapshots()).toEqual([snapshot]);
    expect(await client().hosts()).toEqual([{ name: 'vm-web-01', lastSeen: snapshot.timestamp }]);
  });

  it('reports a 2xx that is not the contract body as invalid, naming where', async () => {
    const broken = { ...makeExampleSnapshot(), seq: -1 };
    handler = (_req, res) => json(res, 200, { snapshots: [broken] });
    const error = await failure(client().latestSnapshots());
    expect(error).toMatchObject({ kind: 'invalid', status: 200 });
    expect(error.message).toBe('unexpected answer from /api/snapshots/latest at snapshots.0.seq');

    handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    expect(await failure(client().hosts())).toMatchObject({ kind: 'invalid' });
  });

  it('reports an error status without a JSON body by its status', async () => {
    handler = (_req, res) => res.writeHead(500).end('Internal Server Error');
    const error = await failure(client().hosts());
    expect(error).toMatchObject({ kind: 'http', status: 500, message: 'HTTP 500' });
  });

  it("reads a proxy's 502/503/504 without the API's JSON as the API being unreachable", async () => {
    for (const status of [502, 503, 504]) {
      // Vite's dev proxy answers an empty text/plain 502; nginx an HTML page.
      handler = (_req, res) =>
        res.writeHead(status, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
      const error = await failure(client().login('alice', 'pw'));
      expect(error).toMatchObject({
        kind: 'network',
        status,
        message: `cannot reach the livestat API (HTTP ${status})`,
      });
    }
    // The API's own 503 says why, and is passed through as such.
    handler = (_req, res) => json(res, 503, { error: 'server shutting down' });
    const own = await failure(client().hosts());
    expect(own).toMatchObject({ kind: 'http', status: 503, message: 'server shutting down' });
  });

  it('buys a socket ticket with a bodiless POST carrying the bearer token', async () => {
    const answer = { ticket: 'T'.repeat(43), expiresAt: '2030-01-01T00:00:30.000Z' };
    handler = (_req, res) => json(res, 200, answer);
    expect(await client().wsTicket()).toEqual(answer);
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/api/ws/ticket',
      authorization: `Bearer ${TOKEN}`,
    });
  });

  it('gives up on a server that never answers', async () => {
    handler = () => undefined; // holds the request open
    const error = await failure(client({ timeoutMs: 50 }).hosts());
    expect(error).toMatchObject({ kind: 'timeout', message: 'no answer within 50 ms' });
  });

  it("stops at the caller's abort", async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const pending = failure(client().hosts({ signal: controller.signal }));
    await vi.waitUntil(() => seen.length === 1);
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'aborted' });
  });

  it('reports a refused connection as a network error', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(client({ baseUrl: `http://127.0.0.1:${port}` }).hosts());
    expect(error).toMatchObject({ kind: 'network', status: 0 });
  });
});

describe('sessionEndReason', () => {
  it('says the session expired only for an expired token', () => {
    expect(sessionEndReason('token expired')).toBe(SESSION_EXPIRED);
    expect(sessionEndReason('invalid token')).toBe(AUTHENTICATION_FAILED);
    expect(sessionEndReason(undefined)).toBe(AUTHENTICATION_FAILED);
  });
});

describe('historySearch', () => {
  it('leaves out what was not given', () => {
    expect(historySearch({ series: ['cpu.usagePercent'], from: 5, to: 10 })).toBe(
      'series=cpu.usagePercent&from=5&to=10',
    );
  });
});

describe('streamUrl', () => {
  it("uses the page's origin, ws: or wss: by its scheme, and escapes the ticket", () => {
    expect(streamUrl('', 'a+b/c', { href: 'http://127.0.0.1:5173/login?x=1' })).toBe(
      'ws://127.0.0.1:5173/api/ws/metrics?ticket=a%2Bb%2Fc',
    );
    expect(streamUrl('', 't', { href: 'https://stats.example.com/' })).toBe(
      'wss://stats.example.com/api/ws/metrics?ticket=t',
    );
  });

  it('uses a given base URL', () => {
    expect(streamUrl('http://127.0.0.1:8000', 't', undefined)).toBe(
      'ws://127.0.0.1:8000/api/ws/metrics?ticket=t',
    );
  });
});

describe('ticketedStream', () => {
  const TICKET = 'k'.repeat(43);
  const target = () => ticketedStream(client(), base, undefined)(new AbortController().signal);

  it('answers the stream URL with a fresh ticket, and never the token', async () => {
    handler = (_req, res) =>
      json(res, 200, { ticket: TICKET, expiresAt: '2030-01-01T00:00:30.000Z' });
    const url = await target();
    expect(url).toBe(`${base.replace('http:', 'ws:')}/api/ws/metrics?ticket=${TICKET}`);
    expect(url).not.toContain(TOKEN);
  });

  it('fails as the socket would: 1008 with the reason for a refused token, else 1006', async () => {
    handler = (_req, res) => json(res, 401, { error: 'token expired' });
    await expect(target()).rejects.toMatchObject({ code: 1008, reason: 'token expired' });
    handler = (_req, res) => res.writeHead(502).end();
    await expect(target()).rejects.toMatchObject({
      code: 1006,
      reason: 'ticket: cannot reach the livestat API (HTTP 502)',
    });
    await expect(target()).rejects.toBeInstanceOf(SocketOpenError);
  });
});
