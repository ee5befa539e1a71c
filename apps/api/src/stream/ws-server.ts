import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE_CODES, MAX_CLIENT_FRAME_BYTES } from '@livestat/contracts';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticate } from '../auth/authenticator.js';
import type { RedeemTicket } from '../auth/ws-tickets.js';
import { JWT_CLOCK_TOLERANCE_SECONDS } from '../auth/tokens.js';
import { causeOf, createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { UserStore } from '../storage/users.js';
import { createBroadcaster, type BroadcastObserver } from './broadcaster.js';
import type { AppBus } from '../ingest/app-bus.js';
import type { Bus } from './bus.js';
import { createClientSession, type ClientSession } from './client-session.js';
import type { WatchHub } from './watches.js';
import { startHeartbeat } from './heartbeat.js';
import { createLatestCache, type LatestCache } from './latest-cache.js';
import { DEFAULT_RESUME_LIMIT, type ResumeSource } from './resume.js';
import { watchUserRemovals } from './user-removals.js';
import {
  authenticateTicket,
  authenticateToken,
  checkUpgrade,
  createOriginCheck,
  refuseUpgrade,
  STREAM_PATH,
} from './upgrade.js';

export interface StreamServerOptions {
  /** Attached via server.on('upgrade'); path '/api/ws/metrics' only (others: 404 + destroy). */
  server: http.Server;
  bus: Bus;
  authenticate: Authenticate;
  /** Honours `?ticket=` (POST /api/ws/ticket); without it a ticket is refused 1008 `invalid ticket`. */
  redeemTicket?: RedeemTicket;
  /** Removals through this store close that user's sockets at once; others are found by re-checking. */
  users: Pick<UserStore, 'existing' | 'onRemoved'>;
  /** How often the users of open sockets are looked up again (default 30 s). */
  userRecheckIntervalMs?: number;
  /** Origin allow-list; no Origin header → allowed (non-browser); anything else → 403 before the upgrade. */
  corsOrigins: string[];
  heartbeatIntervalMs: number;
  /** WS_MAX_BUFFERED_BYTES: a socket buffering more is closed 1013 'client too slow'. */
  maxBufferedBytes: number;
  /** The database fallback for `resume` (`readSnapshots(db, …)`). */
  resume: ResumeSource;
  logger: Logger;
  /** Clock leeway the tokens are verified with; a socket closes this long after `exp` (default 60 s). */
  tokenLeewayMs?: number;
  /** Most snapshots one `resume` answers (default 3600). */
  resumeLimit?: number;
  /** Time a closing socket gets to flush its close frame before it is terminated (default 5 s). */
  closeGraceMs?: number;
  /** The ring behind `resume`; default {@link createLatestCache}() (15 minutes per host). */
  cache?: LatestCache;
  /** `app` messages to deliver beside the snapshots (absent: none). */
  apps?: AppBus;
  /** Told after every broadcast: its duration in seconds and the sessions it was offered to (metrics). */
  onBroadcast?: BroadcastObserver;
  /** Full tables sockets may watch (`watch_processes`), see watches.ts. */
  watches?: WatchHub;
  /** A message every socket gets once authenticated, beside the snapshots (the active alerts). */
  greeting?: () => string | null;
}

export interface StreamServer {
  connections(): number;
  /** Sends one server message (not a snapshot) to every authenticated socket, whatever it subscribed to. */
  sendToAll(text: string): void;
  /** Stop accepting upgrades (new ones answered 503), close every socket 1001 'server shutting down', resolve when all are closed (terminate stragglers after a short grace). */
  close(): Promise<void>;
}

/**
 * The live stream at `/api/ws/metrics`: Origin checked and the token verified
 * before a socket exists; a bad token gets 1008 and no data frame; a good one gets the
 * latest snapshot of every host at once, then every published snapshot.
 */
export function createStreamServer(options: StreamServerOptions): StreamServer {
  const { server, bus, logger, maxBufferedBytes } = options;
  const tokenLeewayMs = options.tokenLeewayMs ?? JWT_CLOCK_TOLERANCE_SECONDS * 1000;
  const resumeLimit = options.resumeLimit ?? DEFAULT_RESUME_LIMIT;
  const closeGraceMs = options.closeGraceMs ?? 5000;
  if (!Number.isInteger(maxBufferedBytes) || maxBufferedBytes < 1) {
    throw new RangeError(
      `maxBufferedBytes must be a positive whole number (got ${maxBufferedBytes})`,
    );
  }
  if (!Number.isInteger(resumeLimit) || resumeLimit < 1) {
    throw new RangeError(`resumeLimit must be a positive whole number (got ${resumeLimit})`);
  }
  const originAllowed = createOriginCheck(options.corsOrigins);
  const cache = options.cache ?? createLatestCache();

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_FRAME_BYTES,
    // Off: per-socket zlib contexts cost memory and fragment the heap, and compressing
    // secrets beside attacker-chosen data leaks them (CRIME/BREACH).
    perMessageDeflate: false,
    clientTracking: false,
  });
  wss.on('error', (err) => logger.error({ err }, 'websocket server error'));
  // Shared by every socket: a database outage failing each one's resume is one line a minute.
  const errorLog = createLogLimiter(logger);

  const broadcaster = createBroadcaster({
    bus,
    cache,
    logger,
    onBroadcast: options.onBroadcast,
    apps: options.apps,
  });
  const heartbeat = startHeartbeat({
    intervalMs: options.heartbeatIntervalMs,
    sockets: function* () {
      for (const session of broadcaster.sessions()) yield session.ws;
    },
    onTimeout: () => logger.debug('socket missed a heartbeat; terminating'),
  });
  // Sockets being refused (1008/1013) and every session, until their 'close': shutdown waits for them.
  const open = new Set<WebSocket>();
  const sessions = new Set<ClientSession>();
  let closing = false;
  const removals = watchUserRemovals({
    users: options.users,
    sockets: () => sessions,
    intervalMs: options.userRecheckIntervalMs,
    errorLog,
  });

  function accept(ws: WebSocket, outcome: Awaited<ReturnType<typeof authenticateToken>>): void {
    open.add(ws);
    ws.once('close', () => open.delete(ws));
    if (!outcome.ok) {
      ws.on('error', () => undefined);
      if (outcome.cause) {
        const msg = 'socket authentication failed';
        errorLog.error(causeOf(msg, outcome.cause), { err: outcome.cause }, msg);
      } else logger.info({ code: outcome.code, reason: outcome.reason }, 'socket refused');
      ws.close(outcome.code, outcome.reason);
      return;
    }
    heartbeat.watch(ws);
    const session = createClientSession({
      ws,
      user: outcome.user,
      expiresAtMs: outcome.expiresAtMs,
      latest: () => bus.latest(),
      cache,
      authenticate: options.authenticate,
      resume: options.resume,
      maxBufferedBytes,
      tokenLeewayMs,
      resumeLimit,
      closeGraceMs,
      logger,
      errorLog,
      watches: options.watches,
      onDetach: (detached) => broadcaster.delete(detached),
    });
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
    broadcaster.add(session);
    const greeting = options.greeting?.();
    if (greeting) session.sendText(greeting);
    logger.info({ user: outcome.user.username, connections: broadcaster.size() }, 'socket open');
  }

  async function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // ws installs its own listener once it takes the socket; until then a reset is ours.
    socket.on('error', () => socket.destroy());
    const check = checkUpgrade(req, { closing, originAllowed });
    if (!check.ok) {
      if (check.status === 403) {
        logger.info({ origin: req.headers.origin }, 'socket refused: origin not allowed');
      }
      refuseUpgrade(socket, check.status, check.error);
      return;
    }
    // A ticket, when there is one, is the credential: it is used up whatever else came along.
    const outcome =
      check.ticket !== null
        ? await authenticateTicket(options.redeemTicket, check.ticket)
        : await authenticateToken(options.authenticate, check.token);
    if (closing) {
      refuseUpgrade(socket, 503, 'server shutting down');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, outcome));
  }

  const upgradeListener = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(req, socket, head).catch((err: unknown) => {
      errorLog.error(causeOf('upgrade failed', err), { err, path: STREAM_PATH }, 'upgrade failed');
      socket.destroy();
    });
  };
  server.on('upgrade', upgradeListener);

  let closed: Promise<void> | null = null;
  return {
    connections: () => broadcaster.size(),

    sendToAll(text) {
      for (const session of sessions) session.sendText(text);
    },

    close() {
      closed ??= (async () => {
        closing = true;
        heartbeat.stop();
        removals.stop();
        broadcaster.stop();
        for (const session of sessions)
          session.close(CLOSE_CODES.goingAway, 'server shutting down');
        for (const ws of open) {
          if (ws.readyState === ws.OPEN) ws.close(CLOSE_CODES.goingAway, 'server shutting down');
        }
        const all = [...open].map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === ws.CLOSED) resolve();
              else ws.once('close', () => resolve());
            }),
        );
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<'grace'>((resolve) => {
          timer = setTimeout(() => resolve('grace'), closeGraceMs);
        });
        if ((await Promise.race([Promise.all(all), grace])) === 'grace') {
          for (const ws of open) ws.terminate();
          await Promise.all(all);
        }
        clearTimeout(timer);
        // The 'upgrade' listener stays: a late upgrade is answered 503, not left hanging.
        wss.close();
        errorLog.stop();
      })();
      return closed;
    },
  };
}
