import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
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
  /**
   * Snapshots compressed together (default 30): the newest `blockSize` to 2 × `blockSize` − 1
   * stay as text, older ones are held in compressed blocks of this many.
   */
  blockSize?: number;
  /** Wall clock in epoch ms: a host silent for a whole window has its ring dropped. */
  now?: () => number;
}

/**
 * What this process streamed recently, per host: the latest message and a bounded ring of
 * the JSON of recent ones, so a reconnecting socket can `resume` from memory. The ring holds
 * text only (not the parsed snapshot), and all but its newest minute or so compressed in
 * blocks: 15 minutes of a host at 1 Hz is ~5 MB as text, ~0.5 MB so (bench/fleet).
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
  /** The host's ring after `afterMs` (default: all of it), oldest first; empty for an unknown host. */
  entries(host: string, afterMs?: number): CachedSnapshot[];
  /** The time of the host's oldest ring snapshot later than `afterMs`, without decompressing. */
  timeAfter(host: string, afterMs: number): number | undefined;
  /** Snapshots held over all rings. */
  size(): number;
}

/**
 * Older snapshots of a ring, compressed together: their times, and their JSON texts end to end.
 * Consecutive snapshots of a host differ in little but their numbers, so a block of them
 * compresses about 15-20× (bench/fleet); one is decompressed only when a resume or a history
 * answer reaches into it.
 */
interface Block {
  /** Snapshot times, ascending. */
  times: Float64Array;
  /** Where each snapshot's JSON ends, in bytes of the decompressed text. */
  ends: Uint32Array;
  data: Buffer;
  /** How many of the oldest are trimmed away: they stay in `data` until the whole block goes. */
  skip: number;
}

interface HostRing {
  latest: BusMessage;
  /** Oldest first, all older than `recent`. */
  blocks: Block[];
  /** The newest snapshots as text, oldest first: at most 2 × blockSize − 1 of them. */
  recent: CachedSnapshot[];
  /** Snapshots held, blocks (less their trimmed ones) and `recent` together. */
  count: number;
  /** Set once the ring has dropped something: before that, it holds all this process saw. */
  trimmed: boolean;
  receivedAt: number;
}

// Quality 5: about 20× on snapshot JSON for ~2 ms of CPU per 30 snapshots; higher qualities
// gain little and cost more (measured with bench/snapshots.ts).
const BROTLI_QUALITY = 5;

function freeze(entries: readonly CachedSnapshot[]): Block {
  const times = new Float64Array(entries.length);
  const ends = new Uint32Array(entries.length);
  let text = '';
  let bytes = 0;
  entries.forEach((entry, i) => {
    times[i] = entry.timestampMs;
    text += entry.json;
    bytes += Buffer.byteLength(entry.json);
    ends[i] = bytes;
  });
  const data = brotliCompressSync(text, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes,
    },
  });
  return { times, ends, data, skip: 0 };
}

/** The block's snapshots from index `from` on (never before its trimmed ones). */
function thaw(block: Block, from = 0): CachedSnapshot[] {
  const text = brotliDecompressSync(block.data);
  const out: CachedSnapshot[] = [];
  for (let i = Math.max(from, block.skip); i < block.times.length; i++) {
    const start = i === 0 ? 0 : (block.ends[i - 1] as number);
    out.push({
      timestampMs: block.times[i] as number,
      json: text.toString('utf8', start, block.ends[i]),
    });
  }
  return out;
}

