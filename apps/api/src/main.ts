import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createAuthenticator } from './auth/authenticator.js';
import { ensureAdmin } from './auth/bootstrap.js';
import { createRequireAuth } from './auth/require-auth.js';
import { loadJwtSecret } from './auth/secret.js';
import { createTokenService } from './auth/tokens.js';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createSpaRouter } from './http/spa.js';
import { createAuthRouter } from './http/auth-routes.js';
import { createHistoryRouter } from './http/history-route.js';
import { createHostsRouter } from './http/hosts-routes.js';
import { createLogger } from './logger.js';
import { createSamplingPipeline } from './sampling.js';
import { createShutdown } from './shutdown.js';
import { createBatchWriter } from './storage/batch-writer.js';
import { lockDataDir } from './storage/data-dir-lock.js';
import { createPgliteDatabase, createPostgresDatabase, type Database } from './storage/db.js';
import { createHistoryService } from './storage/history.js';
import { readSnapshots, writeSnapshots } from './storage/metrics-store.js';
import { MigrationError } from './storage/migrate.js';
import { databaseStatus, prepareDatabase } from './storage/prepare.js';
import { createRetention, retentionRules } from './storage/retention.js';
import { createUserStore } from './storage/users.js';
import { createLocalBus } from './stream/bus.js';
import {
  createRedisBus,
  REDIS_PUBLISHER_OPTIONS,
  REDIS_SUBSCRIBER_OPTIONS,
} from './stream/redis-bus.js';
import { createStreamServer } from './stream/ws-server.js';
import { VERSION } from './version.js';

// The composition root: config → storage → auth → bus → sampler → HTTP + WebSocket →
// graceful shutdown. Only this file constructs servers and clients; everything else receives them.

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`livestat: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ level: config.logLevel });
const startedAt = Date.now();
const DAY_MS = 86_400_000;

// Storage: PostgreSQL when DATABASE_URL is set, else PGlite embedded under DATA_DIR.
let db: Database;
let releaseDataDir = async () => {};
let jwtSecret: string;
try {
  if (config.databaseUrl) {
    db = createPostgresDatabase({ connectionString: config.databaseUrl, logger });
  } else {
    const dir = join(config.dataDir, 'pglite');
    releaseDataDir = await lockDataDir(dir);
    db = await createPgliteDatabase(dir);
    logger.info({ dir }, 'embedded database (PGlite) opened');
  }
  jwtSecret = await loadJwtSecret({
    configured: config.jwtSecret,
    dataDir: config.dataDir,
    logger,
  });
} catch (err) {
  process.stderr.write(`livestat: cannot start: ${(err as Error).message}\n`);
  await releaseDataDir();
  process.exit(1);
}
const stopPreparing = new AbortController();
let databaseReady = false;
const prepared = prepareDatabase(db, logger, { signal: stopPreparing.signal }).then(() => {
  databaseReady = true;
});
prepared.catch(() => undefined); // handled below, once the shutdown exists
// Until the schema is in place, writes fail and the writer keeps the snapshots for later.
const writer = createBatchWriter({
  write: (batch) =>
    databaseReady ? writeSnapshots(db, batch) : Promise.reject(new Error('database not ready')),
  batchSize: config.batchSize,
  flushIntervalMs: config.flushIntervalMs,
  maxBuffered: config.maxBufferedSnapshots,
  logger,
});
const retention = createRetention({
  db,
  logger,
  rules: retentionRules(config.retentionDays * DAY_MS),
});

// Auth: HS256 tokens checked against the users table on every request and upgrade.
const users = createUserStore(db);
const tokens = createTokenService({ secret: jwtSecret, ttlSeconds: config.jwtTtlSeconds });
const authenticate = createAuthenticator({ tokens, users });
const requireAuth = createRequireAuth({ secret: jwtSecret, users });

// The bus: in-process, or Redis so every replica streams every host.
const bus = config.redisUrl
  ? createRedisBus({
      publisher: new Redis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
      subscriber: new Redis(config.redisUrl, REDIS_SUBSCRIBER_OPTIONS),
      logger,
    })
  : createLocalBus({ logger });

const { aggregator, sampler } = createSamplingPipeline(config, logger);
sampler.subscribe((snapshot) => {
  bus.publish(snapshot);
  writer.enqueue(snapshot);
});

const history = createHistoryService({
  db,
  localHost: config.hostName,
  rawRetentionMs: config.retentionDays * DAY_MS,
  minBucketMs: config.samplingIntervalMs,
});
const spa = createSpaRouter(config.webDistDir);
if (spa === null) {
  logger.info(
    { webDistDir: config.webDistDir },
    'no dashboard build found; serving the API only (npm run build, or the dev server on :5173)',
  );
}
let connections = () => 0;
const app = createApp({
  logger,
  health: async () => {
    const { seq, lastSnapshot } = sampler.stats();
    const database = databaseReady ? await databaseStatus(db) : 'down';
    const redis = bus.status();
    return {
      status: database === 'up' && redis !== 'down' ? 'ok' : 'degraded',
      version: VERSION,
      host: config.hostName,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      database,
      redis,
      websocketConnections: connections(),
      sampler: { seq, lastSnapshotAt: lastSnapshot?.timestamp ?? null },
    };
  },
  routers: [
    createAuthRouter({ users, tokens, requireAuth }),
    createHistoryRouter({ history, guards: [requireAuth] }),
    createHostsRouter({ bus, db, guards: [requireAuth] }),
  ],
  spa,
});

await sampler.start();
const server = app.listen(config.port, config.host);
await once(server, 'listening');
const stream = createStreamServer({
  server,
  bus,
  authenticate,
  corsOrigins: config.corsOrigins,
  heartbeatIntervalMs: config.heartbeatIntervalMs,
  maxBufferedBytes: config.wsMaxBufferedBytes,
  resume: (host, after, limit) => readSnapshots(db, host, after, limit),
  logger,
});
connections = () => stream.connections();
const { port } = server.address() as AddressInfo;
const url = `http://${config.host}:${port}`;
logger.info(
  {
    url,
    host: config.hostName,
    intervalMs: config.samplingIntervalMs,
    collectors: config.collectors,
    bus: config.redisUrl ? 'redis' : 'in-process',
    version: VERSION,
  },
  `livestat API listening on ${url} (health: /api/health, stream: /api/ws/metrics)`,
);

