import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** What replicas tell each other about alerts: a transition's message, or "rules changed". */
export type FeedMessage = { kind: 'alert'; text: string } | { kind: 'rules' };

/**
 * Carries alert messages between replicas: the leader's transitions reach every replica's
 * sockets, and a rule edited on any replica reaches the leader. In-process without Redis.
 */
export interface AlertFeed {
  publish(message: FeedMessage): void;
  subscribe(handler: (message: FeedMessage) => void): void;
  close(): Promise<void>;
}

export function createLocalFeed(): AlertFeed {
  const handlers = new Set<(message: FeedMessage) => void>();
  return {
    publish(message) {
      for (const handler of handlers) handler(message);
    },
    subscribe(handler) {
      handlers.add(handler);
    },
    close: async () => handlers.clear(),
  };
}

/** The feed over a Redis pub/sub channel (`<REDIS_PREFIX>alerts`). */
export function createRedisFeed(options: {
  publisher: Redis;
  subscriber: Redis;
  channel: string;
  logger: Logger;
}): AlertFeed {
  const { publisher, subscriber, channel, logger } = options;
  const handlers = new Set<(message: FeedMessage) => void>();
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let message: FeedMessage;
    try {
      message = JSON.parse(text) as FeedMessage;
    } catch {
      return;
    }
    for (const handler of handlers) handler(message);
  });
  subscriber
    .subscribe(channel)
    .catch((err: unknown) =>
      logger.warn({ error: (err as Error).message }, 'alert feed subscription failed'),
    );
  return {
    publish(message) {
      publisher
        .publish(channel, JSON.stringify(message))
        .catch((err: unknown) =>
          logger.warn({ error: (err as Error).message }, 'alert feed publish failed'),
        );
    },
    subscribe(handler) {
      handlers.add(handler);
    },
    async close() {
      handlers.clear();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
