import { newRedis } from '../lazy-modules.js';
import type { AppMessage, AppServiceInfo, Snapshot } from '@livestat/contracts';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { REDIS_PUBLISHER_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from '../stream/redis-bus.js';
import { createAppAggregator } from './app-aggregator.js';
import { createLocalAppBus, createRedisAppBus, type AppBus } from './app-bus.js';
import { createOtlpIngest } from './otlp-metrics.js';
import { createStatsdServer, type StatsdServer } from './statsd-server.js';

/** The app bus for this process: Redis when REDIS_URL is set (agents only publish). */
export function createAppBus(config: Config, logger: Logger): AppBus {
  return config.redisUrl
    ? createRedisAppBus({
        publisher: newRedis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
        subscriber:
          config.role === 'agent' ? undefined : newRedis(config.redisUrl, REDIS_SUBSCRIBER_OPTIONS),
        prefix: config.redisPrefix,
        logger,
      })
    : createLocalAppBus(logger);
}

/**
 * Application metrics for the host this process samples: StatsD on `STATSD_PORT`, OTLP through
 * `ingest` (the route), aggregated per sampling interval and flushed by the sampler's tick into
 * one `app` message on the bus when anything arrived. `onSnapshot` is the sampler subscriber.
 */
export function createAppIngest(
  config: Config,
  logger: Logger,
  deps: { bus: AppBus; onMessage?: (message: AppMessage) => void },
) {
  const aggregator = createAppAggregator({
    maxSeries: config.appMaxSeries,
    maxTagValues: config.appMaxTagValues,
  });
  const statsd: StatsdServer | null =
    config.statsdPort === null
      ? null
      : createStatsdServer({ host: config.host, port: config.statsdPort, aggregator, logger });
  let statsdPort: number | null = null;

  return {
    aggregator,
    ingestOtlp: createOtlpIngest(aggregator),

    /** The sampler's subscriber: closes the interval at each tick. */
    onSnapshot(snapshot: Snapshot): void {
      const services = aggregator.flush(snapshot.intervalMs);
      if (services === null) return;
      const message = {
        type: 'app' as const,
        host: snapshot.host,
        timestamp: snapshot.timestamp,
        intervalMs: snapshot.intervalMs,
        services,
      };
      deps.bus.publish(message);
      deps.onMessage?.(message);
    },

    /**
     * Binds StatsD. A port taken by another program is logged and StatsD stays off: the host's
     * own monitoring must not stop for an optional input.
     */
    async start(): Promise<void> {
      if (statsd === null) return;
      try {
        statsdPort = await statsd.start();
        logger.info(
          { statsdPort, host: config.host },
          `StatsD listening on udp ${config.host}:${statsdPort}`,
        );
      } catch (err) {
        logger.error(
          { err: (err as Error).message, statsdPort: config.statsdPort },
          `StatsD is off: cannot listen on udp ${config.host}:${config.statsdPort} (STATSD_PORT)`,
        );
      }
    },

    /** Services of this process's host: `GET /api/apps`. */
    describe(): AppServiceInfo[] {
      return aggregator.describe();
    },

    stats: () => statsd?.stats() ?? null,
    close: async () => statsd?.close(),
  };
}

export type AppIngest = ReturnType<typeof createAppIngest>;
