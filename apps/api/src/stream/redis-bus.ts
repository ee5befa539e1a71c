import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Snapshot } from '@livestat/contracts';
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  createLatestMemory,
  createSubscribers,
  snapshotTime,
  toBusMessage,
  type Bus,
  type BusMessage,
} from './bus.js';
import { envelopeHeader, parseEnvelope, parseSnapshotJson } from './redis-envelope.js';

/**
 * ioredis options for the publishing client (whoever constructs it passes these): no offline
 * queue, so a publish during an outage fails at once and nothing piles up; one retry per
 * command; and a command timeout, so a connection that went silent cannot hang `latest()`.
 */
export const REDIS_PUBLISHER_OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
} as const satisfies RedisOptions;

/**
 * ioredis options for the subscribing client: the SUBSCRIBE waits however long Redis is away
 * (it is one command, not a growing queue) and is restored after every reconnect.
 */
export const REDIS_SUBSCRIBER_OPTIONS = {
  autoResubscribe: true,
  maxRetriesPerRequest: null,
} as const satisfies RedisOptions;

export interface RedisBusOptions {
  /**
   * Runs PUBLISH, SET, SCAN and MGET. Construct it with `enableOfflineQueue: false` so that
   * while Redis is away a publish fails at once instead of queueing without bound, and with a
   * `commandTimeout` so a black-holed connection cannot hang `latest()`.
   */
  publisher: Redis;
  /**
   * Dedicated to SUBSCRIBE (a subscribed connection runs nothing else). Keep ioredis'
   * defaults `autoResubscribe: true` and a retry strategy that never gives up: the
   * subscription then comes back by itself when Redis does. None for a process that only
   * publishes (an agent): it then never receives, and parses, every other host's snapshots.
   */
  subscriber?: Redis;
  logger: Logger;
  /**
   * The deployment's namespace on this Redis (config `redisPrefix`, default `livestat:db0:`):
   * the channel is `<prefix>snapshots` and the latest keys `<prefix>latest:<host>`, so two
   * deployments with different prefixes never see each other's hosts.
   */
  prefix?: string;
  /** Overrides `<prefix>snapshots`. */
  channel?: string;
  /** Lifetime of `<keyPrefix><host>`: a host that stops publishing drops out of `latest()`. */
  latestTtlSeconds?: number;
  /** Overrides `<prefix>latest:`. */
  keyPrefix?: string;
  /** How long `latest()` waits for Redis before answering from memory alone. */
  latestTimeoutMs?: number;
}

/** A {@link Bus} over Redis, with counters for health and metrics. */
export interface RedisBus extends Bus {
  /**
   * Resolves once the channel subscription is first in place and the publisher is connected,
   * that is when {@link Bus.status} first reads `up` (tests, start-up logs).
   */
  ready(): Promise<void>;
  stats(): RedisBusStats;
}

export interface RedisBusStats {
  published: number;
  publishFailures: number;
  received: number;
  /** Messages on the channel that were not ours and not a valid envelope: logged and skipped. */
  invalid: number;
}

