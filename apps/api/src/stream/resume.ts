import type { Snapshot } from '@livestat/contracts';
import type { WorkLimiter } from '../storage/work-limiter.js';
import type { CachedSnapshot, LatestCache } from './latest-cache.js';

/** What bounds one read of stored snapshots. */
export interface ResumeReadOptions {
  /** Aborts the read when the socket that asked has closed. */
  signal?: AbortSignal | undefined;
  /** The user the read is for: whose share of the work limit it takes. */
  userId?: number | undefined;
}

/**
 * The database's stored snapshots of `host` after `after` (exclusive), oldest first, at most
 * `limit`: one page of a resume.
 */
export type ResumeSource = (
  host: string,
  after: string,
  limit: number,
  options?: ResumeReadOptions,
) => Promise<Snapshot[]>;

/** Most snapshots one `resume` returns: an hour at 1 Hz. A client wanting more resumes again. */
export const DEFAULT_RESUME_LIMIT = 3600;

/** Snapshots read from the database at a time (~300 KB): the most a resume holds in memory. */
export const RESUME_PAGE_SIZE = 100;

/**
 * `source` with each page read counted against its user's share of `limiter`: a page waits its
 * turn behind the user's other history and resume work, or throws the limiter's `busy` error.
 * The slot is held only while the page is read, not while it drains to a slow socket.
 */
export function limitResumeSource(source: ResumeSource, limiter: WorkLimiter): ResumeSource {
  return (host, after, limit, options = {}) =>
    limiter.run(
      `user:${options.userId ?? 'anonymous'}`,
      () => source(host, after, limit, options),
      options.signal,
    );
}

export interface ResumeRequest {
  host: string;
  after: string;
}

export interface ResumePagesOptions {
  /** Most snapshots in all. */
  limit: number;
  /** Most snapshots read from the database at a time; default {@link RESUME_PAGE_SIZE}. */
  pageSize?: number;
  read?: ResumeReadOptions;
}

/**
 * The snapshots of `host` strictly after `after`, oldest first, at most `limit`, in pages: from
 * the cache's ring when it reaches back that far, else the database a page at a time for the
 * part before the ring and the ring for the rest — the ring also holds what the batch writer
 * has not stored yet. The next page is read only when the caller asks for it (after sending
 * the last), from the last snapshot yielded, so one page at most is held. Throws what the
 * database throws.
 */
export async function* resumePages(
  cache: LatestCache,
  stored: ResumeSource,
  request: ResumeRequest,
  options: ResumePagesOptions,
): AsyncGenerator<CachedSnapshot[], void, undefined> {
  const { host, after } = request;
  const { limit } = options;
  const pageSize = Math.max(1, options.pageSize ?? RESUME_PAGE_SIZE);
  const cached = cache.after(host, after);
  if (cached) {
    if (limit > 0) yield cached.slice(0, limit);
    return;
  }

  let sent = 0;
  let cursorMs = Date.parse(after);
  let cursor = after;
  // The ring's start is read after every await: it may have moved on meanwhile.
  const ringStart = () => cache.timeAfter(host, cursorMs) ?? Number.POSITIVE_INFINITY;
  while (sent < limit) {
    const want = Math.min(pageSize, limit - sent);
    const fromDatabase = await stored(host, cursor, want, options.read);
    const before = ringStart();
    const page: CachedSnapshot[] = [];
    let lastTimestamp = cursor;
    for (const snapshot of fromDatabase) {
      const timestampMs = Date.parse(snapshot.timestamp);
      if (timestampMs <= cursorMs || timestampMs >= before) continue;
      page.push({ timestampMs, json: JSON.stringify(snapshot) });
      lastTimestamp = snapshot.timestamp;
    }
    const last = page[page.length - 1];
    if (last) {
      sent += page.length;
      cursorMs = last.timestampMs;
      cursor = lastTimestamp;
      yield page;
    }
    // A short page is the end of what is stored; one cut short by the ring is where it takes over.
    if (fromDatabase.length < want || page.length < fromDatabase.length) break;
  }
  if (sent >= limit) return;
  const ring = cache.entries(host, cursorMs);
  if (ring.length > 0) yield ring.slice(0, limit - sent);
}
