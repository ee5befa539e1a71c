import {
  closeSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  statfsSync,
  type Dirent,
} from 'node:fs';
import path from 'node:path';
import { CollectorError } from './types.js';

// procfs and sysfs files are a few KB generated in memory on read; they never wait on a disk,
// so reading them synchronously costs less than a round trip through the libuv threadpool
// (node_exporter and psutil read them the same way).

// procfs regenerates a file's text whenever it is read from offset 0, so one descriptor per
// file serves every tick and saves the open and close. Regular files (fixture trees, which
// tests swap between readings) are opened afresh each time.
const PROC_SUPER_MAGIC = 0x9fa0;
// Enough for every file the collectors read each tick; more only ever come from tests.
const MAX_KEPT = 32;
const kept = new Map<string, number>();
let buffer = Buffer.allocUnsafe(64 * 1024);

function isProcfs(file: string): boolean {
  try {
    return statfsSync(file).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function keptDescriptor(file: string): number | null {
  const fd = kept.get(file);
  if (fd !== undefined) return fd;
  if (!isProcfs(file)) return null;
  const opened = openSync(file, 'r');
  if (kept.size >= MAX_KEPT) {
    const [oldest, oldFd] = kept.entries().next().value as [string, number];
    kept.delete(oldest);
    closeSync(oldFd);
  }
  kept.set(file, opened);
  return opened;
}

/**
 * Reads a whole file from offset 0 into one shared buffer, grown for big files: procfs and
 * cgroupfs files are read this way without a fresh buffer per read.
 */
export function preadAll(fd: number): string {
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    const n = readSync(fd, buffer, length, buffer.length - length, length);
    if (n === 0) return buffer.toString('utf8', 0, length);
    length += n;
  }
}

function readText(file: string): string {
  const fd = keptDescriptor(file);
  if (fd === null) return readFileSync(file, 'utf8');
  try {
    return preadAll(fd);
  } catch {
    // A descriptor gone bad (its process exited, its namespace went away): reopen once.
    kept.delete(file);
    closeSync(fd);
    const again = keptDescriptor(file);
    return again === null ? readFileSync(file, 'utf8') : preadAll(again);
  }
}

/**
 * Reads one file under a proc (or sys) root. A missing or unreadable file becomes a
 * `CollectorError` naming the path, so the collector's `error` says what was missing.
 */
export function readProcFile(root: string, relativePath: string): string {
  const file = path.join(root, relativePath);
  try {
    return readText(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const reason = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : code;
    throw new CollectorError('read_failed', `cannot read ${file}: ${reason}`, { cause: err });
  }
}

/** Like `readProcFile`, but `null` when the file does not exist (optional sources). */
export function readOptionalProcFile(root: string, relativePath: string): string | null {
  try {
    return readText(path.join(root, relativePath));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const escapeKey = (key: string): string => key.replace(/[()]/g, '\\$&');

/**
 * A parser for `key: value unit` or `key value` lines (meminfo, vmstat) that keeps only
 * `keys`: for each, the number on the last line that parses, as `parseKeyValueLines` would
 * give it, found by one regular-expression scan instead of a map of all ~200 keys.
 */
export function keyValueParser(keys: readonly string[]): (text: string) => Map<string, number> {
  // A key must start a line and be followed by an optional colon and blanks on the same
  // line: that also keeps `pgfault` from matching a longer key such as `pgfault_x`.
  const line = new RegExp(`(?:^|\\n)(${keys.map(escapeKey).join('|')}):?[^\\S\\n]+(-?\\d+)`, 'g');
  return (text) => {
    const values = new Map<string, number>();
    line.lastIndex = 0;
    for (let match = line.exec(text); match !== null; match = line.exec(text)) {
      values.set(match[1] ?? '', Number(match[2]));
    }
    return values;
  };
}

/**
 * Entry names of a directory, sorted; null when it does not exist. `dirsOnly` drops files
 * (resctrl's tasks, schemata); PMU devices are symlinks, so those are listed without it.
 */
export function listEntries(dir: string, dirsOnly: boolean): string[] | null {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  return entries
    .filter((entry) => !dirsOnly || entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
