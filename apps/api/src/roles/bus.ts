import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createLocalBus, type Bus } from '../stream/bus.js';
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
        publisher: new Redis(config.redisUrl, REDIS_PUBLISHER_OPTIONS),
        // An agent only publishes: it has no sockets to give other hosts' snapshots to.
        subscriber:
          config.role === 'agent'
            ? undefined
            : new Redis(config.redisUrl, REDIS_SUBSCRIBER_OPTIONS),
        logger,
        prefix: config.redisPrefix,
      })
    : createLocalBus({ logger });
}
