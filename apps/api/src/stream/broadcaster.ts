import type { AppBus } from '../ingest/app-bus.js';
import type { Logger } from '../logger.js';
import type { Bus, BusMessage } from './bus.js';
import type { ClientSession } from './client-session.js';
import type { LatestCache } from './latest-cache.js';
import { hostsMessage } from './protocol.js';

/**
 * Observes every fan-out (metrics): how long serializing and handing the snapshot to every
 * session took, and to how many sessions it was offered (each still applies its subscription).
 */
export type BroadcastObserver = (durationSeconds: number, sessions: number) => void;

export interface Broadcaster {
  add(session: ClientSession): void;
  delete(session: ClientSession): void;
  /** Sessions taking broadcasts (open, not closing). */
  size(): number;
  sessions(): IterableIterator<ClientSession>;
  /** Stops listening to the bus. */
  stop(): void;
}

/**
 * The registry of live sessions and the fan-out of every bus message to them.
 * Each snapshot becomes bytes once, whatever the number of sockets; each session checks its
 * own subscription and backpressure. Every message also goes into the latest cache, and a
 * host never seen before is announced to every socket with a fresh `hosts` message.
 */
export function createBroadcaster(deps: {
  bus: Bus;
  cache: LatestCache;
  logger: Logger;
  /** Told after each fan-out: its duration and the number of sessions it was offered to. */
  onBroadcast?: BroadcastObserver;
  /** `app` messages, delivered like snapshots to the sockets subscribed to their host. */
  apps?: AppBus;
}): Broadcaster {
  const { bus, cache, logger, onBroadcast } = deps;
  const registry = new Set<ClientSession>();

  function broadcast(message: BusMessage): void {
    const started = performance.now();
    const isNewHost = cache.latest(message.snapshot.host) === undefined;
    cache.record(message);
    // Sent as a text frame of these bytes: ws neither copies nor re-encodes a Buffer per socket.
    const data = Buffer.from(message.json);
    // Counted before the loop: a session closed for backpressure leaves the registry in it.
    const offered = registry.size;
    for (const session of registry) {
      try {
        session.deliver(message, data);
      } catch (err) {
        logger.error({ err, user: session.username }, 'broadcast to a socket failed');
      }
    }
    const durationSeconds = (performance.now() - started) / 1000;
    if (isNewHost) announceHosts();
    onBroadcast?.(durationSeconds, offered);
  }

  // From the bus, like the list a socket gets on connect: the cache knows only what this
  // process streamed, the bus also what other replicas left in Redis.
  function announceHosts(): void {
    bus.latest().then(
      (latest) => {
        const seen = new Map(cache.hosts().map((host) => [host.name, host.lastSeen]));
        for (const { snapshot } of latest) {
          const known = seen.get(snapshot.host);
          if (known === undefined || known < snapshot.timestamp) {
            seen.set(snapshot.host, snapshot.timestamp);
          }
        }
        const text = hostsMessage([...seen].map(([name, lastSeen]) => ({ name, lastSeen })));
        for (const session of registry) session.sendText(text);
      },
      (err: unknown) => logger.warn({ err }, 'announcing a new host failed'),
    );
  }

  const unsubscribe = bus.subscribe(broadcast);
  const unsubscribeApps = deps.apps?.subscribe(({ message, json }) => {
    const data = Buffer.from(json);
    for (const session of registry) {
      try {
        session.deliverFor(message.host, data);
      } catch (err) {
        logger.error({ err, user: session.username }, 'app message to a socket failed');
      }
    }
  });
  return {
    add: (session) => void registry.add(session),
    delete: (session) => void registry.delete(session),
    size: () => registry.size,
    sessions: () => registry.values(),
    stop: () => {
      unsubscribe();
      unsubscribeApps?.();
    },
  };
}
