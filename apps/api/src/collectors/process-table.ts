import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { PROCESS_COMMAND_MAX } from '@livestat/contracts';
import {
  emptyPidStat,
  isKernelThread,
  parseCmdline,
  parseIo,
  parsePasswd,
  parseStat,
  parseStatusUid,
  statComm,
  type PidIo,
} from './process-stat.js';
import { CollectorError } from './types.js';

/** One live process as the last reading saw it. Reused from tick to tick: copy what you keep. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  name: string;
  command: string;
  user: string;
  /** One character: R S D Z T t I X. */
  state: string;
  threads: number;
  /** 100 = one core. */
  cpuPercent: number;
  rssBytes: number;
  /** Null when `io` could not be read for this process. */
  readBytesPerSec: number | null;
  writeBytesPerSec: number | null;
  /** Start time after boot in clock ticks: with the pid, the process's identity. */
  startTicks: number;
  startedAt: string;
  // Counters of the previous reading, for the next tick's rates.
  cpuTicks: number;
  readBytes: number;
  writeBytes: number;
  ioRead: boolean;
  /** When `io` was last read (monotonic ms), and what stood in the way. */
  ioReadMs: number;
  ioDenied: boolean;
  ioMissing: boolean;
  generation: number;
  statPath: string;
  ioPath: string;
  /** `stat` kept open between ticks and re-read from offset 0; -1 when not kept. */
  statFd: number;
}

/** One reading of every process (kernel threads left out). */
export interface ProcessTable {
  entries: ProcessEntry[];
  total: number;
  running: number;
  blocked: number;
  zombie: number;
  threads: number;
  /** Why some or all `io` files could not be read; null when every one was. */
  ioUnavailableReason: string | null;
}

export interface ProcessReaderOptions {
  procRoot: string;
  /** The host's root filesystem, for `etc/passwd`. */
  rootFs?: string;
  /** Monotonic clock in ms. */
  now: () => number;
  /** USER_HZ; read from `getconf CLK_TCK` when not given. */
  clockTicks?: number;
  /** Bytes per page; read from `getconf PAGESIZE` when not given. */
  pageSize?: number;
  /**
   * Keep `stat` descriptors open between ticks. Only procfs regenerates a file on each read
   * and answers ESRCH once its process is gone; a fixture tree of regular files, replaced
   * between ticks, must be read by path. Default: whether `procRoot` is a procfs mount.
   */
  keepStatFds?: boolean;
}

/** Reads the process table; each call is one tick. */
export interface ProcessReader {
  read(): ProcessTable;
  /** Closes the `stat` descriptors kept between ticks. Safe to call twice. */
  close(): void;
}

/** `getconf NAME` as a positive integer, or `fallback` where getconf is missing. */
function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * How many `stat` descriptors this process may keep: {@link MAX_KEPT_STAT_FDS}, but never more
 * than a quarter of its soft open-files limit, so sockets and database connections never run
 * short because of them. 0 when the limit cannot be read.
 */
export function keptStatFdBudget(limits = '/proc/self/limits'): number {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined) return 0;
    if (soft === 'unlimited') return MAX_KEPT_STAT_FDS;
    const value = Number(soft);
    return Number.isFinite(value)
      ? Math.max(0, Math.min(MAX_KEPT_STAT_FDS, Math.floor(value / 4)))
      : 0;
  } catch {
    return 0;
  }
}

