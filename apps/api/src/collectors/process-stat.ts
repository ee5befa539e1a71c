// Pure parsers for the per-process files of procfs (proc(5)). They read bytes, not strings:
// a tick reads `stat` of every process, and decoding thousands of lines into strings only to
// split them again is most of what makes a process table expensive in a garbage-collected
// runtime. `parseStat` writes into an object the caller reuses.

const SPACE = 0x20;
const OPEN = 0x28; // (
const CLOSE = 0x29; // )
const ZERO = 0x30;
const NINE = 0x39;
const NEWLINE = 0x0a;

/** `PF_KTHREAD` in `stat`'s flags: the task is a kernel thread. */
const PF_KTHREAD = 0x00200000;

/** The fields of `/proc/<pid>/stat` a process table needs, filled in by {@link parseStat}. */
export interface PidStat {
  pid: number;
  /** Byte offsets of `comm` (between the first `(` and the last `)`), decoded only when needed. */
  commStart: number;
  commEnd: number;
  /** One character code: R S D Z T t I X … */
  state: number;
  ppid: number;
  flags: number;
  /** User and system time, in clock ticks (USER_HZ). */
  utime: number;
  stime: number;
  threads: number;
  /** Start time after boot, in clock ticks: with the pid, the identity of a process. */
  startTicks: number;
  /** Resident pages. */
  rssPages: number;
}

/** A fresh {@link PidStat} to reuse across calls. */
export function emptyPidStat(): PidStat {
  return {
    pid: 0,
    commStart: 0,
    commEnd: 0,
    state: 0,
    ppid: 0,
    flags: 0,
    utime: 0,
    stime: 0,
    threads: 0,
    startTicks: 0,
    rssPages: 0,
  };
}

// The fields after `comm`, counted from 0 at `state` (field 3 in proc(5)).
const F_PPID = 1;
const F_FLAGS = 6;
const F_UTIME = 11;
const F_STIME = 12;
const F_THREADS = 17;
const F_START = 19;
const F_RSS = 21;

/**
 * Parses `/proc/<pid>/stat` held in `buf[0, length)` into `out`. `comm` may hold spaces and
 * parentheses (`(sd-pam)`, `tmux: server`, even `a) S 1 (b`): it runs from the first `(` to
 * the last `)`, as the kernel writes no `)` after it. Returns false for text that is not a
 * stat line (empty: the process exited while it was read).
 */
export function parseStat(buf: Uint8Array, length: number, out: PidStat): boolean {
  let i = 0;
  let pid = 0;
  while (i < length && buf[i]! >= ZERO && buf[i]! <= NINE) pid = pid * 10 + buf[i++]! - ZERO;
  if (i === 0 || buf[i] !== SPACE || buf[i + 1] !== OPEN) return false;
  const commStart = i + 2;
  let close = length - 1;
  while (close > commStart && buf[close] !== CLOSE) close--;
  if (buf[close] !== CLOSE || buf[close + 1] !== SPACE) return false;
  out.pid = pid;
  out.commStart = commStart;
  out.commEnd = close;
  i = close + 2;
  out.state = buf[i]!;
  i += 1;
  let field = 0;
  while (field < F_RSS && i < length) {
    // Each field is preceded by one space; numbers are decimal, some may be negative.
    i++;
    field++;
    let negative = false;
    if (buf[i] === 0x2d) {
      negative = true;
      i++;
    }
    let value = 0;
    while (i < length && buf[i]! >= ZERO && buf[i]! <= NINE) value = value * 10 + buf[i++]! - ZERO;
    if (negative) value = -value;
    switch (field) {
      case F_PPID:
        out.ppid = value;
        break;
      case F_FLAGS:
        out.flags = value;
        break;
      case F_UTIME:
        out.utime = value;
        break;
      case F_STIME:
        out.stime = value;
        break;
      case F_THREADS:
        out.threads = value;
        break;
      case F_START:
        out.startTicks = value;
        break;
      case F_RSS:
        out.rssPages = value;
        break;
    }
    // Skip whatever is left of the field (none for well-formed numbers).
    while (i < length && buf[i] !== SPACE && buf[i] !== NEWLINE) i++;
  }
  return field === F_RSS;
}

/** True for a kernel thread: kthreadd itself (pid 2), its children, or a PF_KTHREAD task. */
export function isKernelThread(stat: PidStat): boolean {
  return stat.pid === 2 || stat.ppid === 2 || (stat.flags & PF_KTHREAD) !== 0;
}

/** `comm` of a parsed stat, decoded from the same buffer. */
export function statComm(buf: Uint8Array, stat: PidStat): string {
  return Buffer.from(buf.buffer, buf.byteOffset + stat.commStart, stat.commEnd - stat.commStart)
    .toString('utf8')
    .replaceAll('\u0000', '');
}

