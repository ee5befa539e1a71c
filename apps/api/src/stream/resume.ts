import type { Snapshot } from '@livestat/contracts';
import type { CachedSnapshot, LatestCache } from './latest-cache.js';

/** The database's stored snapshots of `host` after `after` (exclusive), oldest first, at most `limit`. */
export type ResumeSource = (host: string, after: string, limit: number) => Promise<Snapshot[]>;

/** Most snapshots one `resume` returns: an hour at 1 Hz. A client wanting more resumes again. */
export const DEFAULT_RESUME_LIMIT = 3600;

/**
 * The snapshots of `host` strictly after `after`, oldest first, at most `limit`: from the
 * cache's ring when it reaches back that far, else the database for the part before the ring
 * and the ring for the rest — the ring also holds what the batch writer has not stored yet.
 * Throws what the database throws.
 */
export async function readResume(
  cache: LatestCache,
  stored: ResumeSource,
  request: { host: string; after: string },
  limit: number,
): Promise<CachedSnapshot[]> {
  const { host, after } = request;
  const cached = cache.after(host, after);
  if (cached) return cached.slice(0, limit);

  const fromDatabase = await stored(host, after, limit);
  // Read the ring after the await: it may have grown meanwhile.
  const afterMs = Date.parse(after);
  const ring = cache.entries(host).filter((entry) => entry.timestampMs > afterMs);
  const ringStart = ring[0]?.timestampMs ?? Number.POSITIVE_INFINITY;
  const older: CachedSnapshot[] = [];
  for (const snapshot of fromDatabase) {
    const timestampMs = Date.parse(snapshot.timestamp);
    if (timestampMs > afterMs && timestampMs < ringStart) {
      older.push({ timestampMs, json: JSON.stringify(snapshot) });
    }
  }
  return [...older, ...ring].slice(0, limit);
}
