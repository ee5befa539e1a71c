import type { HostInfo } from '@livestat/contracts';
import { snapshotTime, type BusMessage } from './bus.js';

/** A snapshot the ring holds for `resume`: its time and the JSON the sockets are sent. */
export interface CachedSnapshot {
  timestampMs: number;
  json: string;
}

export interface LatestCacheOptions {
  /** How far back each host's ring reaches, by snapshot time (default 15 minutes). */
  windowMs?: number;
  /** At most this many snapshots per host, whatever the window (default 1800: 15 min at 2 Hz). */
  maxPerHost?: number;
  /** Wall clock in epoch ms: a host silent for a whole window has its ring dropped. */
  now?: () => number;
}

/**
 * What this process streamed recently, per host: the latest message and a bounded ring of
 * the JSON of recent ones, so a reconnecting socket can `resume` from memory. The ring holds
 * text only (not the parsed snapshot): a third or less of the memory, and text is all a
 * resume sends.
 */
export interface LatestCache {
  /** Adds a message; a duplicate (same host and timestamp) is ignored, a late one is put in order. */
  record(message: BusMessage): void;
  latest(host: string): BusMessage | undefined;
  /** Every host recorded, with the time of its latest snapshot. */
  hosts(): HostInfo[];
  /**
   * The host's snapshots strictly after `after` (ISO), oldest first — or null when the ring
   * does not reach back that far (or the host is unknown), and the caller must read the
   * database for the older part.
   */
  after(host: string, after: string): CachedSnapshot[] | null;
  /** The host's whole ring, oldest first (empty for an unknown host). */
  entries(host: string): CachedSnapshot[];
  /** Snapshots held over all rings. */
  size(): number;
}

interface HostRing {
  latest: BusMessage;
  ring: CachedSnapshot[];
  /** Set once the ring has dropped something: before that, it holds all this process saw. */
  trimmed: boolean;
  receivedAt: number;
}

/** Creates an empty {@link LatestCache}. */
export function createLatestCache(options: LatestCacheOptions = {}): LatestCache {
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxPerHost = options.maxPerHost ?? 1800;
  const now = options.now ?? Date.now;
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive (got ${windowMs})`);
  if (!Number.isInteger(maxPerHost) || maxPerHost < 1) {
    throw new RangeError(`maxPerHost must be a positive whole number (got ${maxPerHost})`);
  }
  const hosts = new Map<string, HostRing>();
  let lastSweep = now();

  function insert(entry: HostRing, cached: CachedSnapshot): boolean {
    const { ring } = entry;
    const last = ring[ring.length - 1];
    if (!last || cached.timestampMs > last.timestampMs) {
      ring.push(cached);
      return true;
    }
    // Late (another process's message overtaken by ours, a replay): keep the ring sorted.
    let low = 0;
    let high = ring.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((ring[mid] as CachedSnapshot).timestampMs < cached.timestampMs) low = mid + 1;
      else high = mid;
    }
    if (ring[low]?.timestampMs === cached.timestampMs) return false;
    // Older than everything, after the ring dropped older ones: it would open a hole.
    if (low === 0 && entry.trimmed) return false;
    ring.splice(low, 0, cached);
    return true;
  }

  function trim(entry: HostRing): void {
    const { ring } = entry;
    const newest = ring[ring.length - 1]?.timestampMs ?? 0;
    let drop = Math.max(0, ring.length - maxPerHost);
    while (drop < ring.length && (ring[drop] as CachedSnapshot).timestampMs < newest - windowMs) {
      drop += 1;
    }
    if (drop > 0) {
      ring.splice(0, drop);
      entry.trimmed = true;
    }
  }

  // A host that went away would otherwise keep its full ring for the life of the process.
  function sweep(at: number): void {
    if (at - lastSweep < windowMs) return;
    lastSweep = at;
    for (const [host, entry] of hosts) {
      if (at - entry.receivedAt > windowMs) hosts.delete(host);
    }
  }

  return {
    record(message) {
      const at = now();
      const timestampMs = snapshotTime(message);
      if (!Number.isFinite(timestampMs)) return;
      const host = message.snapshot.host;
      let entry = hosts.get(host);
      if (!entry) {
        entry = { latest: message, ring: [], trimmed: false, receivedAt: at };
        hosts.set(host, entry);
      }
      entry.receivedAt = at;
      if (!insert(entry, { timestampMs, json: message.json })) return;
      if (!(snapshotTime(entry.latest) > timestampMs)) entry.latest = message;
      trim(entry);
      sweep(at);
    },

    latest: (host) => hosts.get(host)?.latest,

    hosts() {
      return [...hosts.entries()].map(([name, entry]) => ({
        name,
        lastSeen: entry.latest.snapshot.timestamp,
      }));
    },

    after(host, after) {
      const entry = hosts.get(host);
      const afterMs = Date.parse(after);
      const oldest = entry?.ring[0];
      if (!entry || !oldest || !Number.isFinite(afterMs)) return null;
      // The ring answers alone only if it holds the snapshot at `after` or one before it; a
      // ring that was never trimmed may still have started after `after` (this process
      // started, or first heard of the host, later), so the database must fill in.
      if (oldest.timestampMs > afterMs) return null;
      const { ring } = entry;
      let low = 0;
      let high = ring.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((ring[mid] as CachedSnapshot).timestampMs <= afterMs) low = mid + 1;
        else high = mid;
      }
      return ring.slice(low);
    },

    entries: (host) => [...(hosts.get(host)?.ring ?? [])],

    size() {
      let total = 0;
      for (const entry of hosts.values()) total += entry.ring.length;
      return total;
    },
  };
}
