import { CLOSE_CODES, type ClientMessage, type PublicUser } from '@livestat/contracts';
import type { WebSocket } from 'ws';
import type { Authenticate } from '../auth/authenticator.js';
import { causeOf, type LogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import { snapshotTime, type BusMessage } from './bus.js';
import type { LatestCache } from './latest-cache.js';
import {
  ClientMessageError,
  errorMessage,
  hostsMessage,
  parseClientFrame,
  pongMessage,
} from './protocol.js';
import { QueryCancelledError } from '../storage/db.js';
import { WorkLimitError } from '../storage/work-limiter.js';
import { resumePages, type ResumeSource } from './resume.js';
import { authenticateToken } from './upgrade.js';
import type { WatchHub } from './watches.js';

export interface ClientSessionOptions {
  ws: WebSocket;
  user: PublicUser;
  /** The token's `exp` in epoch ms. */
  expiresAtMs: number;
  latest: () => Promise<BusMessage[]>;
  cache: LatestCache;
  authenticate: Authenticate;
  resume: ResumeSource;
  maxBufferedBytes: number;
  /** The leeway the token was verified with: the socket closes that long after `exp`. */
  tokenLeewayMs: number;
  resumeLimit: number;
  /** How long a closing socket may take to flush its close frame before it is terminated. */
  closeGraceMs: number;
  logger: Logger;
  /** Error lines shared by every session: a cause failing on every socket is logged once a minute. */
  errorLog: LogLimiter;
  /** The full tables this socket may watch (`watch_processes`); none: watches are ignored. */
  watches?: WatchHub;
  /** Called once, when the session stops taking broadcasts (it is closing or closed). */
  onDetach: (session: ClientSession) => void;
}

/** One authenticated socket: its subscription, its requests, its credential's lifetime. */
export interface ClientSession {
  readonly ws: WebSocket;
  readonly username: string;
  /** The id of the user the socket's current token belongs to (an `auth` renewal may change it). */
  readonly userId: number;
  /** A published snapshot, `data` being its JSON as bytes (made once for every socket). */
  deliver(message: BusMessage, data: Buffer): void;
  /** A server message that is not a snapshot (e.g. `hosts`), with the backpressure check. */
  sendText(text: string): void;
  /** A message about one host (an `app` message), sent only if the socket subscribes to it. */
  deliverFor(host: string, data: Buffer): void;
  close(code: number, reason: string): void;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
}

// Requests answered one at a time; beyond this many waiting, more are refused (`busy`)
// rather than queued without bound.
const MAX_PENDING_REQUESTS = 8;
// setTimeout fires at once for delays past 2^31-1 ms; longer tokens re-arm on the way.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Serves one socket. Requests that send snapshots (the initial latest, `subscribe`,
 * `request_snapshot`, `resume`) run one at a time; while any is pending, broadcast snapshots
 * are held in a bounded queue and sent after it, skipping what the request already sent — so
 * a client sees each host's snapshots in order, with no gap and no duplicate.
 */
