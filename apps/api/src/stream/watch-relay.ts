import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { PublishedTable, WatchRelay } from './watches.js';

export interface RedisWatchRelayOptions {
  /** Runs SET, EXISTS and PUBLISH (construct with REDIS_PUBLISHER_OPTIONS). */
  publisher: Redis;
  /** Dedicated to SUBSCRIBE; none for a process with no sockets (an agent). */
  subscriber?: Redis;
  /** The deployment's namespace (`redisPrefix`). */
  prefix: string;
  logger: Logger;
  /** Lifetime of `<prefix>watch:<kind>:<host>` (default 15 s), refreshed while watched. */
  ttlSeconds?: number;
  /** How often a watched key is refreshed (default a third of the TTL). */
  refreshMs?: number;
  /** How long an answer to "is it watched?" stands before Redis is asked again (default 3 s). */
  checkMs?: number;
  now?: () => number;
}

/**
 * The {@link WatchRelay} over Redis. A replica holding a watcher keeps
 * `<prefix>watch:<kind>:<host>` alive (SET … EX, refreshed); the process sampling that host asks
 * whether the key exists at most every `checkMs` — not every tick — and publishes its table on
 * `<prefix>tables` only while it does. When the last watcher goes the key is left to expire:
 * another replica may still be watching.
 */
export function createRedisWatchRelay(options: RedisWatchRelayOptions): WatchRelay {
  const { publisher, subscriber, prefix, logger } = options;
  const ttlSeconds = options.ttlSeconds ?? 15;
  const refreshMs = options.refreshMs ?? (ttlSeconds * 1000) / 3;
  const checkMs = options.checkMs ?? 3000;
  const now = options.now ?? Date.now;
  const channel = `${prefix}tables`;
  const origin = randomBytes(8).toString('hex');
  const keyOf = (kind: string, host: string) => `${prefix}watch:${kind}:${host}`;
  const watched = new Set<string>();
  const checks = new Map<string, { watched: boolean; at: number; pending: boolean }>();
  const handlers: ((table: PublishedTable) => void)[] = [];
  let closed = false;
  let failing = false;

  function failed(err: unknown): void {
    if (failing || closed) return;
    failing = true;
    logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'watch relay: redis failing',
    );
  }
  const ok = () => {
    failing = false;
  };

  function refresh(key: string): void {
    if (closed || publisher.status !== 'ready') return;
    publisher.set(key, '1', 'EX', ttlSeconds).then(ok, failed);
  }
  const timer = setInterval(() => {
    for (const key of watched) refresh(key);
  }, refreshMs);
  timer.unref();

  if (subscriber) {
    subscriber.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      let message: PublishedTable & { origin?: string };
      try {
        message = JSON.parse(text) as PublishedTable & { origin?: string };
      } catch {
        return;
      }
      if (message.origin === origin || typeof message.host !== 'string') return;
      for (const handler of handlers) handler(message);
    });
    // autoResubscribe (REDIS_SUBSCRIBER_OPTIONS) restores it after a reconnect.
    subscriber.subscribe(channel).catch(failed);
  }

  return {
    setWatched(kind, host, on) {
      const key = keyOf(kind, host);
      if (on) {
        watched.add(key);
        refresh(key);
        // Known at once here; the sampling process learns it at its next check.
        checks.set(key, { watched: true, at: now(), pending: false });
      } else watched.delete(key);
    },
    isWatched(kind, host) {
      const key = keyOf(kind, host);
      const check = checks.get(key);
      if (
        !closed &&
        publisher.status === 'ready' &&
        !check?.pending &&
        (check === undefined || now() - check.at >= checkMs)
      ) {
        const entry = { watched: check?.watched ?? false, at: now(), pending: true };
        checks.set(key, entry);
        publisher.exists(key).then(
          (n) => {
            ok();
            entry.watched = n > 0;
            entry.pending = false;
            entry.at = now();
          },
          (err: unknown) => {
            entry.pending = false;
            failed(err);
          },
        );
      }
      return check?.watched ?? false;
    },
    publish(table) {
      if (closed || publisher.status !== 'ready') return;
      publisher.publish(channel, JSON.stringify({ ...table, origin })).then(ok, failed);
    },
    onTable(handler) {
      handlers.push(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const quit = async (client: Redis) => {
        client.on('error', () => undefined);
        await client.quit().catch(() => client.disconnect());
      };
      await Promise.all([quit(publisher), subscriber ? quit(subscriber) : undefined]);
    },
  };
}