function isProcfs(dir: string): boolean {
  try {
    return statfsSync(dir).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

const VANISHED = -1;
const DENIED = -2;
const MISSING = -3;
// A passwd file that lacks a uid is read again at most this often (users get added).
const PASSWD_RELOAD_MS = 60_000;
/** The longest a sleeping process's `io` goes unread. */
const IO_REFRESH_MS = 10_000;
/**
 * How many `stat` files stay open between ticks. Re-reading an open procfs file from offset 0
 * costs about half of open + read + close (most of a tick is that kernel work: bench/RESULTS.md);
 * past this many processes the rest are opened each tick, so the descriptors stay bounded.
 */
export const MAX_KEPT_STAT_FDS = 4096;

/** Why `io` was unreadable, said once for the whole table. */
export function ioReason(code: typeof DENIED | typeof MISSING): string {
  return code === DENIED
    ? 'permission denied reading /proc/<pid>/io of some processes (needs root with CAP_SYS_PTRACE)'
    : '/proc/<pid>/io not found (kernel without task I/O accounting)';
}

/**
 * btop's method: each tick lists the proc root and reads only `<pid>/stat` and `<pid>/io`,
 * into one reused buffer, synchronously (procfs files are generated in memory; the async fs
 * layer costs many times more, see bench/RESULTS.md). `cmdline`, the owner and the start time
 * are read once per process, which is known by pid and start time, so a reused pid is a new
 * process. A process that exits between the listing and the read is simply not in the table.
 */
export function createProcessReader(options: ProcessReaderOptions): ProcessReader {
  const { procRoot, now } = options;
  const rootFs = options.rootFs ?? '/';
  const clockTicks = options.clockTicks ?? getconf('CLK_TCK', 100);
  const pageSize = options.pageSize ?? getconf('PAGESIZE', 4096);
  const byPid = new Map<number, ProcessEntry>();
  const stat = emptyPidStat();
  const io: PidIo = { readBytes: 0, writeBytes: 0 };
  const entries: ProcessEntry[] = [];
  let buf = Buffer.allocUnsafe(4096);
  let generation = 0;
  let lastReadMs: number | null = null;
  let bootMs: number | null = null;
  let users: Map<number, string> | null = null;
  let usersReadMs = -Infinity;
  let keptFds = 0;
  const keepStatFds = options.keepStatFds ?? isProcfs(procRoot);
  const fdBudget = keepStatFds ? keptStatFdBudget() : 0;

  /**
   * Reads `fd` into `buf` (at most `max` bytes, growing `buf` as needed): from offset 0 when
   * `positional` (a kept descriptor read again), else from where it stands. Its length.
   */
  function fill(fd: number, max: number, positional: boolean): number {
    if (max > buf.length && Number.isFinite(max)) buf = Buffer.allocUnsafe(max);
    let length = 0;
    for (;;) {
      const room = Math.min(buf.length, max) - length;
      const n = readSync(fd, buf, length, room, positional ? length : null);
      if (n === 0) return length;
      length += n;
      if (length === max) return length;
      if (length === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
    }
  }

  /** Reads `file` into `buf` (at most `max` bytes); its length, or a negative code. */
  function readInto(file: string, max = buf.length): number {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      return errorCode(err);
    }
    try {
      return fill(fd, max, false);
    } catch (err) {
      return errorCode(err);
    } finally {
      closeSync(fd);
    }
  }

  /** Re-reads a kept `stat` descriptor from offset 0 into `buf`: its length, or a code. */
  function rereadKept(fd: number): number {
    try {
      return fill(fd, Infinity, true);
    } catch (err) {
      return errorCode(err);
    }
  }

  /** Opens `stat` to keep it; -1 when the budget is spent or it cannot be opened. */
  function keep(statPath: string): number {
    if (keptFds >= fdBudget) return -1;
    try {
      const fd = openSync(statPath, 'r');
      keptFds++;
      return fd;
    } catch {
      return -1;
    }
  }

  function release(entry: ProcessEntry): void {
    if (entry.statFd < 0) return;
    closeSync(entry.statFd);
    entry.statFd = -1;
    keptFds--;
  }

  /**
   * `stat` of `pid` into `buf`. A kept descriptor that answers ESRCH belongs to a process that
   * has exited (its pid may already be someone else's): it is closed and the path read afresh.
   */
  function readStat(entry: ProcessEntry | undefined, statPath: string): number {
    if (entry !== undefined && entry.statFd >= 0) {
      const length = rereadKept(entry.statFd);
      if (length > 0) return length;
      release(entry);
    }
    return readInto(statPath);
  }

  function errorCode(err: unknown): number {
    const code = (err as NodeJS.ErrnoException).code;
    // ESRCH: the process died after the open.
    if (code === 'ENOENT' || code === 'ESRCH') return VANISHED;
    if (code === 'EACCES' || code === 'EPERM') return DENIED;
    throw err;
  }

  function bootTimeMs(): number {
    if (bootMs !== null) return bootMs;
    const text = readFileSync(path.join(procRoot, 'stat'), 'utf8');
    const match = /^btime\s+(\d+)/m.exec(text);
    if (!match) throw new CollectorError('parse_failed', `no btime in ${procRoot}/stat`);
    bootMs = Number(match[1]) * 1000;
    return bootMs;
  }

  function userName(uid: number | null): string {
    if (uid === null) return '?';
    const at = now();
    if (users === null || (!users.has(uid) && at - usersReadMs > PASSWD_RELOAD_MS)) {
      usersReadMs = at;
      try {
        users = parsePasswd(readFileSync(path.join(rootFs, 'etc/passwd'), 'utf8'));
      } catch {
        users = new Map();
      }
    }
    return users.get(uid) ?? String(uid);
  }

  /** The fields read once per process: name, command line, owner, start time. */
  function identify(pid: number, dir: string, entry: ProcessEntry): void {
    entry.name = statComm(buf, stat);
    entry.startTicks = stat.startTicks;
    entry.startedAt = new Date(
      Math.round(bootTimeMs() + (stat.startTicks * 1000) / clockTicks),
    ).toISOString();
    entry.cpuTicks = stat.utime + stat.stime;
    entry.ioRead = false;
    entry.ioReadMs = -Infinity;
    entry.ioDenied = false;
    entry.ioMissing = false;
    entry.cpuPercent = 0;
    entry.readBytesPerSec = null;
    entry.writeBytesPerSec = null;
    // These reuse the buffer `stat` was read into; everything from it was taken above.
    const cmdLength = readInto(path.join(dir, 'cmdline'), PROCESS_COMMAND_MAX * 4);
    entry.command = cmdLength > 0 ? parseCmdline(buf, cmdLength, PROCESS_COMMAND_MAX) : '';
    const statusLength = readInto(path.join(dir, 'status'));
    entry.user =
      statusLength > 0 ? userName(parseStatusUid(buf.toString('latin1', 0, statusLength))) : '?';
    entry.pid = pid;
  }

  /** Reads `io` of `entry`, its rates over the time since the last read of it. */
  function readIo(entry: ProcessEntry, at: number, statPath: string): void {
    const ioLength = readInto(entry.ioPath);
    const sinceMs = at - entry.ioReadMs;
    entry.ioReadMs = at;
    entry.ioDenied = ioLength === DENIED;
    // No io file while stat is still there: the kernel lacks task I/O accounting.
    entry.ioMissing = ioLength === VANISHED && readInto(statPath) > 0;
    if (ioLength > 0 && parseIo(buf, ioLength, io)) {
      const known = entry.ioRead && sinceMs > 0;
      entry.readBytesPerSec = known ? rateOf(entry.readBytes, io.readBytes, sinceMs) : 0;
      entry.writeBytesPerSec = known ? rateOf(entry.writeBytes, io.writeBytes, sinceMs) : 0;
      entry.readBytes = io.readBytes;
      entry.writeBytes = io.writeBytes;
      entry.ioRead = true;
    } else {
      entry.ioRead = false;
      entry.readBytesPerSec = null;
      entry.writeBytesPerSec = null;
    }
  }

  function read(): ProcessTable {
    const at = now();
    const elapsedMs = lastReadMs === null ? 0 : at - lastReadMs;
    lastReadMs = at;
    generation += 1;
    entries.length = 0;
    let running = 0;
    let blocked = 0;
    let zombie = 0;
    let threads = 0;
    let ioProblem: typeof DENIED | typeof MISSING | 0 = 0;
    let names: string[];
    try {
      names = readdirSync(procRoot);
    } catch (err) {
      throw new CollectorError('read_failed', `cannot list ${procRoot}`, { cause: err });
    }
    for (const name of names) {
      const first = name.charCodeAt(0);
      if (first < 0x30 || first > 0x39) continue;
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      let entry = byPid.get(pid);
      const statPath = entry ? entry.statPath : path.join(procRoot, name, 'stat');
      const length = readStat(entry, statPath);
      if (length <= 0 || !parseStat(buf, length, stat) || stat.pid !== pid) continue;
      if (isKernelThread(stat)) continue;
      let ran = false;
      if (entry === undefined || entry.startTicks !== stat.startTicks) {
        // A new process, or a new one under a reused pid: nothing of the old one carries over.
        entry ??= { statPath, ioPath: path.join(procRoot, name, 'io'), statFd: -1 } as ProcessEntry;
        release(entry);
        byPid.set(pid, entry);
        identify(pid, path.join(procRoot, name), entry);
        // Kept from the next tick on: this one was read by path, and a descriptor opened now
        // names this very process (a later reuse of the pid answers ESRCH through it).
        entry.statFd = keep(statPath);
        ran = true;
      } else if (elapsedMs > 0) {
        const ticks = stat.utime + stat.stime;
        ran = ticks !== entry.cpuTicks;
        entry.cpuPercent =
          ticks >= entry.cpuTicks
            ? Math.round(((ticks - entry.cpuTicks) * 1_000_000) / clockTicks / elapsedMs) / 10
            : 0;
        entry.cpuTicks = ticks;
      }
      entry.generation = generation;
      entry.ppid = stat.ppid;
      entry.state = String.fromCharCode(stat.state);
      entry.threads = stat.threads;
      entry.rssBytes = Math.max(0, stat.rssPages) * pageSize;

      // A process that did not run cannot have read or written (its io counters move in its
      // own context): most of a host's processes sleep, and skipping their io read halves the
      // cost of a tick. Each is still read every IO_REFRESH_MS, so nothing is lost, at worst late.
      if (ran || at - entry.ioReadMs >= IO_REFRESH_MS) readIo(entry, at, statPath);
      else if (entry.ioRead) {
        entry.readBytesPerSec = 0;
        entry.writeBytesPerSec = 0;
      }
      if (entry.ioDenied) ioProblem = DENIED;
      else if (entry.ioMissing && ioProblem === 0) ioProblem = MISSING;

      if (stat.state === 0x52) running++;
      else if (stat.state === 0x44) blocked++;
      else if (stat.state === 0x5a) zombie++;
      threads += stat.threads;
      entries.push(entry);
    }
    for (const [pid, entry] of byPid) {
      if (entry.generation === generation) continue;
      release(entry);
      byPid.delete(pid);
    }
    return {
      entries,
      total: entries.length,
      running,
      blocked,
      zombie,
      threads,
      ioUnavailableReason: ioProblem === 0 ? null : ioReason(ioProblem),
    };
  }

  function close(): void {
    for (const entry of byPid.values()) release(entry);
    byPid.clear();
  }

  return { read, close };
}

function rateOf(previous: number, current: number, elapsedMs: number): number {
  return current > previous ? Math.round(((current - previous) * 1000) / elapsedMs) : 0;
}