/** Bytes read from and written to storage, from `/proc/<pid>/io` (`read_bytes`, `write_bytes`). */
export interface PidIo {
  readBytes: number;
  writeBytes: number;
}

/**
 * Parses `/proc/<pid>/io` held in `buf[0, length)` into `out`; false when either field is
 * missing. Byte-level like {@link parseStat}: it runs once per process per tick.
 */
export function parseIo(buf: Uint8Array, length: number, out: PidIo): boolean {
  let found = 0;
  let i = 0;
  while (i < length) {
    // At the start of a line: `read_bytes: N` or `write_bytes: N`.
    const target =
      buf[i] === 0x72 && buf[i + 4] === 0x5f && buf[i + 5] === 0x62 // r..._b
        ? 1
        : buf[i] === 0x77 && buf[i + 5] === 0x5f && buf[i + 6] === 0x62 // w...._b
          ? 2
          : 0;
    while (i < length && buf[i] !== 0x3a && buf[i] !== NEWLINE) i++; // to ':'
    if (target !== 0 && buf[i] === 0x3a) {
      i++;
      while (buf[i] === SPACE) i++;
      let value = 0;
      while (i < length && buf[i]! >= ZERO && buf[i]! <= NINE)
        value = value * 10 + buf[i++]! - ZERO;
      if (target === 1) out.readBytes = value;
      else out.writeBytes = value;
      found |= target;
    }
    while (i < length && buf[i] !== NEWLINE) i++;
    i++;
  }
  return found === 3;
}

/** The thread group (the process) of `/proc/<pid>/status`, its `Tgid:`; null when none. */
export function parseStatusTgid(text: string): number | null {
  const match = /^Tgid:\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** The real uid from `/proc/<pid>/status`'s `Uid:` line; null when there is none. */
export function parseStatusUid(text: string): number | null {
  const match = /^Uid:\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/**
 * `/proc/<pid>/cmdline` (arguments separated and ended by NUL) as one line: arguments joined
 * by spaces, capped at `max` characters; '' for a process without one (a zombie).
 */
export function parseCmdline(buf: Uint8Array, length: number, max: number): string {
  let end = length;
  while (end > 0 && buf[end - 1] === 0) end--;
  const text = Buffer.from(buf.buffer, buf.byteOffset, end).toString('utf8');
  const joined = text.replaceAll('\u0000', ' ');
  if (joined.length <= max) return joined;
  // Cut at a character boundary, never inside a surrogate pair.
  const last = joined.charCodeAt(max - 1);
  return joined.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** User names by uid from a passwd file (`name:x:uid:…`); the first entry of a uid wins. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , uid] = line.split(':');
    if (!name || uid === undefined || !/^\d+$/.test(uid)) continue;
    const id = Number(uid);
    if (!users.has(id)) users.set(id, name.replaceAll('\u0000', ''));
  }
  return users;
}

/** The number of `buf[0, length)`'s last space-separated field; -1 when there is none. */
function lastField(buf: Uint8Array, length: number): number {
  let end = length;
  while (end > 0 && (buf[end - 1] === NEWLINE || buf[end - 1] === SPACE)) end--;
  let start = end;
  while (start > 0 && buf[start - 1] !== SPACE) start--;
  let value = 0;
  let i = start;
  while (i < end && buf[i]! >= ZERO && buf[i]! <= NINE) value = value * 10 + buf[i++]! - ZERO;
  return i > start ? value : -1;
}

/**
 * The last pid the kernel handed out (in the reader's pid namespace), the fifth field of
 * `/proc/loadavg` (`0.12 0.08 0.01 1/212 4242`); -1 for text that is not a loadavg line.
 */
export function parseLastPid(buf: Uint8Array, length: number): number {
  let fields = 1;
  for (let i = 0; i < length && buf[i] !== NEWLINE; i++) if (buf[i] === SPACE) fields++;
  return fields === 5 ? lastField(buf, length) : -1;
}

/**
 * The run time in nanoseconds, the first field of `/proc/<pid>/schedstat`
 * (`run_ns wait_ns timeslices`); -1 when it is missing or 0, as a kernel without scheduler
 * statistics writes `0 0 0` (every live process has run). Past 2^53 ns (104 days of CPU) the
 * value is rounded, to a few ns: still enough to tell that it moved.
 */
export function parseSchedRuntime(buf: Uint8Array, length: number): number {
  let value = 0;
  let i = 0;
  while (i < length && buf[i]! >= ZERO && buf[i]! <= NINE) value = value * 10 + buf[i++]! - ZERO;
  return i > 0 && (buf[i] === SPACE || buf[i] === NEWLINE) && value > 0 ? value : -1;
}
