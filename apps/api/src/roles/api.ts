import { once } from 'node:events';
import type { RequestHandler, Router } from 'express';
import type { AddressInfo } from 'node:net';
import { createAuthenticator } from '../auth/authenticator.js';
import { ensureAdminRetrying } from '../auth/bootstrap.js';
import { createRequireAuth } from '../auth/require-auth.js';
import { createTokenService } from '../auth/tokens.js';
import {
  createMemoryTicketStore,
  createRedisTicketStore,
  createTicketRedeemer,
} from '../auth/ws-tickets.js';
import { createAlertsRouter, type AlertsRouterDeps } from '../alerts/routes.js';
import { createAlertsForApi, deliveryContext } from '../alerts/wiring.js';
import type { Config } from '../config.js';
import { createApp } from '../http/app.js';
import { createMetricsRoute } from '../http/metrics-route.js';
import { createEventLoopMonitor } from '../observability/event-loop.js';
import { createServiceMetrics } from '../observability/metrics.js';
import { runtimeHealthReasons } from '../observability/runtime-health.js';
import { createAuthRouter, type AuthRouterDeps } from '../http/auth-routes.js';
import { createSharedLoginStore } from '../http/login-limit-store.js';
import { createHistoryRouter, type HistoryRouterDeps } from '../http/history-route.js';
import { createHostsRouter, type HostsRouterDeps } from '../http/hosts-routes.js';
import { createSpaRouter } from '../http/spa.js';
import { createTokensRouter, type TokensRouterDeps } from '../http/tokens-routes.js';
import { createUsersRouter, type UsersRouterDeps } from '../http/users-routes.js';
import { createWsTicketRouter, type WsTicketRouterDeps } from '../http/ws-ticket-route.js';
import type { Logger } from '../logger.js';
import { createShutdown } from '../shutdown.js';
import { createHistoryService } from '../storage/history.js';
import { createWorkLimiter } from '../storage/work-limiter.js';
import { readSnapshots } from '../storage/metrics-store.js';
import { MigrationError } from '../storage/migrate.js';
import { databaseStatus } from '../storage/prepare.js';
import { createRetention, retentionRules } from '../storage/retention.js';
import { createUserStore } from '../storage/users.js';
import { createLatestCache } from '../stream/latest-cache.js';
import { limitResumeSource } from '../stream/resume.js';
import { REDIS_PUBLISHER_OPTIONS } from '../stream/redis-bus.js';
import { createStreamServer } from '../stream/ws-server.js';
import { createProcessesRouter, type ProcessesRouterDeps } from '../http/processes-route.js';
import { VERSION } from '../version.js';
import { createAppBus, createAppIngest } from '../ingest/app-ingest.js';
import { createAppStore } from '../ingest/app-store.js';
import { createOtlpRouter } from '../ingest/otlp-route.js';
import { createAppsRouter, type AppsRouterDeps } from '../http/apps-route.js';
import { createTokenStore } from '../tokens/token-store.js';
import { newRedis } from '../lazy-modules.js';
import { createBus, createWatches } from './bus.js';
import { listenProblem } from './listen.js';
import { createPublishingPipeline } from './publishing-pipeline.js';
import { cannotStart, type ApiStart } from './api-start.js';
import { startStorage } from './storage.js';

const DAY_MS = 86_400_000;

/**
 * The routers under `/api`, every route but login behind `requireAuth`. One list, built here and
 * walked by test/auth-table.test.ts, so a route added without its guard fails that test.
 */