/** The first index from `from` whose time (ascending, by `timeAt`) is later than `ms`. */
function firstAfter(length: number, timeAt: (i: number) => number, ms: number, from = 0): number {
  let low = from;
  let high = length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (timeAt(mid) <= ms) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Creates an empty {@link LatestCache}. */
export function createLatestCache(options: LatestCacheOptions = {}): LatestCache {
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxPerHost = options.maxPerHost ?? 1800;
  const blockSize = options.blockSize ?? 30;
  const now = options.now ?? Date.now;
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive (got ${windowMs})`);
  if (!Number.isInteger(maxPerHost) || maxPerHost < 1) {
    throw new RangeError(`maxPerHost must be a positive whole number (got ${maxPerHost})`);
  }
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new RangeError(`blockSize must be a positive whole number (got ${blockSize})`);
  }
  const hosts = new Map<string, HostRing>();
  let lastSweep = now();

  const oldestMs = (entry: HostRing): number | undefined => {
    const block = entry.blocks[0];
    return block ? block.times[block.skip] : entry.recent[0]?.timestampMs;
  };

  /** Index in `recent` of the first snapshot later than `ms`. */
  const recentAfter = (recent: readonly CachedSnapshot[], ms: number) =>
    firstAfter(recent.length, (i) => (recent[i] as CachedSnapshot).timestampMs, ms);

  function insert(entry: HostRing, cached: CachedSnapshot): boolean {
    const { recent, blocks } = entry;
    const ms = cached.timestampMs;
    const last = recent[recent.length - 1];
    const lastBlock = blocks[blocks.length - 1];
    if (!last || ms > last.timestampMs) {
      recent.push(cached);
    } else if (!lastBlock || ms > (lastBlock.times[lastBlock.times.length - 1] as number)) {
      // Late (another process's message overtaken by ours, a replay): keep the ring sorted.
      const at = recentAfter(recent, ms);
      if (recent[at - 1]?.timestampMs === ms) return false;
      // Older than everything, after the ring dropped older ones: it would open a hole.
      if (at === 0 && !lastBlock && entry.trimmed) return false;
      recent.splice(at, 0, cached);
    } else {
      // Later than the newest block holds: rare, so the block is rebuilt with it.
      const index = blocks.findIndex((b) => ms <= (b.times[b.times.length - 1] as number));
      const block = blocks[index] as Block;
      if (index === 0 && ms < (block.times[block.skip] as number) && entry.trimmed) return false;
      const held = thaw(block);
      const at = recentAfter(held, ms);
      if (held[at - 1]?.timestampMs === ms) return false;
      held.splice(at, 0, cached);
      blocks[index] = freeze(held);
    }
    entry.count += 1;
    while (recent.length >= 2 * blockSize) blocks.push(freeze(recent.splice(0, blockSize)));
    return true;
  }

  function dropOldest(entry: HostRing): void {
    const block = entry.blocks[0];
    if (block) {
      block.skip += 1;
      if (block.skip === block.times.length) entry.blocks.shift();
    } else {
      entry.recent.shift();
    }
    entry.count -= 1;
    entry.trimmed = true;
  }

  function trim(entry: HostRing): void {
    const newest = entry.recent[entry.recent.length - 1]?.timestampMs ?? 0;
    for (;;) {
      const oldest = oldestMs(entry);
      if (oldest === undefined) return;
      if (entry.count <= maxPerHost && oldest >= newest - windowMs) return;
      dropOldest(entry);
    }
  }

  /** The host's snapshots later than `afterMs`, oldest first, decompressing what they reach. */
  function collect(entry: HostRing, afterMs: number): CachedSnapshot[] {
    const out: CachedSnapshot[] = [];
    for (const block of entry.blocks) {
      if ((block.times[block.times.length - 1] as number) <= afterMs) continue;
      for (const cached of thaw(
        block,
        firstAfter(block.times.length, (i) => block.times[i] as number, afterMs, block.skip),
      )) {
        out.push(cached);
      }
    }
    const { recent } = entry;
    for (let i = recentAfter(recent, afterMs); i < recent.length; i++) {
      out.push(recent[i] as CachedSnapshot);
    }
    return out;
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
        entry = {
          latest: message,
          blocks: [],
          recent: [],
          count: 0,
          trimmed: false,
          receivedAt: at,
        };
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
      const oldest = entry && oldestMs(entry);
      if (!entry || oldest === undefined || !Number.isFinite(afterMs)) return null;
      // The ring answers alone only if it holds the snapshot at `after` or one before it; a
      // ring that was never trimmed may still have started after `after` (this process
      // started, or first heard of the host, later), so the database must fill in.
      if (oldest > afterMs) return null;
      return collect(entry, afterMs);
    },

    entries(host, afterMs = Number.NEGATIVE_INFINITY) {
      const entry = hosts.get(host);
      return entry ? collect(entry, afterMs) : [];
    },

    timeAfter(host, afterMs) {
      const entry = hosts.get(host);
      if (!entry) return undefined;
      for (const block of entry.blocks) {
        const i = firstAfter(
          block.times.length,
          (j) => block.times[j] as number,
          afterMs,
          block.skip,
        );
        if (i < block.times.length) return block.times[i];
      }
      return entry.recent[recentAfter(entry.recent, afterMs)]?.timestampMs;
    },

    size() {
      let total = 0;
      for (const entry of hosts.values()) total += entry.count;
      return total;
    },
  };
}
