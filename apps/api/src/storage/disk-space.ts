import { readdir, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

const MB = 1024 * 1024;

/** Free space on the filesystem holding a directory, judged against a threshold. */
export interface DiskSpaceReading {
  /** Bytes an unprivileged writer may still use (`bavail × bsize`). */
  freeBytes: number;
  /** True while free space is below the threshold (with hysteresis: see {@link judgeFreeSpace}). */
  low: boolean;
}

/** The part of `fs.statfs`'s answer free space is computed from. */
export interface StatfsLike {
  bavail: number | bigint;
  bsize: number | bigint;
}

/** `statfs` of a path; `fs.promises.statfs` in production, swappable in tests. */
export type Statfs = (path: string) => Promise<StatfsLike>;

/** How far above the threshold free space must climb before a low disk counts as recovered. */
export const RESUME_MARGIN = 0.25;

/**
 * Judges one `statfs` answer. Low below `minFreeBytes`; once low, it stays low until free
 * space is back above `minFreeBytes × (1 + RESUME_MARGIN)`, so a disk hovering at the threshold
 * (our own writes use the space freed) pauses and resumes once rather than at every batch.
 * `minFreeBytes` 0 disables the threshold: never low.
 */
export function judgeFreeSpace(
  stats: StatfsLike,
  minFreeBytes: number,
  wasLow = false,
): DiskSpaceReading {
  const freeBytes = Number(stats.bavail) * Number(stats.bsize);
  if (minFreeBytes <= 0) return { freeBytes, low: false };
  const bar = wasLow ? minFreeBytes * (1 + RESUME_MARGIN) : minFreeBytes;
  return { freeBytes, low: freeBytes < bar };
}

/** Bytes as whole megabytes (MiB), for messages. */
export const formatMb = (bytes: number) => `${Math.floor(bytes / MB)} MB`;

export interface DiskSpaceWatchOptions {
  /** A directory on the filesystem to watch (it must exist when read). */
  dir: string;
  /** Below this many free bytes the disk is low; 0 disables (never low). */
  minFreeBytes: number;
  /** A reading younger than this is reused rather than asking the kernel again; default 2 s. */
  maxAgeMs?: number;
  statfs?: Statfs;
  now?: () => number;
}

/** A throttled view of free space on one filesystem. */
export interface DiskSpaceWatch {
  /** Below this many free bytes the disk counts as low. */
  readonly minFreeBytes: number;
  /**
   * The current reading: the last one when younger than `maxAgeMs`, else a fresh `statfs`
   * (concurrent callers share it). A failed `statfs` rejects; the last reading stays.
   */
  read(): Promise<DiskSpaceReading>;
  /** The newest reading, without asking the kernel; null before the first. */
  last(): DiskSpaceReading | null;
}

/**
 * Watches free space on the filesystem of `dir`, lazily: a reading costs one `statfs` call
 * and is taken only when someone asks and the last one is older than `maxAgeMs`, so there is
 * no timer to own or stop.
 */
export function createDiskSpaceWatch(options: DiskSpaceWatchOptions): DiskSpaceWatch {
  const { dir, minFreeBytes } = options;
  const maxAgeMs = options.maxAgeMs ?? 2000;
  const stat: Statfs = options.statfs ?? ((path) => statfs(path));
  const now = options.now ?? (() => performance.now());
  let latest: DiskSpaceReading | null = null;
  let readAt = -Infinity;
  let pending: Promise<DiskSpaceReading> | null = null;

  return {
    minFreeBytes,
    read() {
      if (latest && now() - readAt < maxAgeMs) return Promise.resolve(latest);
      pending ??= stat(dir)
        .then((stats) => {
          latest = judgeFreeSpace(stats, minFreeBytes, latest?.low ?? false);
          readAt = now();
          return latest;
        })
        .finally(() => {
          pending = null;
        });
      return pending;
    },
    last: () => latest,
  };
}

/** The disk under DATA_DIR is too small to create the embedded database. */
export class DiskTooSmallError extends Error {
  readonly code = 'disk_too_small';
  constructor(
    readonly dir: string,
    readonly freeBytes: number,
    readonly minFreeBytes: number,
  ) {
    super(
      `DATA_DIR ${dir} has ${formatMb(freeBytes)} free; the embedded database needs at least ` +
        `MIN_FREE_DISK_MB=${Math.round(minFreeBytes / MB)} MB to start. Free some space, point ` +
        'DATA_DIR at a larger disk, lower MIN_FREE_DISK_MB (0 disables the check), or set DATABASE_URL',
    );
    this.name = 'DiskTooSmallError';
  }
}

/** Files in `dir` other than our lock file; none when it does not exist yet. */
async function databaseFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => name !== 'livestat.pid');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** `statfs` of `dir`, or of its nearest ancestor that exists (DATA_DIR may not exist yet). */
async function statNearest(dir: string, stat: Statfs): Promise<StatfsLike> {
  for (let path = dir; ; path = dirname(path)) {
    try {
      return await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(path) === path) throw err;
    }
  }
}

/**
 * Before the embedded database is created in `dir` under `dataDir` (a first start): throws
 * {@link DiskTooSmallError} when its filesystem has less than `minFreeBytes` free, since
 * PGlite creating its files on a disk that fills up hangs rather than failing. A database that
 * already exists is opened whatever the free space: the batch writer then holds its snapshots
 * until space returns, and streaming goes on. `minFreeBytes` 0 skips the check.
 */
export async function checkRoomForNewDatabase(options: {
  dir: string;
  dataDir: string;
  minFreeBytes: number;
  statfs?: Statfs;
}): Promise<void> {
  const { dir, dataDir, minFreeBytes } = options;
  const stat: Statfs = options.statfs ?? ((path) => statfs(path));
  if (minFreeBytes <= 0 || (await databaseFiles(dir)).length > 0) return;
  const { freeBytes, low } = judgeFreeSpace(await statNearest(dir, stat), minFreeBytes);
  if (low) throw new DiskTooSmallError(dataDir, freeBytes, minFreeBytes);
}

// PostgreSQL's disk_full; PGlite reports the same SQLSTATE ("could not extend file …: No space
// left on device"), and Node's own file writes ENOSPC. The text is matched too, for errors
// that lost their code on the way (across a worker thread, say).
const DISK_FULL_CODES = new Set(['53100', 'ENOSPC']);
const DISK_FULL_TEXT = /no space left on device|\bdisk full\b|\bENOSPC\b/i;

/** Whether `err` says the database's disk is full: SQLSTATE 53100, ENOSPC, or their text. */
export function isDiskFullError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return DISK_FULL_TEXT.test(String(err));
  const { code, message, cause } = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string' && DISK_FULL_CODES.has(code)) return true;
  if (typeof message === 'string' && DISK_FULL_TEXT.test(message)) return true;
  return cause !== undefined && cause !== err && isDiskFullError(cause);
}
