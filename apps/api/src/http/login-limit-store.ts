import { MemoryStore, type Options, type Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from '../logger.js';

const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/** Resolves when `redis` is first ready, or after two seconds. */
function firstReady(redis: Redis): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, 2000);
    redis.once('ready', done);
  });
}

/** The login limiter's counts in Redis, with what is left to release on shutdown. */
export interface SharedLoginStore extends Store {
  /** Quits the Redis client the store was given. */
  close(): Promise<void>;
}

export interface SharedLoginStoreOptions {
  /**
   * A client of its own, which the store owns from now on. Construct it with
   * `enableOfflineQueue: false` and a `commandTimeout`, so a login during an outage is counted
   * in memory at once instead of waiting on Redis.
   */
  redis: Redis;
  /** Key prefix, e.g. the deployment's `redisPrefix` + `login:`. */
  prefix: string;
  logger: Logger;
}

/**
 * express-rate-limit's store for `POST /auth/login` when several replicas serve one
 * deployment: the failed attempts of one client address are counted in Redis
 * (rate-limit-redis), so the limit is the same whichever replica the proxy picks. While Redis
 * is unreachable each replica counts in its own memory instead (one log line per outage): a
 * login is never refused, nor let through unlimited, because Redis is away.
 */
export function createSharedLoginStore(options: SharedLoginStoreOptions): SharedLoginStore {
  const { redis, logger } = options;
  const shared = new RedisStore({
    sendCommand: (command: string, ...args: string[]) =>
      redis.call(command, ...args) as Promise<RedisReply>,
    prefix: options.prefix,
  });
  const local = new MemoryStore();
  let limiterOptions: Options | undefined;
  // Loading the store's scripts is retried after any failure: Redis may have restarted
  // without them, or been away when this process started.
  let loaded: Promise<void> | null = null;
  let failing = false;
  redis.on('error', () => undefined);
  let everReady = redis.status === 'ready';
  redis.once('ready', () => (everReady = true));

  async function either<T>(viaRedis: () => Promise<T>, viaMemory: () => Promise<T>): Promise<T> {
    try {
      if (limiterOptions === undefined) throw new Error('store used before init');
      // Just started: give the first connection a moment rather than count the first logins
      // in memory. During an outage, fall back at once.
      if (!everReady && CONNECTING.has(redis.status)) await firstReady(redis);
      loaded ??= shared.init(limiterOptions);
      await loaded;
      const result = await viaRedis();
      if (failing) {
        failing = false;
        logger.info('login limit counted in redis again');
      }
      return result;
    } catch (err) {
      loaded = null;
      if (!failing) {
        failing = true;
        logger.warn(
          { err: (err as Error).message },
          'login limit: redis unavailable; counting in this process until it returns',
        );
      }
      return viaMemory();
    }
  }

  return {
    init(opts) {
      limiterOptions = opts;
      local.init(opts);
    },
    increment: (key) =>
      either(
        () => shared.increment(key),
        () => local.increment(key),
      ),
    decrement: (key) =>
      either(
        () => shared.decrement(key),
        () => local.decrement(key),
      ),
    resetKey: (key) =>
      either(
        () => shared.resetKey(key),
        () => local.resetKey(key),
      ),
    async close() {
      await local.shutdown();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
