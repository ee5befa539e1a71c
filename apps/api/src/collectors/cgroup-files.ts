import { closeSync, openSync } from 'node:fs';
import { preadAll } from './procfs.js';

// cgroupfs files are a few hundred bytes generated on read. procfs.ts's shared buffer serves
// every read of a tick: open, read and close cost less than readFileSync's extra fstat and
// fresh buffer, and a tick reads thousands of them on a busy host (bench/cgroups).

/** Error codes that mean the cgroup went away while it was being read. */
const GONE = new Set(['ENOENT', 'ENODEV', 'ESRCH', 'ENOTDIR']);

/** Thrown when a cgroup vanished mid-read: normal when a container stops. */
export class CgroupGoneError extends Error {}

/**
 * Reads a cgroupfs file whole. Null when the file is not there — a controller not enabled for
 * the cgroup, or the cgroup gone before the open (the caller sees every file missing); a
 * `CgroupGoneError` when the cgroup went away between the open and the read.
 */
export function readCgroupFile(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (GONE.has(code)) return null;
    throw err;
  }
  try {
    return preadAll(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // Reading a file of a cgroup removed after the open fails with ENODEV.
    if (GONE.has(code)) throw new CgroupGoneError(file, { cause: err });
    throw err;
  } finally {
    closeSync(fd);
  }
}