export function createApiRouters(deps: {
  requireAuth: RequestHandler;
  auth: Omit<AuthRouterDeps, 'requireAuth'>;
  history: Omit<HistoryRouterDeps, 'guards'>;
  processes: Omit<ProcessesRouterDeps, 'guards'>;
  hosts: Omit<HostsRouterDeps, 'guards'>;
  wsTicket: Omit<WsTicketRouterDeps, 'guards'>;
  users: Omit<UsersRouterDeps, 'guards'>;
  apps: Omit<AppsRouterDeps, 'guards'>;
  /** Absent with ALERTS=off. */
  alerts?: Omit<AlertsRouterDeps, 'guards'>;
  tokens: Omit<TokensRouterDeps, 'guards'>;
}): Router[] {
  const guards = [deps.requireAuth];
  return [
    createAuthRouter({ ...deps.auth, requireAuth: deps.requireAuth }),
    createHistoryRouter({ ...deps.history, guards }),
    createProcessesRouter({ ...deps.processes, guards }),
    createHostsRouter({ ...deps.hosts, guards }),
    createWsTicketRouter({ ...deps.wsTicket, guards }),
    createUsersRouter({ ...deps.users, guards }),
    createAppsRouter({ ...deps.apps, guards }),
    ...(deps.alerts ? [createAlertsRouter({ ...deps.alerts, guards })] : []),
    createTokensRouter({ ...deps.tokens, guards }),
  ];
}

/**
 * `ROLE=api`: storage → auth → bus → sampler → HTTP + WebSocket → graceful shutdown, read top
 * to bottom. Samples its own host like an agent, and serves every host on the bus.
 */
