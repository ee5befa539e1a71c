import type { Snapshot } from '@livestat/contracts';
import { createLogger, type Logger } from '../logger.js';
import { serializeSnapshot } from './snapshot-json.js';

/** One published snapshot, serialized once for every socket and process it reaches. */
export interface BusMessage {
  snapshot: Snapshot;
  /** JSON.stringify(snapshot), made once */
  json: string;
}

/**
 * Carries snapshots from whoever samples to whoever streams: in-process by default
 * ({@link createLocalBus}), across processes through Redis (`createRedisBus`).
 */
export interface Bus {
  /** Delivers to local subscribers at once (even if Redis is down) and to other processes. */
  publish(snapshot: Snapshot): void;
  subscribe(handler: (message: BusMessage) => void): () => void;
  /** Latest snapshot per host, every host seen (Redis: `<REDIS_PREFIX>latest:<host>` TTL 30 s, plus memory). */
  latest(): Promise<BusMessage[]>;
  status(): 'up' | 'down' | 'not_configured';
  close(): Promise<void>;
}

export type BusHandler = (message: BusMessage) => void;

/** Wraps a snapshot for the bus: the one place a published snapshot is serialized. */
export function toBusMessage(snapshot: Snapshot): BusMessage {
  // Field by field, so the batch writer can reuse each section's text.
  return { snapshot, json: serializeSnapshot(snapshot) };
}

/** Epoch ms of a snapshot's ISO timestamp; NaN when it is not a date. */
export function snapshotTime(message: BusMessage): number {
  return Date.parse(message.snapshot.timestamp);
}

/**
 * The subscriber list both buses share. A handler that throws is logged and does not keep
 * the snapshot from the handlers after it: one broken consumer must not starve the sockets.
 */
export function createSubscribers(logger: Logger) {
  const handlers = new Set<BusHandler>();
  return {
    add(handler: BusHandler): () => void {
      // A wrapper per subscription, so subscribing the same function twice is two subscriptions.
      const entry: BusHandler = (message) => handler(message);
      handlers.add(entry);
      return () => {
        handlers.delete(entry);
      };
    },
    deliver(message: BusMessage): void {
      for (const handler of handlers) {
        try {
          handler(message);
        } catch (err) {
          logger.error({ err, host: message.snapshot.host }, 'bus subscriber failed');
        }
      }
    },
    clear(): void {
      handlers.clear();
    },
  };
}

/**
 * The newest message per host this process has seen. Newest by snapshot timestamp, so a late
 * or replayed message never replaces a fresher one.
 */
export function createLatestMemory() {
  const byHost = new Map<string, BusMessage>();
  return {
    remember(message: BusMessage): void {
      const current = byHost.get(message.snapshot.host);
      if (!current || !(snapshotTime(current) > snapshotTime(message))) {
        byHost.set(message.snapshot.host, message);
      }
    },
    all(): BusMessage[] {
      return [...byHost.values()];
    },
  };
}

/**
 * The in-process bus: `publish` hands the snapshot to every subscriber synchronously;
 * `latest` answers from memory. Used when `REDIS_URL` is unset.
 */
export function createLocalBus(options: { logger?: Logger } = {}): Bus {
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const subscribers = createSubscribers(logger);
  const memory = createLatestMemory();
  return {
    publish(snapshot) {
      const message = toBusMessage(snapshot);
      memory.remember(message);
      subscribers.deliver(message);
    },
    subscribe: (handler) => subscribers.add(handler),
    latest: () => Promise.resolve(memory.all()),
    status: () => 'not_configured',
    close() {
      subscribers.clear();
      return Promise.resolve();
    },
  };
}