const shutdown = createShutdown(logger, [
  [
    'stop sampling',
    async () => {
      await sampler.stop();
      logger.info({ snapshots: sampler.stats().seq }, 'sampler stopped');
    },
  ],
  // No new upgrades; every socket gets 1001 'server shutting down'.
  ['close sockets', () => stream.close()],
  ['stop collectors', () => aggregator.stop()],
  ['stop retention', () => retention.stop()],
  [
    'close http server',
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  ],
  [
    'flush batch writer',
    async () => {
      // The writer logs what it wrote; what it could not write fails the shutdown.
      const { lost } = await writer.close();
      if (lost > 0)
        throw new Error(`${lost} snapshots could not be written (database unreachable)`);
    },
  ],
  [
    'close database',
    async () => {
      stopPreparing.abort();
      const failure = await prepared.then(
        () => null,
        (err: unknown) => err,
      );
      await db.close();
      await releaseDataDir();
      if (failure instanceof MigrationError) throw failure;
    },
  ],
  ['close bus', () => bus.close()],
]);
prepared.then(
  async () => {
    retention.start();
    let outcome;
    try {
      outcome = await ensureAdmin({
        users,
        username: config.adminUsername,
        password: config.adminPassword,
        logger,
        // Printed once, never through the logger: log files outlive the moment.
        announce: (text) => process.stderr.write(`${text}\n`),
      });
    } catch (err) {
      logger.fatal({ err: { message: (err as Error).message } }, 'cannot create the first admin');
      void shutdown('admin bootstrap failed', true);
      return;
    }
    logger.info(
      { username: outcome === 'exists' ? undefined : config.adminUsername },
      `log in at ${url} (or the Vite dev server at http://127.0.0.1:5173)` +
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
  process.on(signal, () => void shutdown(signal));
}
