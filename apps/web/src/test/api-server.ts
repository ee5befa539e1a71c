import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientMessage } from '@livestat/contracts';
import type {
  ClientMessage,
  HistoryResponse,
  HostInfo,
  LoginResponse,
  Snapshot,
} from '@livestat/contracts';
import { WebSocketServer } from 'ws';
import { historyAnswer } from './history-answer.js';
import type { WebSocket } from 'ws';

/** The one account the test server knows. */
export const TEST_USER = { id: 1, username: 'alice', role: 'admin' } as const;
export const TEST_PASSWORD = 'correct horse battery';

/** One request the server answered, minus its body. */
export interface SeenRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  authorization: string | undefined;
}

/** One socket the server accepted, with what its client sent and how it closed. */
export interface SeenSocket {
  ws: WebSocket;
  /** The token the socket stands for: its ticket's, or a `?token=`'s. */
  token: string | null;
  /** The upgrade's path and query, as a proxy would log it. */
  url: string;
  received: ClientMessage[];
  /** The close code and reason as the server saw them, once closed. */
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * A small stand-in for the API on an ephemeral port, speaking the real protocol (see the README):
 * login, `me`, refresh, hosts, latest snapshots, history, socket tickets, and the socket (by
 * `?ticket=`, single use, or `?token=`) — 1008 for a bad or expired token or ticket, the latest
 * snapshots and a `hosts` message on connect, `resume` answered from the snapshots it broadcast.
 * `accepting = false` refuses upgrades, as a stopped API would.
 */
export interface TestApiServer {
  readonly baseUrl: string;
  /** Tokens the server honours; `expired` ones are refused as `token expired`. */
  readonly tokens: { valid: Set<string>; expired: Set<string> };
  /** Upgrades are accepted while true; refused (the TCP connection dropped) while false. */
  accepting: boolean;
  /** When set, every socket is closed 1008 with this reason, whatever REST thinks of its token. */
  socketRefusal: string | null;
  /**
   * What `POST /api/auth/refresh` answers for a token it honours (the default: a new session for
   * an hour, the old token left valid as the API leaves it): a session, or `'drop'` to cut the
   * connection unanswered, as an unreachable server would.
   */
  refresh: (token: string) => LoginResponse | 'drop';
  /** What `/api/history` answers (the default: every requested series empty). */
  history: (search: URLSearchParams) => HistoryResponse;
  /** How many `resume`s to come are refused with an `error` of code `busy`, as a loaded API does. */
  resumeBusy: number;
  readonly requests: SeenRequest[];
  readonly sockets: SeenSocket[];
  /** Records `snapshot` as the latest of its host and sends it to every open socket. */
  broadcast(snapshot: Snapshot): void;
  /** Sets the latest snapshot of a host without sending it (what polling and connect see). */
  setLatest(snapshot: Snapshot): void;
  /** Sends any message (a feature's own, such as `alerts`) to every open socket. */
  sendAll(message: unknown): void;
  /**
   * Answers authenticated requests this server does not know (a feature's endpoints): a status
   * and body, or undefined for the default 404.
   */
  extra:
    ((request: SeenRequest, body: string) => { status: number; body?: unknown } | undefined) | null;
  /** When set, `POST /api/ws/ticket` answers this status (`{error}`) instead of a ticket. */
  ticketFailure: number | null;
  /**
   * Issues a session for a fresh valid token, JWT-shaped as the API's are (`iat` and `exp` in its
   * payload, a signature nobody checks): by default issued now for an hour.
   */
  session(expiresAtMs?: number, issuedAtMs?: number): LoginResponse;
  close(): Promise<void>;
}

/** Starts a {@link TestApiServer} on 127.0.0.1. */
export async function startTestApiServer(): Promise<TestApiServer> {
  const tokens = { valid: new Set<string>(), expired: new Set<string>() };
  const requests: SeenRequest[] = [];
  const sockets: SeenSocket[] = [];
  const latest = new Map<string, Snapshot>();
  const sent: Snapshot[] = [];
  /** Unused tickets, and the token each was bought with. */
  const tickets = new Map<string, string>();
  let counter = 0;

  function session(expiresAtMs = Date.now() + 3_600_000, issuedAtMs = Date.now()): LoginResponse {
    counter += 1;
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = {
      sub: String(TEST_USER.id),
      iat: Math.floor(issuedAtMs / 1000),
      exp: Math.floor(expiresAtMs / 1000),
      n: counter,
    };
    const token = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.test-signature-${counter}`;
    tokens.valid.add(token);
    return { token, expiresAt: new Date(expiresAtMs).toISOString(), user: { ...TEST_USER } };
  }

  function refusal(token: string | null): string | null {
    if (token !== null && tokens.valid.has(token)) return null;
    return token !== null && tokens.expired.has(token) ? 'token expired' : 'invalid token';
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  const server: TestApiServer = {
    baseUrl: '',
    tokens,
    accepting: true,
    socketRefusal: null,
    ticketFailure: null,
    refresh: () => session(),
    resumeBusy: 0,
    history: (search) => historyAnswer(search),
    requests,
    sockets,
    broadcast(snapshot) {
      latest.set(snapshot.host, snapshot);
      sent.push(snapshot);
      const text = JSON.stringify(snapshot);
      for (const { ws } of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    },
    setLatest(snapshot) {
      latest.set(snapshot.host, snapshot);
    },
    sendAll(message) {
      const text = JSON.stringify(message);
      for (const { ws } of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    },
    extra: null,
    session,
    close: async () => undefined,
  };

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const authorization = req.headers.authorization;
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: url.pathname,
      search: url.searchParams,
      authorization,
    };
    requests.push(seen);

    if (req.method === 'POST' && url.pathname === '/api/auth/login') {
      const { username, password } = JSON.parse(body || '{}') as Record<string, unknown>;
      if (username === TEST_USER.username && password === TEST_PASSWORD) json(res, 200, session());
      else json(res, 401, { error: 'invalid username or password' });
      return;
    }
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : null;
    const refused = token === null ? 'authentication required' : refusal(token);
    if (refused !== null) {
      json(res, 401, { error: refused });
      return;
    }
    // `token` is never null past the refusal; the check only tells the compiler so.
    if (req.method === 'POST' && url.pathname === '/api/auth/refresh' && token !== null) {
      const answer = server.refresh(token);
      if (answer === 'drop') req.socket.destroy();
      else json(res, 200, answer);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/ws/ticket' && token !== null) {
      if (server.ticketFailure !== null) {
        json(res, server.ticketFailure, { error: 'socket tickets are unavailable' });
        return;
      }
      counter += 1;
      const ticket = `test-ticket-${String(counter).padStart(8, '0')}`;
      tickets.set(ticket, token);
      json(res, 200, { ticket, expiresAt: new Date(Date.now() + 30_000).toISOString() });
      return;
    }
    switch (url.pathname) {
      case '/api/auth/me':
        json(res, 200, { user: TEST_USER });
        return;
      case '/api/hosts': {
        const hosts: HostInfo[] = [...latest.values()].map((s) => ({
          name: s.host,
          lastSeen: s.timestamp,
        }));
        json(res, 200, { hosts });
        return;
      }
      case '/api/snapshots/latest':
        json(res, 200, { snapshots: [...latest.values()] });
        return;
      case '/api/history':
        json(res, 200, server.history(url.searchParams));
        return;
      default: {
        const answer = server.extra?.(seen, body);
        if (answer === undefined) json(res, 404, { error: 'not found' });
        else if (answer.body === undefined) res.writeHead(answer.status).end();
        else json(res, answer.status, answer.body);
      }
    }
  }

  const http = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => handle(req, res, body));
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!server.accepting || url.pathname !== '/api/ws/metrics') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const ticket = url.searchParams.get('ticket');
      const token = ticket === null ? url.searchParams.get('token') : (tickets.get(ticket) ?? null);
      if (ticket !== null) tickets.delete(ticket);
      const seen: SeenSocket = {
        ws,
        token,
        url: `${url.pathname}${url.search}`,
        received: [],
        closed: new Promise((resolve) =>
          ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
        ),
      };
      sockets.push(seen);
      ws.on('error', () => undefined);
      const refused =
        server.socketRefusal ??
        (ticket !== null && token === null ? 'invalid ticket' : refusal(token));
      if (refused !== null) {
        ws.close(1008, refused);
        return;
      }
      ws.on('message', (data) => {
        const message = clientMessage.parse(JSON.parse(String(data)));
        seen.received.push(message);
        if (message.type === 'resume' && server.resumeBusy > 0) {
          server.resumeBusy -= 1;
          const error = 'too many history or resume requests at once';
          ws.send(JSON.stringify({ type: 'error', code: 'busy', error, timestamp: new Date() }));
        } else if (message.type === 'resume') {
          const after = Date.parse(message.after);
          for (const snapshot of sent) {
            if (snapshot.host === message.host && Date.parse(snapshot.timestamp) > after) {
              ws.send(JSON.stringify(snapshot));
            }
          }
        }
      });
      for (const snapshot of latest.values()) ws.send(JSON.stringify(snapshot));
      const hosts = [...latest.values()].map((s) => ({ name: s.host, lastSeen: s.timestamp }));
      ws.send(JSON.stringify({ type: 'hosts', hosts }));
    });
  });

  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  Object.assign(server, {
    baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: async () => {
      for (const { ws } of sockets) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  });
  return server;
}

/**
 * A clock whose timers run only when the test moves time on: reconnect delays and stale
 * marks are stepped through exactly, while the sockets and HTTP underneath stay real.
 */
export interface ManualClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Moves time to `time`, running every timer due by then, in order. */
  advanceTo(time: number): void;
  /** How many timers are waiting. */
  readonly pending: number;
}

/** Creates a {@link ManualClock} reading `start` until moved on. */
export function createManualClock(start: number): ManualClock {
  let now = start;
  let next = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, ms) {
      next += 1;
      timers.set(next, { at: now + Math.max(ms, 0), callback });
      return next;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advanceTo(time) {
      for (;;) {
        let due: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].at <= time && (due === undefined || entry[1].at < due[1].at)) due = entry;
        }
        if (due === undefined) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].callback();
      }
      now = Math.max(now, time);
    },
    get pending() {
      return timers.size;
    },
  };
}
