import { closeSync, openSync, readSync, statfsSync } from 'node:fs';
import { preadAll } from './procfs.js';

// cgroupfs files are a few hundred bytes generated on read. procfs.ts's shared buffer serves
// every read of a tick. cgroupfs, like procfs, regenerates a file's text on every read from
// offset 0, so a descriptor kept open between ticks serves each tick with one pread instead of
// open + read + close (bench/cgroups: the per-tick files of 500 cgroups cost a third as much).

/** Error codes that mean the cgroup went away while it was being read. */
const GONE = new Set(['ENOENT', 'ENODEV', 'ESRCH', 'ENOTDIR']);

/** Thrown when a cgroup vanished mid-read: normal when a container stops. */
export class CgroupGoneError extends Error {}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? '';

/** Opens `file` for reading; null when it is not there (controller off, cgroup gone). */
function openCgroupFile(file: string): number | null {
  try {
    return openSync(file, 'r');
  } catch (err) {
    if (GONE.has(errorCode(err))) return null;
    throw err;
  }
}

// Larger than any cgroup file the collector reads (memory.stat is ~1.5 KB, io.stat a line per
// device), so one pread returns the whole file.
const buffer = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads an open cgroupfs file from offset 0; a `CgroupGoneError` when its cgroup went away.
 * A read that does not fill the buffer has reached the end (seq_file fills the buffer while
 * there is text), which saves the second read that would return 0; a fuller file is read on.
 */
function readOpen(fd: number, file: string): string {
  try {
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return n < buffer.length ? buffer.toString('latin1', 0, n) : preadAll(fd);
  } catch (err) {
    // Reading a file of a cgroup removed after the open fails with ENODEV.
    if (GONE.has(errorCode(err))) throw new CgroupGoneError(file, { cause: err });
    throw err;
  }
}

/**
 * Reads a cgroupfs file whole. Null when the file is not there — a controller not enabled for
 * the cgroup, or the cgroup gone before the open (the caller sees every file missing); a
 * `CgroupGoneError` when the cgroup went away between the open and the read.
 */
export function readCgroupFile(file: string): string | null {
  const fd = openCgroupFile(file);
  if (fd === null) return null;
  try {
    return readOpen(fd, file);
  } finally {
    closeSync(fd);
  }
}

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * True when `dir` is on cgroupfs (v1 or v2), whose files regenerate on a read from offset 0.
 * Regular files (fixture trees that tests rewrite or replace) are read afresh instead.
 */
export function isCgroupfs(dir: string): boolean {
  try {
    const type = statfsSync(dir).type;
    return type === CGROUP_SUPER_MAGIC || type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Which files a kept descriptor goes to first: the ones read every tick, then the PSI files
 * (read on every slow turn), then the other slow files (read on every third turn while a
 * cgroup is idle).
 */
export type CgroupFileTier = 'tick' | 'psi' | 'slow';

/**
 * The cgroups collector's reader: keeps descriptors of the files it reads open between ticks,
 * at most `budget` of them; past that, files are opened, read and closed. Files read every
 * tick have first claim, PSI files the next: a file is kept only while the descriptors
 * `reserve` claimed for the tiers before its own stay free. Descriptors are grouped by cgroup,
 * so a cgroup that vanishes or leaves the walk gives its descriptors back.
 */
export interface CgroupFileReader {
  /**
   * Reads file `name` of cgroup `id` (in directory `dir`) whole; null when missing;
   * `CgroupGoneError` when gone. Descriptors are found by `id` and `name`, so the path is
   * only put together when a file is opened.
   */
  read(id: string, dir: string, name: string, tier: CgroupFileTier): string | null;
  /** Keeps descriptors of the budget for `tick` per-tick files, then for `psi` PSI files. */
  reserve(tick: number, psi: number): void;
  /** Closes the descriptors of every cgroup not in `ids` (after a walk). */
  retain(ids: ReadonlySet<string>): void;
  /** Closes the descriptors of cgroup `id`. */
  forget(id: string): void;
  /** Descriptors open now. */
  kept(): number;
  /** Closes every descriptor. Safe to call twice. */
  close(): void;
}

interface Kept {
  fd: number;
  tier: CgroupFileTier;
  file: string;
}

export function createCgroupFileReader(budget: number): CgroupFileReader {
  const byGroup = new Map<string, Map<string, Kept>>();
  let open = 0;
  // Per tier: descriptors open, and descriptors claimed by `reserve`.
  const opened = { tick: 0, psi: 0, slow: 0 };
  const claimed = { tick: 0, psi: 0, slow: 0 };

  function forget(id: string): void {
    const files = byGroup.get(id);
    if (files === undefined) return;
    for (const kept of files.values()) {
      closeSync(kept.fd);
      open -= 1;
      opened[kept.tier] -= 1;
    }
    byGroup.delete(id);
  }

  /** Whether one more descriptor of `tier` may stay open. */
  function room(tier: CgroupFileTier): boolean {
    // Files of the tiers before this one not yet open keep their claim on the budget.
    const unopened = (before: CgroupFileTier) => Math.max(0, claimed[before] - opened[before]);
    if (tier === 'tick') return open < budget;
    if (tier === 'psi') return open + unopened('tick') < budget;
    return open + unopened('tick') + unopened('psi') < budget;
  }

  return {
    read(id, dir, name, tier) {
      const files = byGroup.get(id);
      const kept = files?.get(name);
      if (kept !== undefined) {
        try {
          return readOpen(kept.fd, kept.file);
        } catch (err) {
          forget(id);
          throw err;
        }
      }
      const file = `${dir}/${name}`;
      if (!room(tier)) return readCgroupFile(file);
      const fd = openCgroupFile(file);
      if (fd === null) return null;
      const entry = { fd, tier, file };
      if (files === undefined) byGroup.set(id, new Map([[name, entry]]));
      else files.set(name, entry);
      open += 1;
      opened[tier] += 1;
      try {
        return readOpen(fd, file);
      } catch (err) {
        forget(id);
        throw err;
      }
    },
    reserve(tick, psi) {
      claimed.tick = tick;
      claimed.psi = psi;
    },
    retain(ids) {
      for (const id of [...byGroup.keys()]) if (!ids.has(id)) forget(id);
    },
    forget,
    kept: () => open,
    close() {
      for (const id of [...byGroup.keys()]) forget(id);
    },
  };
}