export async function startApi(
  config: Config,
  logger: Logger,
  { opened, jwtSecret, sampling }: ApiStart,
  mode: { dev?: boolean } = {},
): Promise<void> {
  const startedAt = Date.now();
  // PGlite failing to open its directory (begun in beginApi, on its thread) stops start-up.
  opened.opened.catch((err: unknown) => cannotStart(err, opened));
  const storage = startStorage(opened, config, logger);
  const { db } = storage;
  const retention = createRetention({
    db,
    logger,
    rules: retentionRules(config.retentionDays * DAY_MS, config.processRetentionHours * 3_600_000),
  });

  // Auth: HS256 tokens checked against the users table on every request and upgrade.
  // Logins, upgrades and the per-request user lookup run on a lane history never fills.
  const users = createUserStore(db.lane('auth'));
  const tokens = createTokenService({ secret: jwtSecret, ttlSeconds: config.jwtTtlSeconds });
  const authenticate = createAuthenticator({ tokens, users });
  const requireAuth = createRequireAuth({ secret: jwtSecret, users });
  // Socket tickets: in Redis when there is one, so a ticket bought from one replica opens a
  // socket on whichever replica the proxy picks next; else in this process's memory.
  const tickets = config.redisUrl
    ? createRedisTicketStore({
        redis: newRedis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
        logger,
        keyPrefix: `${config.redisPrefix}ws-ticket:`,
      })
    : createMemoryTicketStore();
  // Failed logins: counted in Redis when there is one, so the limit holds across replicas.
  const loginLimitStore = config.redisUrl
    ? createSharedLoginStore({
        redis: newRedis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
        prefix: `${config.redisPrefix}login:`,
        logger,
      })
    : undefined;
  // Serves a login from the moment migrations ran and the first admin exists; health says so.
  let ready = false;

  // The bus: in-process, or Redis so every replica streams every host.
  const bus = createBus(config, logger);
  const watches = createWatches(config, logger);
  const pipeline = createPublishingPipeline(
    config,
    logger,
    { bus, writer: storage.writer, watches },
    sampling,
  );
  const { sampler } = pipeline;
  // Applications' own metrics (StatsD, OTLP), closed into an `app` message by each tick.
  const appBus = createAppBus(config, logger);
  const appStore = createAppStore({ db: db.lane('write'), logger });
  const apps = createAppIngest(config, logger, { bus: appBus, onMessage: appStore.enqueue });
  sampler.subscribe(apps.onSnapshot);
  const apiTokens = createTokenStore(db.lane('auth'), {
    onUseError: (err) => logger.warn({ err }, 'recording an API token use failed'),
  });

  // Each user's history requests and resume pages share one bound: two at once, two waiting.
  const workLimiter = createWorkLimiter();
  // The stream's ring of recent snapshots: what `resume` sends, and what history adds to the
  // database's answer until the batch writer has stored it.
  const recent = createLatestCache();
  const history = createHistoryService({
    recent: (host) => recent.entries(host),
    db: db.lane('read'),
    timeoutMs: config.historyQueryTimeoutMs,
    maxRowsScanned: config.historyMaxRows,
    localHost: config.hostName,
    // Every host on the bus, this process's own among them when it samples.
    streamingHosts: async () => (await bus.latest()).map((message) => message.snapshot.host),
    rawRetentionMs: config.retentionDays * DAY_MS,
    minBucketMs: config.samplingIntervalMs,
  });
  const spa = createSpaRouter(config.webDistDir);
  if (spa === null) {
    logger.info(
      { webDistDir: config.webDistDir },
      mode.dev
        ? 'the dashboard is served by the Vite dev server (npm run dev), not by the API'
        : 'no dashboard build found; serving the API only (npm run build first to serve it here)',
    );
  }
  // Alerts: every replica serves them; the elected one evaluates and notifies.
  const alerts = config.alertsEnabled
    ? createAlertsForApi(config, { db, bus, apps: appBus, logger })
    : null;
  let connections = () => 0;
  // Health's and /metrics' view of this process's rhythm: a blocked loop stalls everything.
  const eventLoop = createEventLoopMonitor();
  const metrics = createServiceMetrics({
    sockets: () => connections(),
    sampler: () => sampler.stats(),
    eventLoop: () => eventLoop.lag(),
    writer: () => storage.writer.stats(),
    redis: 'stats' in bus ? () => bus.stats() : undefined,
    alerts: alerts ? () => alerts.active() : undefined,
  });
  // Every host's newest snapshot: this process's own and, over Redis, every agent's.
  bus.subscribe(({ snapshot }) => metrics.observeSnapshot(snapshot));
  appBus.subscribe(({ message }) => metrics.observeApp(message));
  const app = createApp({
    logger,
    health: async () => {
      const { seq, lastSnapshot, skippedTicks, skippedTicksLastMinute } = sampler.stats();
      const database = storage.ready() ? await databaseStatus(db.lane('auth')) : 'down';
      const redis = bus.status();
      const writer = storage.writer.stats();
      const buffered = writer.queued + writer.inFlight;
      const lag = eventLoop.lag();
      const reasons = [
        ...(ready ? [] : ['starting: migrations/admin not ready']),
        ...(database === 'up' ? [] : [`database ${database}`]),
        ...(redis === 'down' ? ['Redis down'] : []),
        ...(writer.storage === 'disk full'
          ? [`disk full: history paused, ${buffered} snapshots buffered`]
          : []),
        // History alone waiting for connections: logins and writes have lanes of their own.
        ...(db.stats().read.waiting > 0 ? ['history queries queued: their pool is saturated'] : []),
        ...runtimeHealthReasons({ sampler: { skippedTicksLastMinute }, eventLoop: lag }),
      ];
      return {
        status: reasons.length === 0 ? 'ok' : 'degraded',
        reasons,
        version: VERSION,
        host: config.hostName,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        database,
        redis,
        storage: writer.storage,
        bufferedSnapshots: buffered,
        websocketConnections: connections(),
        sampler: {
          seq,
          lastSnapshotAt: lastSnapshot?.timestamp ?? null,
          skippedTicksLastMinute,
          skippedTicksTotal: skippedTicks,
        },
        eventLoop: { lagMs: lag.lagMs, maxLagMs: lag.maxLagMs },
      };
    },
    routers: createApiRouters({
      requireAuth,
      auth: { users, tokens, loginLimitStore },
      history: { history, limiter: workLimiter },
      processes: {
        db: db.lane('read'),
        timeoutMs: config.historyQueryTimeoutMs,
        processRetentionMs: config.processRetentionHours * 3_600_000,
        limiter: workLimiter,
      },
      hosts: { bus, db: db.lane('read') },
      wsTicket: { tickets, tokens },
      users: { users, logger },
      apps: {
        localHost: config.hostName,
        describeLocal: config.sampling ? apps.describe : undefined,
        bus: appBus,
        maxSeries: config.appMaxSeries,
      },
      alerts: alerts ? { alerts, delivery: deliveryContext(config) } : undefined,
      tokens: { apiTokens, logger },
    }),
    ingestRouters: [createOtlpRouter({ tokens: apiTokens, ingest: apps.ingestOtlp, logger })],
    rootRouters: [createMetricsRoute({ metrics, token: config.metricsToken })],
    spa,
    trustProxy: config.trustProxy,
  });

  // SAMPLING=off: a replica that only serves; what it streams comes over Redis.
  if (config.sampling) {
    await apps.start();
    await sampler.start();
  }
  const server = app.listen(config.port, config.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    // Taken between the check and now: the same one line.
    const problem = listenProblem(err as NodeJS.ErrnoException, config.host, config.port, 'PORT');
    process.stderr.write(`livestat: ${problem}\n`);
    process.exit(1);
  }
  const stream = createStreamServer({
    server,
    bus,
    authenticate,
    redeemTicket: createTicketRedeemer({ tickets, users }),
    // A user deleted here closes its sockets at once; by the users CLI, within 30 s.
    users,
    corsOrigins: config.corsOrigins,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    cache: recent,
    apps: appBus,
    resume: limitResumeSource(
      (host, after, limit, read) =>
        readSnapshots(db.lane('read'), host, after, limit, { signal: read?.signal }),
      workLimiter,
    ),
    logger,
    onBroadcast: metrics.onBroadcast,
    watches,
    greeting: alerts
      ? () => JSON.stringify({ type: 'alerts', active: alerts.active() })
      : undefined,
  });
  alerts?.onMessage((text) => stream.sendToAll(text));
  connections = () => stream.connections();
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  // Where a person opens the dashboard in this mode: never a server that is not running.
  const dashboardUrl = mode.dev
    ? `http://127.0.0.1:${config.webPort} (the Vite dev server)`
    : spa !== null
      ? url
      : null;
  logger.info(
    {
      url,
      host: config.hostName,
      sampling: config.sampling,
      intervalMs: config.samplingIntervalMs,
      collectors: config.collectors,
      bus: config.redisUrl ? 'redis' : 'in-process',
      version: VERSION,
    },
    `livestat API listening on ${url} (health: /api/health, stream: /api/ws/metrics, Prometheus: /metrics)`,
  );

  const shutdown = createShutdown(logger, [
    pipeline.stopSampling,
    ['stop statsd', () => apps.close()],
    // The lead released first, so another replica takes over at once.
    ['stop alerts', async () => alerts?.stop()],
    // No new upgrades; every socket gets 1001 'server shutting down'.
    ['close sockets', () => stream.close()],
    pipeline.stopCollectors,
    ['stop retention', () => retention.stop()],
    ['stop event-loop monitor', async () => eventLoop.stop()],
    [
      'close http server',
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ],
    ['flush application metrics', () => appStore.close()],
    storage.flushStep,
    storage.closeStep,
    ['close bus', () => bus.close()],
    ['close watches', () => watches.close()],
    ['close app bus', () => appBus.close()],
    ['close ticket store', () => tickets.close()],
    ['close login limit store', async () => loginLimitStore?.close()],
  ]);
  let stopping = false;
  storage.prepared.then(
    async () => {
      // Stopped while PGlite was still opening: nothing left to start.
      if (stopping) return;
      retention.start();
      let outcome;
      try {
        outcome = await ensureAdminRetrying(
          {
            users,
            username: config.adminUsername,
            password: config.adminPassword,
            logger,
            // Printed once, never through the logger: log files outlive the moment.
            announce: (text) => process.stderr.write(`${text}\n`),
          },
          { stopped: () => stopping },
        );
      } catch (err) {
        if (stopping) return;
        logger.fatal({ err: { message: (err as Error).message } }, 'cannot create the first admin');
        void shutdown('admin bootstrap failed', true);
        return;
      }
      ready = true;
      alerts?.start().catch((err: unknown) => logger.error({ err }, 'alerts failed to start'));
      logger.info(
        { username: outcome === 'exists' ? undefined : config.adminUsername },
        (dashboardUrl === null
          ? `log in at ${url}/api/auth/login (the API only: no dashboard build here)`
          : `log in at ${dashboardUrl}`) +
          (outcome === 'exists' ? '' : ` as ${config.adminUsername}`),
      );
    },
    (err: unknown) => {
      if (!(err instanceof MigrationError)) return; // aborted by shutdown
      // A broken or edited migration: stop rather than run on a schema that is not ours.
      logger.fatal({ err }, 'database migration failed');
      void shutdown('migration failed', true);
    },
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      stopping = true;
      void shutdown(signal);
    });
  }
}