const MAX_LATEST_KEYS = 10_000;
const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/**
 * The cross-process bus. `publish` delivers to this process's subscribers first —
 * local sockets never wait on, or lose anything to, Redis — then PUBLISHes on `channel` and
 * refreshes `<keyPrefix><host>` (TTL `latestTtlSeconds`) so any replica can answer a new
 * socket at once. Messages from other processes reach the subscribers with the received JSON;
 * our own (recognised by a per-process origin id) are ignored, having been delivered already.
 * The bus owns both clients from now on: `close()` quits them.
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
  const { publisher, subscriber, logger } = options;
  const prefix = options.prefix ?? 'livestat:db0:';
  const channel = options.channel ?? `${prefix}snapshots`;
  const ttlSeconds = options.latestTtlSeconds ?? 30;
  const keyPrefix = options.keyPrefix ?? `${prefix}latest:`;
  const latestTimeoutMs = options.latestTimeoutMs ?? 2000;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError(`latestTtlSeconds must be a positive whole number (got ${ttlSeconds})`);
  }
  if (channel.length === 0 || keyPrefix.length === 0) {
    throw new RangeError('channel and keyPrefix must not be empty');
  }

  const origin = randomBytes(8).toString('hex');
  const header = envelopeHeader(origin);
  const subscribers = createSubscribers(logger);
  const memory = createLatestMemory();
  const stats: RedisBusStats = { published: 0, publishFailures: 0, received: 0, invalid: 0 };
  let publishing: 'ok' | 'failing' = 'ok';
  let failuresThisOutage = 0;
  let closed = false;

  // --- connection state, logged once per outage per client -------------------------------
  const outage = { publisher: false, subscriber: false };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type
  const watchers: [Redis, string, (...args: any[]) => void][] = [];
  function watch(client: Redis, name: keyof typeof outage): void {
    const onError = (err: Error) => {
      if (outage[name] || closed) return;
      outage[name] = true;
      logger.warn({ client: name, err: err.message }, 'redis connection lost; retrying');
    };
    const onReady = () => {
      if (!outage[name]) return;
      outage[name] = false;
      logger.info({ client: name }, 'redis connection restored');
    };
    client.on('error', onError).on('ready', onReady);
    watchers.push([client, 'error', onError], [client, 'ready', onReady]);
  }
  watch(publisher, 'publisher');
  let everReady = publisher.status === 'ready';
  let publisherReady: () => void = () => undefined;
  const publisherReadyPromise = new Promise<void>((resolve) => (publisherReady = resolve));
  if (everReady) publisherReady();
  const onPublisherReady = () => {
    everReady = true;
    publisherReady();
  };
  publisher.on('ready', onPublisherReady);
  watchers.push([publisher, 'ready', onPublisherReady]);
  if (subscriber) watch(subscriber, 'subscriber');

  // --- subscription ----------------------------------------------------------------------
  let subscribed = false;
  let subscribing: Promise<void> | null = null;
  let markReady: () => void = () => undefined;
  const subscribedPromise = new Promise<void>((resolve) => (markReady = resolve));
  // The two connections come up independently: the subscription can be in place while the
  // publisher is still connecting, and `ready()` promises both.
  const readyPromise = Promise.all([subscribedPromise, publisherReadyPromise]).then(
    () => undefined,
  );
  function ensureSubscribed(): void {
    if (subscribed || subscribing || closed || !subscriber) return;
    subscribing = subscriber.subscribe(channel).then(
      () => {
        // From here on ioredis' autoResubscribe restores the subscription after a reconnect.
        subscribed = true;
        subscribing = null;
        markReady();
      },
      (err: Error) => {
        subscribing = null;
        // Retried on the next 'ready'.
        logger.debug({ err: err.message }, 'redis subscribe failed; will retry on reconnect');
      },
    );
  }
  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    const message = parseEnvelope(text, origin);
    if (message === 'ours') return;
    if (message === null) {
      stats.invalid += 1;
      logger.warn({ channel, length: text.length }, 'skipped an invalid message from redis');
      return;
    }
    stats.received += 1;
    memory.remember(message);
    subscribers.deliver(message);
  };
  if (subscriber) {
    subscriber.on('message', onMessage).on('ready', ensureSubscribed);
    watchers.push([subscriber, 'message', onMessage], [subscriber, 'ready', ensureSubscribed]);
    ensureSubscribed();
  } else {
    markReady();
  }

  // --- publishing ------------------------------------------------------------------------
  function publishFailed(err: unknown): void {
    stats.publishFailures += 1;
    failuresThisOutage += 1;
    if (publishing === 'failing' || closed) return;
    publishing = 'failing';
    logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'redis publish failing; local sockets still receive every snapshot',
    );
  }
  function publishSucceeded(): void {
    stats.published += 1;
    if (publishing === 'ok') return;
    logger.info({ failed: failuresThisOutage }, 'redis publish resumed');
    publishing = 'ok';
    failuresThisOutage = 0;
  }

  async function readLatestKeys(): Promise<BusMessage[]> {
    const pattern = `${escapeGlob(keyPrefix)}*`;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await publisher.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0' && keys.length < MAX_LATEST_KEYS);
    const messages: BusMessage[] = [];
    for (let i = 0; i < keys.length; i += 200) {
      const values = await publisher.mget(...keys.slice(i, i + 200));
      for (const value of values) {
        const message = value === null ? null : parseSnapshotJson(value);
        if (message) messages.push(message);
      }
    }
    return messages;
  }

  return {
    publish(snapshot: Snapshot) {
      const message = toBusMessage(snapshot);
      memory.remember(message);
      subscribers.deliver(message);
      if (closed) return;
      if (publisher.status !== 'ready') {
        publishFailed(new Error(`redis connection is ${publisher.status}`));
        return;
      }
      publisher
        .pipeline()
        .publish(channel, header + message.json)
        .set(keyPrefix + snapshot.host, message.json, 'EX', ttlSeconds)
        .exec()
        .then((results) => {
          const failure = results?.find(([err]) => err)?.[0];
          if (failure) publishFailed(failure);
          else publishSucceeded();
        }, publishFailed);
    },

    subscribe: (handler) => subscribers.add(handler),

    async latest() {
      let stored: BusMessage[] = [];
      // Just started: give the first connection a moment rather than answer a new socket with
      // nothing. During an outage, answer from memory at once.
      if (!everReady && !closed && CONNECTING.has(publisher.status)) {
        await withTimeout(once(publisher, 'ready'), latestTimeoutMs).catch(() => undefined);
      }
      if (publisher.status === 'ready' && !closed) {
        stored = await withTimeout(readLatestKeys(), latestTimeoutMs).catch((err: Error) => {
          logger.debug({ err: err.message }, 'redis latest unavailable; answering from memory');
          return [];
        });
      }
      // Memory is read after the await, so a snapshot published meanwhile is included: a
      // caller that registers for new snapshots right after this resolves misses none.
      const newest = new Map<string, BusMessage>();
      for (const message of [...stored, ...memory.all()]) {
        const current = newest.get(message.snapshot.host);
        if (!current || !(snapshotTime(current) > snapshotTime(message))) {
          newest.set(message.snapshot.host, message);
        }
      }
      return [...newest.values()];
    },

    status() {
      const listening = subscriber === undefined || subscriber.status === 'ready';
      return publisher.status === 'ready' && listening ? 'up' : 'down';
    },

    ready: () => readyPromise,
    stats: () => ({ ...stats }),

    async close() {
      if (closed) return;
      closed = true;
      subscribers.clear();
      for (const [client, event, listener] of watchers) client.off(event, listener);
      // A late error from a closing client must still have a listener.
      const ignore = () => undefined;
      publisher.on('error', ignore);
      subscriber?.on('error', ignore);
      await Promise.all([quit(publisher), subscriber ? quit(subscriber) : undefined]);
    },
  };
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * QUIT when connected (pending replies flushed), else drop the connection and its retries;
 * resolves once the client has ended.
 */
async function quit(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  if (client.status === 'ready') {
    await withTimeout(client.quit(), 2000).catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
  await withTimeout(ended, 2000).catch(() => client.disconnect());
}
