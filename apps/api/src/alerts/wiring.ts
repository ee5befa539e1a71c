import { newRedis } from '../lazy-modules.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { AppBus } from '../ingest/app-bus.js';
import type { Database } from '../storage/db.js';
import type { Bus } from '../stream/bus.js';
import { REDIS_PUBLISHER_OPTIONS, REDIS_SUBSCRIBER_OPTIONS } from '../stream/redis-bus.js';
import type { DeliveryContext } from './channels/types.js';
import { createLocalFeed, createRedisFeed } from './feed.js';
import { alwaysLeader, postgresLeadership, redisLeadership, type Leadership } from './leader.js';
import { createAlerts, type Alerts } from './service.js';

/** How long one notification may take before it counts as failed. */
const DELIVERY_TIMEOUT_MS = 10_000;

/** The delivery settings from the configuration. */
export function deliveryContext(config: Config): DeliveryContext {
  return {
    publicUrl: config.publicUrl,
    telegramApiUrl: config.telegramApiUrl,
    timeoutMs: DELIVERY_TIMEOUT_MS,
  };
}

/**
 * Alerts for `ROLE=api`: the election (a Redis lease with REDIS_URL, else a PostgreSQL
 * advisory lock with DATABASE_URL, else PGlite's single process leads), the feed between
 * replicas, and the service. Agents never call this: they never evaluate.
 */
export function createAlertsForApi(
  config: Config,
  deps: { db: Database; bus: Bus; apps: AppBus; logger: Logger },
): Alerts {
  const { db, bus, apps } = deps;
  const logger = deps.logger.child({ component: 'alerts' });
  let leadership: Leadership;
  if (config.redisUrl) {
    leadership = redisLeadership({
      redis: newRedis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
      key: `${config.redisPrefix}alerts:leader`,
      leaseMs: config.alertsLeaseMs,
      logger,
    });
  } else if (db.kind === 'postgres') {
    leadership = postgresLeadership({ db, retryMs: Math.floor(config.alertsLeaseMs / 2), logger });
  } else leadership = alwaysLeader();
  const feed = config.redisUrl
    ? createRedisFeed({
        publisher: newRedis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
        subscriber: newRedis(config.redisUrl, REDIS_SUBSCRIBER_OPTIONS),
        channel: `${config.redisPrefix}alerts`,
        logger,
      })
    : createLocalFeed();
  return createAlerts({
    db,
    bus,
    apps,
    feed,
    leadership,
    logger,
    delivery: deliveryContext(config),
    outbox: {
      retryBaseMs: config.alertsRetryBaseMs,
      retryMaxMs: config.alertsRetryMaxMs,
      ratePerMinute: config.alertsRateLimitPerMinute,
    },
  });
}
