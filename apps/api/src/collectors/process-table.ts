import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  statfsSync,
} from 'node:fs';
import path from 'node:path';
import { PROCESS_COMMAND_MAX } from '@livestat/contracts';
import {
  emptyPidStat,
  isKernelThread,
  parseCmdline,
  parseIo,
  parseLastPid,
  parsePasswd,
  parseSchedRuntime,
  parseStat,
  parseStatusTgid,
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
  schedPath: string;
  /**
   * One descriptor kept open between ticks and re-read from offset 0, -1 when not kept:
   * `schedstat` of a single-threaded process, `stat` of one with more threads.
   */
  statFd: number;
  schedFd: number;
  /**
   * `schedstat`'s run time (ns) read just before `stat` was last read; -1 when unknown. While
   * it stands still a single-threaded process has not run, so its `stat` has not moved.
   */
  runtimeNs: number;
  /** When `stat` was last read (monotonic ms). */
  statReadMs: number;
  /**
   * When this process was last read (`schedstat` or `stat`, monotonic ms): its CPU and I/O
   * counters stood as kept at that time, so the next read's rates are averages since then.
   */
  checkedMs: number;
  /** The time `cpuPercent` is an average over: one tick, or the ticks an idle process was not read. */
  cpuSpanMs: number;
  /** The time the I/O rates are averages over (see {@link IO_REFRESH_MS}). */
  ioSpanMs: number;
  /**
   * Asleep at its last read (state S, I, T or t), one thread, and no CPU used since the read
   * before: read again only every `idleEveryTicks` ticks (see {@link createProcessReader}).
   */
  idle: boolean;
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
  /** The time since the previous reading (monotonic ms); 0 at the first. */
  elapsedMs: number;
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
  /**
   * List the proc root only when `loadavg`'s last created pid moved since the last listing (and
   * at least every {@link LISTING_REFRESH_MS}); between listings, read the processes already
   * known. Only sound when that pid counts in the proc root's pid namespace. Default: whether
   * `procRoot` is a procfs mount whose `self` is this process.
   */
  listOnNewPid?: boolean;
  /**
   * Tell a sleeping single-threaded process by its kept `schedstat` and skip its `stat`
   * (default true on procfs). False reads every `stat` each tick: bench/processes's baseline.
   */
  useSchedstat?: boolean;
  /**
   * An idle process (see {@link ProcessEntry.idle}) is read once every this many ticks, on
   * the ticks where `(tick + pid) % idleEveryTicks` is 0 so the reads spread evenly; 1 reads
   * every process every tick. Default {@link DEFAULT_IDLE_EVERY_TICKS}.
   */
  idleEveryTicks?: number;
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

/** The states of a process that is not running: sleeping, idle (a kernel wait), stopped, traced. */
const SLEEPING = ['S', 'I', 'T', 't'];
const VANISHED = -1;
const DENIED = -2;
const MISSING = -3;
// A passwd file that lacks a uid is read again at most this often (users get added).
const PASSWD_RELOAD_MS = 60_000;
/** The longest a sleeping process's `io` goes unread. */
const IO_REFRESH_MS = 10_000;
/**
 * The longest a single-threaded process that has not run goes without its `stat` read: its
 * CPU time, state, threads and I/O cannot move while it sleeps, but its RSS can shrink (page
 * reclaim). Reading every sleeper's `stat` by path once in this period costs about as much as
 * all the `schedstat` reads over it at 10 s (bench/RESULTS.md), so it is 30 s.
 */
export const STAT_REFRESH_MS = 30_000;
/**
 * `PROCESS_IDLE_EVERY_TICKS`'s default. At 1 Hz with 2,000 sleeping processes one small read
 * per process a tick is most of the collector's cost (~4 µs each in a KVM guest): reading
 * the idle ones every 4th tick brings the whole sampler under 1 % of a core (bench/RESULTS.md).
 */
export const DEFAULT_IDLE_EVERY_TICKS = 4;
/** The longest the proc root goes unlisted while `loadavg`'s last pid stands still. */
export const LISTING_REFRESH_MS = 10_000;
/**
 * Up to this many pids handed out since the last tick are looked up one by one rather than
 * the proc root listed again (listing costs about a microsecond per process; a lookup of a
 * pid that is gone costs a few).
 */
export const MAX_PROBED_PIDS = 256;
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

/** Whether `procRoot` lists this process's pid namespace: its `self` is this process. */
function isOwnPidNamespace(procRoot: string): boolean {
  try {
    return readlinkSync(path.join(procRoot, 'self')) === String(process.pid);
  } catch {
    return false;
  }
}

/**
 * btop's method, made cheaper: each tick reads `<pid>/stat` (and `<pid>/io` of the processes
 * that ran) into one reused buffer, synchronously (procfs files are generated in memory; the
 * async fs layer costs many times more, see bench/RESULTS.md). `cmdline`, the owner and the
 * start time are read once per process, which is known by pid and start time, so a reused pid
 * is a new process. A process that exits between the listing and the read is simply not in
 * the table. Two shortcuts keep a tick near a microsecond or two a process on procfs:
 *
 * - The proc root is not listed each tick: `loadavg`'s fifth field is the last pid handed out,
 *   and pids are handed out in order, so the new processes are among the pids after the one
 *   seen last tick; up to {@link MAX_PROBED_PIDS} of them are looked up one by one, more (or a
 *   wrap-around) make a listing, as does every {@link LISTING_REFRESH_MS}. The known
 *   processes are read as known; one that exited answers ESRCH or ENOENT.
 * - A single-threaded process keeps its `schedstat` open, whose run time moves whenever it
 *   runs (to the nanosecond, unlike `stat`'s clock ticks); while it stands still `stat` cannot
 *   have moved and is not read, but at least every {@link STAT_REFRESH_MS} for its RSS.
 * - An idle process — one thread, asleep (S, I, T, t) and without CPU since the read before —
 *   is not read at all on most ticks: once every `idleEveryTicks`, staggered by pid. Between
 *   reads it keeps its state, RSS and counters, and shows no CPU and no I/O (it cannot do
 *   either without running). Whatever it did meanwhile shows at its next read, as rates
 *   averaged over the whole time since the read before ({@link ProcessEntry.cpuSpanMs}), after
 *   which it is read every tick until a read finds it idle again. So a sleeper's CPU is known
 *   to `idleEveryTicks` ticks, not one, and its exit, its turning zombie or a reuse of its
 *   pid shows within `idleEveryTicks` ticks (at once when the proc root is listed). A process
 *   that runs, is runnable or blocked (R, D), has more threads (its leader's state says
 *   nothing of them) or is new is read every tick.
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
  const known: ProcessEntry[] = [];
  /**
   * Kernel threads, left out of the table, by pid: their kept `schedstat`, through which a
   * listing tells they are still the same threads without reading their `stat` (-1: not kept).
   */
  const kernelThreads = new Map<number, number>();
  /** Pids that exited or turned zombie this tick: their children were given a new parent. */
  const ended = new Set<number>();
  let buf = Buffer.allocUnsafe(4096);
  let generation = 0;
  let lastReadMs: number | null = null;
  let bootMs: number | null = null;
  let users: Map<number, string> | null = null;
  let usersReadMs = -Infinity;
  let keptFds = 0;
  const keepStatFds = options.keepStatFds ?? isProcfs(procRoot);
  const fdBudget = keepStatFds ? keptStatFdBudget() : 0;
  const listOnNewPid = options.listOnNewPid ?? (keepStatFds && isOwnPidNamespace(procRoot));
  const useSchedstat = options.useSchedstat ?? true;
  const idleEvery = options.idleEveryTicks ?? DEFAULT_IDLE_EVERY_TICKS;
  const loadavgPath = path.join(procRoot, 'loadavg');
  let listedLastPid = -1;
  /** Pids handed out but not found at the last tick, looked for once more. */
  const pending: number[] = [];
  let listedAtMs = -Infinity;

  /**
   * Reads `fd` into `buf` (at most `max` bytes, growing `buf` as needed): from offset 0 when
   * `positional` (a kept descriptor read again), else from where it stands. Its length.
   * `whole`: the file is generated whole on each read (procfs's `stat`, `schedstat`, `io`,
   * `status`, `loadavg`: seq_file), so a read that left room was all of it; else (`cmdline`)
   * only an empty read ends it. Most of a tick is these reads, and the empty one that would
   * tell the end costs a third as much again (1,900 kept `schedstat`s: 2.75 µs a file with
   * it, 2.08 µs without).
   */
  function fill(fd: number, max: number, positional: boolean, whole = true): number {
    if (max > buf.length && Number.isFinite(max)) buf = Buffer.allocUnsafe(max);
    let length = 0;
    for (;;) {
      const room = Math.min(buf.length, max) - length;
      const n = readSync(fd, buf, length, room, positional ? length : null);
      if (n === 0) return length;
      length += n;
      if (length === max || (whole && n < room)) return length;
      if (length === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
    }
  }

  /** Reads `file` into `buf` (at most `max` bytes); its length, or a negative code. */
  function readInto(file: string, max = buf.length, whole = true): number {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      return errorCode(err);
    }
    try {
      return fill(fd, max, false, whole);
    } catch (err) {
      return errorCode(err);
    } finally {
      closeSync(fd);
    }
  }

  /** Re-reads a kept descriptor from offset 0 into `buf`: its length, or a code. */
  function rereadKept(fd: number): number {
    try {
      return fill(fd, Infinity, true);
    } catch (err) {
      return errorCode(err);
    }
  }

  /** Opens `file` to keep it; -1 when the budget is spent or it cannot be opened. */
  function keep(file: string): number {
    if (keptFds >= fdBudget) return -1;
    try {
      const fd = openSync(file, 'r');
      keptFds++;
      return fd;
    } catch {
      return -1;
    }
  }

  function release(entry: ProcessEntry): void {
    if (entry.statFd >= 0) {
      closeSync(entry.statFd);
      entry.statFd = -1;
      keptFds--;
    }
    if (entry.schedFd >= 0) {
      closeSync(entry.schedFd);
      entry.schedFd = -1;
      keptFds--;
    }
    entry.runtimeNs = -1;
  }

  /**
   * Keeps the one descriptor that suits `entry` now: `schedstat` when it has one thread,
   * `stat` otherwise. Opened after a read by path, it names this very process (a later reuse
   * of the pid answers ESRCH through it).
   */
  function keepFor(entry: ProcessEntry): void {
    const single = useSchedstat && entry.threads === 1;
    if (single ? entry.schedFd >= 0 : entry.statFd >= 0) return;
    release(entry);
    if (single) entry.schedFd = keep(entry.schedPath);
    else entry.statFd = keep(entry.statPath);
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

  /**
   * The run time in `schedstat` through the kept descriptor of `entry`, -1 when there is none
   * or it cannot be had (the process exited: the descriptor is closed; or no scheduler stats).
   */
  function readRuntime(entry: ProcessEntry): number {
    if (entry.schedFd < 0) return -1;
    const length = rereadKept(entry.schedFd);
    if (length <= 0) {
      release(entry);
      return -1;
    }
    return parseSchedRuntime(buf, length);
  }

  function errorCode(err: unknown): number {
    const code = (err as NodeJS.ErrnoException).code;
    // ESRCH: the process died after the open.
    if (code === 'ENOENT' || code === 'ESRCH') return VANISHED;
    if (code === 'EACCES' || code === 'EPERM') return DENIED;
    throw err;
  }

  /** `loadavg`'s last created pid, -1 when it cannot be read. */
  function lastPid(): number {
    const length = readInto(loadavgPath);
    return length > 0 ? parseLastPid(buf, length) : -1;
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

  /** The command line of the process at `dir`, capped; read into the shared buffer. */
  function readCommand(dir: string): string {
    const length = readInto(path.join(dir, 'cmdline'), PROCESS_COMMAND_MAX * 4, false);
    return length > 0 ? parseCmdline(buf, length, PROCESS_COMMAND_MAX) : '';
  }

  /** The fields read once per process (the name and command line again after an exec). */
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
    entry.cpuSpanMs = 0;
    entry.ioSpanMs = 0;
    entry.readBytesPerSec = null;
    entry.writeBytesPerSec = null;
    // These reuse the buffer `stat` was read into; everything from it was taken above.
    entry.command = readCommand(dir);
    const statusLength = readInto(path.join(dir, 'status'));
    entry.user =
      statusLength > 0 ? userName(parseStatusUid(buf.toString('latin1', 0, statusLength))) : '?';
    entry.pid = pid;
  }

  /**
   * Reads `io` of `entry`, its rates over the time since the last read of it, or over
   * `sinceMs` when known to be shorter (the process did not run before that).
   */
  function readIo(entry: ProcessEntry, at: number, sinceMs = at - entry.ioReadMs): void {
    const ioLength = readInto(entry.ioPath);
    entry.ioReadMs = at;
    entry.ioDenied = ioLength === DENIED;
    // No io file while stat is still there: the kernel lacks task I/O accounting.
    entry.ioMissing = ioLength === VANISHED && readInto(entry.statPath) > 0;
    if (ioLength > 0 && parseIo(buf, ioLength, io)) {
      const known = entry.ioRead && sinceMs > 0;
      entry.readBytesPerSec = known ? rateOf(entry.readBytes, io.readBytes, sinceMs) : 0;
      entry.writeBytesPerSec = known ? rateOf(entry.writeBytes, io.writeBytes, sinceMs) : 0;
      entry.ioSpanMs = known ? sinceMs : 0;
      entry.readBytes = io.readBytes;
      entry.writeBytes = io.writeBytes;
      entry.ioRead = true;
    } else {
      entry.ioRead = false;
      entry.readBytesPerSec = null;
      entry.writeBytesPerSec = null;
    }
  }

  /**
   * Whether a sleeping process's `stat` is due again: it crossed a STAT_REFRESH_MS boundary
   * since the last read, boundaries shifted by pid so processes that started together (a
   * thousand workers) are read over the period, not all in one tick.
   */
  function statDue(entry: ProcessEntry, at: number): boolean {
    const phase = (entry.pid % 100) * (STAT_REFRESH_MS / 100);
    return (
      Math.floor((at + phase) / STAT_REFRESH_MS) !==
      Math.floor((entry.statReadMs + phase) / STAT_REFRESH_MS)
    );
  }

  /**
   * Reads one process for this tick; the entry when it is a live user process, else null.
   * `name` is its directory under the proc root, null for `String(pid)` (made only if needed).
   */
  function visit(
    pid: number,
    name: string | null,
    entry: ProcessEntry | undefined,
    at: number,
  ): ProcessEntry | null {
    if (entry?.idle === true && (generation + pid) % idleEvery !== 0) {
      // Not its turn: as it was, using nothing (see createProcessReader).
      entry.generation = generation;
      entry.cpuPercent = 0;
      if (entry.ioRead) {
        entry.readBytesPerSec = 0;
        entry.writeBytesPerSec = 0;
      }
      return entry;
    }
    let ran = false;
    // Whether it used CPU since it was last read, as far as this read can tell.
    let used = true;
    // A sleeping single-threaded process, known by its kept descriptor: nothing to read.
    const runtime = entry === undefined ? -1 : readRuntime(entry);
    // Whether it ran since the last read is known to the nanosecond; else `stat`'s clock
    // ticks tell, and a process may run for less than one.
    const exact = runtime >= 0 && entry!.runtimeNs >= 0;
    const moved = exact && runtime !== entry!.runtimeNs;
    // Since it was last read: one tick, or more when it was idle.
    const spanMs = entry === undefined ? 0 : at - entry.checkedMs;
    if (exact && !moved && !statDue(entry!, at)) {
      entry = entry!;
      entry.cpuPercent = 0;
      used = false;
    } else {
      name ??= String(pid);
      const statPath = entry ? entry.statPath : path.join(procRoot, name, 'stat');
      const length = readStat(entry, statPath);
      if (length <= 0 || !parseStat(buf, length, stat) || stat.pid !== pid) return null;
      if (isKernelThread(stat)) {
        if (entry === undefined && !kernelThreads.has(pid)) {
          kernelThreads.set(pid, useSchedstat ? keep(path.join(procRoot, name, 'schedstat')) : -1);
        }
        return null;
      }
      if (entry === undefined || entry.startTicks !== stat.startTicks) {
        // A new process, or a new one under a reused pid: nothing of the old one carries over.
        entry ??= {
          statPath,
          ioPath: path.join(procRoot, name, 'io'),
          schedPath: path.join(procRoot, name, 'schedstat'),
          statFd: -1,
          schedFd: -1,
        } as ProcessEntry;
        release(entry);
        byPid.set(pid, entry);
        identify(pid, path.join(procRoot, name), entry);
        ran = true;
        entry.statReadMs = at;
      } else {
        entry.statReadMs = at;
        // An exec keeps the pid and start time but changes the name (and the command line).
        const comm = statComm(buf, stat);
        if (comm !== entry.name) {
          entry.name = comm;
          entry.command = readCommand(path.join(procRoot, name));
        }
        if (spanMs > 0) {
          const ticks = stat.utime + stat.stime;
          ran = runtime !== entry.runtimeNs || ticks !== entry.cpuTicks;
          used = exact ? moved : ticks !== entry.cpuTicks;
          // Over the real time since the last read, which for an idle process spans ticks.
          entry.cpuPercent =
            ticks >= entry.cpuTicks
              ? Math.round(((ticks - entry.cpuTicks) * 1_000_000) / clockTicks / spanMs) / 10
              : 0;
          entry.cpuSpanMs = spanMs;
          entry.cpuTicks = ticks;
        }
        // The run time read before this `stat`: unmoved at the next tick, so is `stat`.
        entry.runtimeNs = runtime;
      }
      if (stat.state === 0x5a && entry.state !== 'Z') ended.add(pid);
      entry.ppid = stat.ppid;
      entry.state = String.fromCharCode(stat.state);
      entry.threads = stat.threads;
      entry.rssBytes = Math.max(0, stat.rssPages) * pageSize;
      keepFor(entry);
    }
    entry.generation = generation;
    entry.checkedMs = at;
    entry.idle = idleEvery > 1 && !used && entry.threads === 1 && SLEEPING.includes(entry.state);
    // A process that did not run cannot have read or written (its io counters move in its
    // own context): most of a host's processes sleep, and skipping their io read halves the
    // cost of a tick. Where only `stat`'s clock ticks tell (a process may run for less than
    // one), each is still read every IO_REFRESH_MS, so nothing is lost, at worst late; a
    // single-threaded process's `schedstat` tells to the nanosecond, so its io is never late.
    // Its io was read at every read that found it ran, so what moved, moved since the last read.
    if (exact && moved) readIo(entry, at, Math.min(spanMs, at - entry.ioReadMs));
    else if (ran || (!exact && at - entry.ioReadMs >= IO_REFRESH_MS)) readIo(entry, at);
    else if (entry.ioRead) {
      entry.readBytesPerSec = 0;
      entry.writeBytesPerSec = 0;
    }
    return entry;
  }

  /**
   * Whether the kernel thread known under `pid` still runs, told by its kept descriptor;
   * when not (or not kept) it is forgotten, and the pid read as any other.
   */
  function stillKernelThread(pid: number): boolean {
    const fd = kernelThreads.get(pid)!;
    if (fd >= 0 && rereadKept(fd) > 0) return true;
    if (fd >= 0) {
      closeSync(fd);
      keptFds--;
    }
    kernelThreads.delete(pid);
    return false;
  }

  /**
   * A process's parent can change while it sleeps: when the parent exits, the kernel hands it
   * to init or a subreaper. Its `stat` is read again for its new ppid.
   */
  function adoptOrphans(): void {
    for (const entry of entries) {
      if (!ended.has(entry.ppid)) continue;
      const length = readStat(entry, entry.statPath);
      if (length <= 0 || !parseStat(buf, length, stat)) continue;
      if (stat.pid === entry.pid && stat.startTicks === entry.startTicks) entry.ppid = stat.ppid;
    }
    ended.clear();
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
    /**
     * Reads `pid`, handed out since the last look, as a new process, unless it is already
     * read, a thread (also a pid, but not listed in the proc root), or gone. A pid that is
     * not there yet (a fork between handing it out and showing the task) is tried once more
     * at the next tick when `retry`.
     */
    const probe = (pid: number, retry: boolean) => {
      if (byPid.get(pid)?.generation === generation) return;
      if (kernelThreads.has(pid) && stillKernelThread(pid)) return;
      const length = existsSync(path.join(procRoot, String(pid)))
        ? readInto(path.join(procRoot, String(pid), 'status'))
        : VANISHED;
      if (length === VANISHED && retry) pending.push(pid);
      if (length <= 0) return;
      const tgid = parseStatusTgid(buf.toString('latin1', 0, length));
      if (tgid !== null && tgid !== pid) return;
      tally(visit(pid, String(pid), byPid.get(pid), at));
    };
    const tally = (entry: ProcessEntry | null) => {
      if (entry === null) return;
      if (entry.ioDenied) ioProblem = DENIED;
      else if (entry.ioMissing && ioProblem === 0) ioProblem = MISSING;
      if (entry.state === 'R') running++;
      else if (entry.state === 'D') blocked++;
      else if (entry.state === 'Z') zombie++;
      threads += entry.threads;
      entries.push(entry);
    };

    // Read before listing: a pid created after this read is listed, or moves it for next time.
    const newest = listOnNewPid ? lastPid() : -1;
    const made = newest - listedLastPid;
    if (
      newest < 0 ||
      listedLastPid < 0 ||
      made < 0 ||
      made > MAX_PROBED_PIDS ||
      at - listedAtMs >= LISTING_REFRESH_MS
    ) {
      let names: string[];
      try {
        names = readdirSync(procRoot);
      } catch (err) {
        throw new CollectorError('read_failed', `cannot list ${procRoot}`, { cause: err });
      }
      listedLastPid = newest;
      listedAtMs = at;
      pending.length = 0;
      for (const name of names) {
        const first = name.charCodeAt(0);
        if (first < 0x30 || first > 0x39) continue;
        const pid = Number(name);
        if (!Number.isInteger(pid) || pid <= 0) continue;
        if (kernelThreads.has(pid) && stillKernelThread(pid)) continue;
        tally(visit(pid, name, byPid.get(pid), at));
      }
    } else {
      // The live processes are the known ones and those among the pids handed out since.
      known.length = 0;
      for (const entry of byPid.values()) known.push(entry);
      for (const entry of known) tally(visit(entry.pid, null, entry, at));
      known.length = 0;
      if (made > 0 || pending.length > 0) {
        const retry = pending.splice(0);
        for (const pid of retry) probe(pid, false);
        for (let pid = listedLastPid + 1; pid <= newest; pid++) probe(pid, true);
        listedLastPid = newest;
      }
    }
    for (const [pid, entry] of byPid) {
      if (entry.generation === generation) continue;
      release(entry);
      byPid.delete(pid);
      ended.add(pid);
    }
    if (ended.size > 0) adoptOrphans();
    return {
      entries,
      total: entries.length,
      running,
      blocked,
      zombie,
      threads,
      ioUnavailableReason: ioProblem === 0 ? null : ioReason(ioProblem),
      elapsedMs,
    };
  }

  function close(): void {
    for (const entry of byPid.values()) release(entry);
    byPid.clear();
    for (const fd of kernelThreads.values()) {
      if (fd < 0) continue;
      closeSync(fd);
      keptFds--;
    }
    kernelThreads.clear();
  }

  return { read, close };
}

function rateOf(previous: number, current: number, elapsedMs: number): number {
  return current > previous ? Math.round(((current - previous) * 1000) / elapsedMs) : 0;
}