export function createClientSession(options: ClientSessionOptions): ClientSession {
  const { ws, cache, maxBufferedBytes, logger } = options;
  let user = options.user;
  let state: 'open' | 'closing' | 'closed' = 'open';
  let subscription: Set<string> | null = null; // null: every host
  let pending = 0;
  let chain: Promise<void> = Promise.resolve();
  let held: { message: BusMessage; data: Buffer }[] = [];
  let heldBytes = 0;
  const lastSent = new Map<string, number>();
  let expiryTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const wants = (host: string) => subscription === null || subscription.has(host);

  function send(data: string | Buffer): void {
    if (state !== 'open') return;
    // Checked before sending: a client that does not read is closed, not buffered for.
    if (ws.bufferedAmount > maxBufferedBytes) {
      close(CLOSE_CODES.tryAgainLater, 'client too slow');
      return;
    }
    ws.send(data, { binary: false });
  }

  /** Sends within the buffer limit by waiting for the socket to drain: for bulk answers. */
  async function sendPaced(text: string): Promise<boolean> {
    if (state !== 'open') return false;
    if (ws.bufferedAmount < maxBufferedBytes / 2) ws.send(text);
    // The callback runs once this frame is written out (or the socket is gone).
    else await new Promise<void>((resolve) => ws.send(text, () => resolve()));
    return state === 'open';
  }

  function sendSnapshot(message: BusMessage): void {
    lastSent.set(message.snapshot.host, snapshotTime(message));
    send(message.json);
  }

  function close(code: number, reason: string): void {
    if (state !== 'open') return;
    state = 'closing';
    release();
    ws.close(code, reason);
    // A client that stopped reading never takes the close frame: drop it after a grace.
    graceTimer = setTimeout(() => ws.terminate(), options.closeGraceMs);
    graceTimer.unref();
  }

  let detached = false;
  // Aborted once the socket closes: a resume's page query has nobody left to answer.
  const gone = new AbortController();
  function release(): void {
    gone.abort();
    clearTimeout(expiryTimer);
    held = [];
    heldBytes = 0;
    if (!detached) {
      detached = true;
      options.watches?.release(session);
      options.onDetach(session);
    }
  }

  function armExpiry(expiresAtMs: number): void {
    clearTimeout(expiryTimer);
    const delay = expiresAtMs + options.tokenLeewayMs - Date.now();
    if (delay <= 0) {
      close(CLOSE_CODES.policyViolation, 'token expired');
      return;
    }
    expiryTimer = setTimeout(() => armExpiry(expiresAtMs), Math.min(delay, MAX_TIMER_MS));
    expiryTimer.unref();
  }

  /** Runs `work` after the requests before it, holding broadcasts until none is pending. */
  function request(work: () => Promise<void>): void {
    if (pending >= MAX_PENDING_REQUESTS) {
      send(errorMessage('busy', 'too many requests in flight; this one was dropped'));
      return;
    }
    pending += 1;
    chain = chain
      .then(() => (state === 'open' ? work() : undefined))
      .catch((err: unknown) => {
        const msg = 'stream request failed';
        options.errorLog.error(causeOf(msg, err), { err, user: user.username }, msg);
        send(errorMessage('internal', 'the request failed'));
      })
      .finally(() => {
        pending -= 1;
        if (pending === 0) flushHeld();
      });
  }

  function flushHeld(): void {
    const queue = held;
    held = [];
    heldBytes = 0;
    for (const { message, data } of queue) {
      if (state !== 'open') break;
      const host = message.snapshot.host;
      const sentUpTo = lastSent.get(host);
      if (!wants(host) || (sentUpTo !== undefined && snapshotTime(message) <= sentUpTo)) continue;
      send(data);
    }
    lastSent.clear();
  }

  async function sendLatest(hosts: (host: string) => boolean, withHosts: boolean): Promise<void> {
    const latest = await options.latest();
    for (const message of latest) {
      if (hosts(message.snapshot.host)) sendSnapshot(message);
    }
    if (withHosts) {
      const seen = latest.map((m) => ({ name: m.snapshot.host, lastSeen: m.snapshot.timestamp }));
      send(hostsMessage(seen));
    }
  }

  function handle(message: ClientMessage): void {
    switch (message.type) {
      case 'ping':
        send(pongMessage(message.id));
        return;
      case 'request_snapshot':
        request(() => sendLatest(wants, false));
        return;
      case 'subscribe': {
        const before = subscription;
        subscription = message.hosts.length === 0 ? null : new Set(message.hosts);
        const added = (host: string) => wants(host) && before !== null && !before.has(host);
        request(() => sendLatest(added, false));
        return;
      }
      case 'auth':
        request(async () => {
          const outcome = await authenticateToken(options.authenticate, message.token);
          if (outcome.ok) {
            // Accepted silently: the client learns of a refusal by the 1008 close.
            user = outcome.user;
            armExpiry(outcome.expiresAtMs);
          } else if (outcome.code === CLOSE_CODES.policyViolation) {
            close(outcome.code, outcome.reason);
          } else {
            const msg = 'token renewal failed';
            const fields = { err: outcome.cause, user: user.username };
            options.errorLog.error(causeOf(msg, outcome.cause), fields, msg);
            send(errorMessage('internal', 'authentication is unavailable; try again'));
          }
        });
        return;
      case 'watch_processes': {
        if (!options.watches) {
          send(errorMessage('bad_message', 'process tables are not served here'));
          return;
        }
        const { host, sort, limit } = message;
        const refused = options.watches.watch(session, 'processes', host, { sort, limit });
        if (refused) send(errorMessage('too_many_watches', refused));
        return;
      }
      case 'unwatch_processes':
        options.watches?.unwatch(session, 'processes', message.host);
        return;
      case 'watch_cgroups': {
        if (!options.watches) {
          send(errorMessage('bad_message', 'cgroup tables are not served here'));
          return;
        }
        const refused = options.watches.watch(session, 'cgroups', message.host, null);
        if (refused) send(errorMessage('too_many_watches', refused));
        return;
      }
      case 'unwatch_cgroups':
        options.watches?.unwatch(session, 'cgroups', message.host);
        return;
      case 'resume':
        request(async () => {
          // A page at a time, each read once the one before has drained into the socket.
          const pages = resumePages(cache, options.resume, message, {
            limit: options.resumeLimit,
            read: { signal: gone.signal, userId: user.id },
          });
          try {
            for await (const page of pages) {
              for (const { json, timestampMs } of page) {
                if (!(await sendPaced(json))) return;
                lastSent.set(message.host, timestampMs);
              }
            }
          } catch (err) {
            if (err instanceof QueryCancelledError && gone.signal.aborted) return;
            if (err instanceof WorkLimitError) {
              // What was sent stands: the client resumes again after its last snapshot.
              send(errorMessage('busy', err.message));
              return;
            }
            const msg = 'resume: reading the database failed';
            options.errorLog.error(causeOf(msg, err), { err, host: message.host }, msg);
            send(errorMessage('resume_failed', 'stored snapshots are unavailable; try again'));
          }
        });
        return;
    }
  }

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (state !== 'open') return;
    try {
      handle(parseClientFrame(data, isBinary));
    } catch (err) {
      if (err instanceof ClientMessageError) {
        send(errorMessage(err.code, err.message));
        return;
      }
      // A throw here would reach ws' parser: answer, log, and keep the socket and server up.
      const msg = 'stream message handling failed';
      options.errorLog.error(causeOf(msg, err), { err, user: user.username }, msg);
      send(errorMessage('internal', 'the message could not be handled'));
    }
  });
  ws.on('error', (err: Error & { code?: string }) => {
    // ws closes the socket itself after this (e.g. 1009 for a frame over maxPayload).
    logger.debug({ user: user.username, err: err.message, code: err.code }, 'socket error');
  });
  ws.on('close', (code: number, reason: Buffer) => {
    state = 'closed';
    release();
    clearTimeout(graceTimer);
    logger.info({ user: user.username, code, reason: reason.toString() }, 'socket closed');
    markClosed();
  });

  const session: ClientSession = {
    ws,
    get username() {
      return user.username;
    },
    get userId() {
      return user.id;
    },
    deliver(message, data) {
      if (state !== 'open' || !wants(message.snapshot.host)) return;
      if (pending === 0) {
        send(data);
        return;
      }
      held.push({ message, data });
      heldBytes += data.length;
      if (heldBytes > maxBufferedBytes) close(CLOSE_CODES.tryAgainLater, 'client too slow');
    },
    sendText: send,
    deliverFor(host, data) {
      if (state === 'open' && wants(host)) send(data);
    },
    close,
    closed,
  };

  armExpiry(options.expiresAtMs);
  // The latest snapshot of every host at once, then a `hosts` list; broadcasts wait behind it.
  request(() => sendLatest(wants, true));
  return session;
}
