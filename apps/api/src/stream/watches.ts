import type { Logger } from '../logger.js';

/**
 * One kind of full table a socket can watch (`processes`; `cgroups` next): how the table a
 * sampler publishes becomes the message one watcher gets, given the watch's own parameters.
 */
export interface WatchKind<Table = unknown, Params = unknown> {
  /** The key of the kind: in the Redis watcher key and the channel's envelopes. */
  readonly kind: string;
  /** The server message for one watcher, as JSON text. */
  render(table: Table, host: string, timestamp: string, params: Params): string;
  /** Watchers whose params give the same key share one rendering per tick. */
  paramsKey(params: Params): string;
}

/** A table published for (kind, host) at the timestamp of the snapshot it was sampled with. */
export interface PublishedTable {
  kind: string;
  host: string;
  timestamp: string;
  table: unknown;
}

/**
 * Carries tables between processes (Redis): a replica with watchers marks (kind, host) as
 * watched; the process sampling that host publishes its table only while it is.
 */
export interface WatchRelay {
  /** Starts or stops keeping the watcher key of (kind, host) alive from this process. */
  setWatched(kind: string, host: string, watched: boolean): void;
  /** Whether any process watches (kind, host), as last checked (at most every few seconds). */
  isWatched(kind: string, host: string): boolean;
  publish(table: PublishedTable): void;
  /** Tables other processes published; our own are not echoed back. */
  onTable(handler: (table: PublishedTable) => void): void;
  close(): Promise<void>;
}

/** Whoever watches: a socket's session (anything that can be sent text). */
export interface WatchOwner {
  sendText(text: string): void;
}

export interface WatchHubOptions {
  kinds: readonly WatchKind<never, never>[];
  relay?: WatchRelay | null;
  /** Watches one socket may hold at once, all kinds and hosts together (default 4). */
  maxPerOwner?: number;
  logger: Logger;
}

/** The watches of every socket of this process, and the tables they receive. */
export interface WatchHub {
  /**
   * Starts (or, for a (kind, host) already watched by `owner`, replaces) a watch. Returns null,
   * or why it was refused: the owner holds `maxPerOwner` watches already.
   */
  watch(owner: WatchOwner, kind: string, host: string, params: unknown): string | null;
  /** Ends `owner`'s watch of (kind, host), or of every host of `kind` when `host` is omitted. */
  unwatch(owner: WatchOwner, kind: string, host?: string): void;
  /** Ends every watch of `owner` (its socket closed). */
  release(owner: WatchOwner): void;
  /** True while some socket, here or (with Redis) elsewhere, watches (kind, host). */
  wanted(kind: string, host: string): boolean;
  /** A table sampled here: to the watchers here, and over Redis while watched elsewhere. */
  publish(table: PublishedTable): void;
  /** Watches held by all owners (metrics, tests). */
  size(): number;
  close(): Promise<void>;
}

const routeKey = (kind: string, host: string) => `${kind}\u0000${host}`;

/**
 * A small generic watch registry keyed by (kind, host). The full tables it carries are sent
 * only to sockets that asked for them — never broadcast — and cross processes only while a
 * watcher key says someone is looking, so idle agents publish nothing extra.
 */
export function createWatchHub(options: WatchHubOptions): WatchHub {
  const { logger } = options;
  const relay = options.relay ?? null;
  const maxPerOwner = options.maxPerOwner ?? 4;
  const kinds = new Map(options.kinds.map((k) => [k.kind, k as WatchKind]));
  // route → owner → params
  const routes = new Map<string, Map<WatchOwner, unknown>>();
  const byOwner = new Map<WatchOwner, Set<string>>();
  const routeParts = new Map<string, { kind: string; host: string }>();

  function remove(owner: WatchOwner, route: string): void {
    const watchers = routes.get(route);
    if (!watchers?.delete(owner)) return;
    byOwner.get(owner)?.delete(route);
    if (watchers.size === 0) {
      routes.delete(route);
      const parts = routeParts.get(route)!;
      routeParts.delete(route);
      relay?.setWatched(parts.kind, parts.host, false);
    }
  }

  function deliver({ kind, host, timestamp, table }: PublishedTable): void {
    const watchers = routes.get(routeKey(kind, host));
    const renderer = kinds.get(kind);
    if (!watchers || !renderer) return;
    const rendered = new Map<string, string>();
    for (const [owner, params] of watchers) {
      try {
        const key = renderer.paramsKey(params);
        let text = rendered.get(key);
        if (text === undefined) {
          text = renderer.render(table, host, timestamp, params);
          rendered.set(key, text);
        }
        owner.sendText(text);
      } catch (err) {
        logger.error({ err, kind, host }, 'watch delivery failed');
      }
    }
  }

  relay?.onTable(deliver);

  return {
    watch(owner, kind, host, params) {
      const route = routeKey(kind, host);
      const held = byOwner.get(owner) ?? new Set<string>();
      if (!held.has(route) && held.size >= maxPerOwner) {
        return `at most ${maxPerOwner} watches per socket; unwatch one first`;
      }
      byOwner.set(owner, held);
      held.add(route);
      let watchers = routes.get(route);
      if (!watchers) {
        watchers = new Map();
        routes.set(route, watchers);
        routeParts.set(route, { kind, host });
        relay?.setWatched(kind, host, true);
      }
      watchers.set(owner, params);
      return null;
    },
    unwatch(owner, kind, host) {
      for (const route of [...(byOwner.get(owner) ?? [])]) {
        const parts = routeParts.get(route);
        if (parts?.kind === kind && (host === undefined || parts.host === host)) {
          remove(owner, route);
        }
      }
    },
    release(owner) {
      for (const route of [...(byOwner.get(owner) ?? [])]) remove(owner, route);
      byOwner.delete(owner);
    },
    wanted(kind, host) {
      return routes.has(routeKey(kind, host)) || (relay?.isWatched(kind, host) ?? false);
    },
    publish(table) {
      deliver(table);
      if (relay?.isWatched(table.kind, table.host)) relay.publish(table);
    },
    size() {
      let n = 0;
      for (const watchers of routes.values()) n += watchers.size;
      return n;
    },
    async close() {
      routes.clear();
      byOwner.clear();
      await relay?.close();
    },
  };
}
