import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicUser, ServerMessage, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { WebSocket, type ClientOptions } from 'ws';
import { createAuthenticator, type Authenticate } from '../src/auth/authenticator.js';
import { createTokenService, type TokenService } from '../src/auth/tokens.js';
import { readSnapshots } from '../src/storage/metrics-store.js';
import { createUserStore, type UserStore } from '../src/storage/users.js';
import { createLocalBus, type Bus } from '../src/stream/bus.js';
import {
  createStreamServer,
  type StreamServer,
  type StreamServerOptions,
} from '../src/stream/ws-server.js';
import { createTestDatabase, silentLogger, type TestDatabase } from './databases.js';

// A real stream server on an ephemeral port, with the real token service and authenticator
// over a PGlite users table, and real `ws` clients. Waits are on events and conditions with
// generous deadlines — never on bare sleeps — so a loaded machine is slower, not flaky.

export const TEST_JWT_SECRET = 'stream-test-secret-that-is-long-enough-0123456789';
export const DEFAULT_DEADLINE_MS = 15_000;

/** Resolves once `check()` is truthy (checked now and every few ms); rejects after the deadline. */
export async function waitUntil<T>(
  check: () => T | undefined | null | false,
  label: string,
  deadlineMs = DEFAULT_DEADLINE_MS,
): Promise<T> {
  const giveUpAt = Date.now() + deadlineMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let seqCounter = 0;
/** A valid snapshot of `host` with a fresh timestamp (ms apart) and the given seq. */
export function snapshotOf(host: string, seq?: number, timestamp?: string): Snapshot {
  seqCounter += 1;
  return makeExampleSnapshot({
    host,
    seq: seq ?? seqCounter,
    timestamp:
      timestamp ?? new Date(Date.parse('2030-01-01T00:00:00.000Z') + seqCounter).toISOString(),
  }) as Snapshot;
}

export interface StreamHarness {
  port: number;
  /** ws://127.0.0.1:<port>/api/ws/metrics, with `?token=` when given. */
  url(token?: string | null, path?: string): string;
  stream: StreamServer;
  bus: Bus;
  http: http.Server;
  database: TestDatabase;
  users: UserStore;
  tokens: TokenService;
  authenticate: Authenticate;
  /** A new user in the table and a token for it. */
  login(username: string): Promise<{ user: PublicUser; token: string }>;
  close(): Promise<void>;
}

export type HarnessOptions = Partial<Omit<StreamServerOptions, 'server'>> & {
  tokenTtlSeconds?: number;
  /** A migrated database to share (PGlite takes seconds to start); else one of its own. */
  database?: TestDatabase;
};

/** Starts a stream server (local bus unless `bus` is given) on 127.0.0.1, ephemeral port. */
export async function startStreamHarness(options: HarnessOptions = {}): Promise<StreamHarness> {
  const { tokenTtlSeconds, database: shared, ...streamOptions } = options;
  const database = shared ?? (await createTestDatabase('pglite'));
  const users = createUserStore(database.db);
  const tokens = createTokenService({
    secret: TEST_JWT_SECRET,
    ttlSeconds: tokenTtlSeconds ?? 3600,
  });
  const authenticate = options.authenticate ?? createAuthenticator({ tokens, users });
  const bus = options.bus ?? createLocalBus();
  const server = http.createServer((_req, res) => {
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stream = createStreamServer({
    server,
    bus,
    authenticate,
    users,
    corsOrigins: ['http://localhost:5173'],
    heartbeatIntervalMs: 30_000,
    maxBufferedBytes: 1024 * 1024,
    resume: (host, after, limit) => readSnapshots(database.db, host, after, limit),
    logger: silentLogger,
    ...streamOptions,
  });
  return {
    port,
    url(token, path = '/api/ws/metrics') {
      const query = token ? `?token=${encodeURIComponent(token)}` : '';
      return `ws://127.0.0.1:${port}${path}${query}`;
    },
    stream,
    bus,
    http: server,
    database,
    users,
    tokens,
    authenticate,
    async login(username) {
      const user = await users.create({ username, passwordHash: 'unused', role: 'viewer' });
      return { user, token: tokens.issue(user).token };
    },
    async close() {
      await stream.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bus.close();
      if (!shared) await database.drop();
    },
  };
}

/** A real `ws` client that records every message and how it closed. */
export interface TestClient {
  ws: WebSocket;
  messages: ServerMessage[];
  /** Snapshots received, in order. */
  snapshots(host?: string): Snapshot[];
  /** Resolves when the connection is open; rejects with the HTTP status if refused. */
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message (from the start) matching, waiting for it if need be. */
  waitFor<T extends ServerMessage>(
    match: (message: ServerMessage) => message is T,
    label: string,
  ): Promise<T>;
  waitFor(match: (message: ServerMessage) => boolean, label: string): Promise<ServerMessage>;
  /** Resolves once `check()` holds, checking it now and after each message. */
  until(check: () => boolean, label: string): Promise<void>;
  send(message: unknown): void;
}

export function connect(url: string, options: ClientOptions = {}): TestClient {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
  const messages: ServerMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString()) as ServerMessage);
    for (const waiter of waiters) waiter();
  });
  function until(check: () => boolean, label: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        settle();
        resolve();
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`timed out waiting for ${label} (got ${messages.length} messages)`));
      }, DEFAULT_DEADLINE_MS);
      const settle = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      waiters.add(waiter);
      waiter();
    });
  }
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
  opened.catch(() => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  return {
    ws,
    messages,
    snapshots: (host) =>
      messages.filter(
        (m): m is Snapshot => m.type === 'snapshot' && (host === undefined || m.host === host),
      ),
    opened,
    closed,
    waitFor(match: (message: ServerMessage) => boolean, label: string) {
      // Each message is matched once, as it arrives (the ones before, once, now).
      let seen = 0;
      let found: ServerMessage | undefined;
      return until(() => {
        for (; seen < messages.length && !found; seen++) {
          const message = messages[seen] as ServerMessage;
          if (match(message)) found = message;
        }
        return found !== undefined;
      }, label).then(() => found as ServerMessage);
    },
    until,
    send(message) {
      ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
  } as TestClient;
}

/** Connects and waits for the open. */
export async function openClient(url: string, options?: ClientOptions): Promise<TestClient> {
  const client = connect(url, options);
  await client.opened;
  return client;
}
