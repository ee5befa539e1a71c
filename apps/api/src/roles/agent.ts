import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createShutdown } from '../shutdown.js';
import { MigrationError } from '../storage/migrate.js';
import { VERSION } from '../version.js';
import { createAppBus, createAppIngest } from '../ingest/app-ingest.js';
import { createAppStore } from '../ingest/app-store.js';
import { createBus, createWatches } from './bus.js';
import { displayUrl } from './display-url.js';
import { createPublishingPipeline } from './publishing-pipeline.js';
import { openDatabase, startStorage, type OpenedDatabase } from './storage.js';

/**
 * `ROLE=agent` (see the README), one per monitored host: collectors → sampler → every snapshot
 * published to Redis (which also refreshes `<REDIS_PREFIX>latest:<host>`) and queued for the batch
 * writer into PostgreSQL. No HTTP server, no sockets, no users, no JWT secret: the API
 * replicas serve what agents publish and store.
 *
 * Not here: retention. The API replicas own it; agents pruning the same tables would only
 * contend for the same rows.
 */
export async function startAgent(config: Config, logger: Logger): Promise<void> {
  const { databaseUrl, redisUrl } = config;
  // loadConfig refuses ROLE=agent without both: an agent on PGlite or the in-process bus
  // would be invisible to every dashboard.
  if (!databaseUrl || !redisUrl) throw new Error('ROLE=agent needs DATABASE_URL and REDIS_URL');

  // Migrations run here too, under the same advisory lock as the API's, so an agent may start
  // before any API replica. With PostgreSQL down they are retried while the writer buffers.
  let opened: OpenedDatabase;
  try {
    opened = await openDatabase(config, logger);
  } catch (err) {
    process.stderr.write(`livestat: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const storage = startStorage(opened, config, logger);

  // With Redis down, sampling and writing carry on; publishing resumes by itself.
  const bus = createBus(config, logger);
  const watches = createWatches(config, logger);
  const pipeline = createPublishingPipeline(config, logger, {
    bus,
    writer: storage.writer,
    watches,
  });

  // Applications on this host push StatsD here; their `app` messages go out over Redis.
  const appBus = createAppBus(config, logger);
  const appStore = createAppStore({ db: storage.db.lane('write'), logger });
  const apps = createAppIngest(config, logger, { bus: appBus, onMessage: appStore.enqueue });
  pipeline.sampler.subscribe(apps.onSnapshot);
  await apps.start();
  await pipeline.sampler.start();
  const publishTo = displayUrl(redisUrl);
  const storeIn = displayUrl(databaseUrl);
  logger.info(
    {
      role: 'agent',
      host: config.hostName,
      intervalMs: config.samplingIntervalMs,
      collectors: config.collectors,
      publishTo,
      storeIn,
      version: VERSION,
    },
    `livestat agent sampling ${config.hostName} every ${config.samplingIntervalMs} ms, ` +
      `publishing to ${publishTo}, storing in ${storeIn} (no HTTP)`,
  );

  // The API's order, minus the server and its sockets.
  const shutdown = createShutdown(logger, [
    pipeline.stopSampling,
    ['stop statsd', () => apps.close()],
    pipeline.stopCollectors,
    ['flush application metrics', () => appStore.close()],
    storage.flushStep,
    storage.closeStep,
    ['close bus', () => bus.close()],
    ['close watches', () => watches.close()],
    ['close app bus', () => appBus.close()],
  ]);
  storage.prepared.catch((err: unknown) => {
    if (!(err instanceof MigrationError)) return; // aborted by shutdown
    // A broken or edited migration: stop rather than write into a schema that is not ours.
    logger.fatal({ err }, 'database migration failed');
    void shutdown('migration failed', true);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void shutdown(signal));
  }
}
