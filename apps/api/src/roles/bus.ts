import { newRedis } from '../lazy-modules.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createLocalBus, type Bus } from '../stream/bus.js';
import { cgroupWatchKind } from '../stream/cgroup-watch.js';
import { processWatchKind } from '../stream/process-watch.js';
import { createRedisWatchRelay } from '../stream/watch-relay.js';
import { createWatchHub, type WatchHub } from '../stream/watches.js';
import {
  createRedisBus,
  REDIS_PUBLISHER_OPTIONS,
  REDIS_SUBSCRIBER_OPTIONS,
  type RedisBus,
} from '../stream/redis-bus.js';

/**
 * The bus: Redis when REDIS_URL is set, so every replica streams every host, else
 * in-process. With Redis, a publish during an outage fails at once and publishing resumes by
 * itself when Redis is back; sampling and writing never wait on it.
 */
export function createBus(config: Config, logger: Logger): Bus | RedisBus {
  return config.redisUrl
    ? createRedisBus({
        publisher: newRedis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
        // An agent only publishes: it has no sockets to give other hosts' snapshots to.
        subscriber:
          config.role === 'agent' ? undefined : newRedis(config.redisUrl, REDIS_SUBSCRIBER_OPTIONS),
        logger,
        prefix: config.redisPrefix,
      })
    : createLocalBus({ logger });
}

/**
 * The watch hub of the full tables sockets may watch (`watch_processes`, `watch_cgroups`): in-process, or with a
 * Redis relay so a table reaches the replica whose socket watches it from the process sampling
 * that host, and only while it is watched. Its own Redis connections: a subscribed connection
 * runs nothing else, and the bus's subscriber parses every snapshot.
 */
export function createWatches(config: Config, logger: Logger): WatchHub {
  const relay = config.redisUrl
    ? createRedisWatchRelay({
        publisher: newRedis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
        // An agent has no sockets: it only answers watcher keys.
        subscriber:
          config.role === 'agent' ? undefined : newRedis(config.redisUrl, REDIS_SUBSCRIBER_OPTIONS),
        prefix: config.redisPrefix,
        logger,
      })
    : null;
  return createWatchHub({ kinds: [processWatchKind, cgroupWatchKind], relay, logger });
}
