import { randomBytes } from 'node:crypto';
import { appMessage, type AppMessage } from '@livestat/contracts';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** An `app` message with its JSON, serialized once for every socket and process. */
export interface AppBusMessage {
  message: AppMessage;
  json: string;
}

/**
 * Carries `app` messages from the process that aggregated them to every process with sockets:
 * in-process, or over the Redis channel `<prefix>app` beside the snapshots' own.
 */
export interface AppBus {
  publish(message: AppMessage): void;
  subscribe(handler: (message: AppBusMessage) => void): () => void;
  /** The newest message per host this process has seen (GET /api/apps for other hosts). */
  latest(): AppBusMessage[];
  close(): Promise<void>;
}

const ENVELOPE = 'livestat-app/1';

function createCore(logger: Logger) {
  const handlers = new Set<(message: AppBusMessage) => void>();
  const latest = new Map<string, AppBusMessage>();
  return {
    deliver(message: AppBusMessage): void {
      latest.set(message.message.host, message);
      for (const handler of handlers) {
        try {
          handler(message);
        } catch (err) {
          logger.error({ err, host: message.message.host }, 'app bus subscriber failed');
        }
      }
    },
    subscribe(handler: (message: AppBusMessage) => void): () => void {
      const entry = (message: AppBusMessage) => handler(message);
      handlers.add(entry);
      return () => void handlers.delete(entry);
    },
    latest: () => [...latest.values()],
    clear: () => handlers.clear(),
  };
}

/** The in-process app bus (no REDIS_URL). */
export function createLocalAppBus(logger: Logger): AppBus {
  const core = createCore(logger);
  return {
    publish: (message) => core.deliver({ message, json: JSON.stringify(message) }),
    subscribe: core.subscribe,
    latest: core.latest,
    close: async () => core.clear(),
  };
}

/**
 * The app bus over Redis: local subscribers first (sockets never wait on Redis), then PUBLISH on
 * `<prefix>app`; messages from other processes are checked against the contract before they
 * reach a socket. An outage loses those messages (they are live values) and is logged once.
 * Owns both clients: `close()` quits them.
 */
export function createRedisAppBus(options: {
  publisher: Redis;
  /** None for an agent, which only publishes. */
  subscriber?: Redis;
  prefix: string;
  logger: Logger;
}): AppBus {
  const { publisher, subscriber, logger } = options;
  const channel = `${options.prefix}app`;
  const origin = randomBytes(8).toString('hex');
  const core = createCore(logger);
  let failing = false;
  if (subscriber) {
    subscriber.on('error', () => undefined);
    subscriber.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      const newline = text.indexOf('\n');
      const [version, sender] = text.slice(0, Math.max(0, newline)).split(' ');
      if (version !== ENVELOPE || !sender || sender === origin) return;
      const json = text.slice(newline + 1);
      let parsed;
      try {
        parsed = appMessage.safeParse(JSON.parse(json));
      } catch {
        parsed = null;
      }
      if (!parsed?.success) {
        logger.warn({ channel, length: text.length }, 'skipped an invalid app message from redis');
        return;
      }
      core.deliver({ message: parsed.data, json });
    });
    subscriber.subscribe(channel).catch((err: Error) => {
      logger.warn({ err: err.message }, 'redis app subscribe failed');
    });
  }
  publisher.on('error', () => undefined);
  return {
    publish(message) {
      const json = JSON.stringify(message);
      core.deliver({ message, json });
      publisher.publish(channel, `${ENVELOPE} ${origin}\n${json}`).then(
        () => {
          if (failing) logger.info('redis app publish resumed');
          failing = false;
        },
        (err: Error) => {
          if (!failing) logger.warn({ err: err.message }, 'redis app publish failing');
          failing = true;
        },
      );
    },
    subscribe: core.subscribe,
    latest: core.latest,
    async close() {
      core.clear();
      await Promise.allSettled([publisher.quit(), subscriber?.quit()]);
    },
  };
}
