import { z } from 'zod/mini';
import { collectorResult, count, isoTimestamp, rate, text } from './common.js';

/** The orders a process table can be asked for: CPU %, RSS, read + write bytes/s. */
export const PROCESS_SORTS = ['cpu', 'memory', 'io'] as const;
export const processSort = z.enum(PROCESS_SORTS);
export type ProcessSort = z.infer<typeof processSort>;

/** Characters of a command line kept: enough to tell two `java -jar …` apart, not a whole argv. */
export const PROCESS_COMMAND_MAX = 1024;
/** The most rows one `watch_processes` may ask for. */
export const PROCESS_WATCH_MAX_LIMIT = 1000;
/** Rows a `watch_processes` gets when it names no limit. */
export const PROCESS_WATCH_DEFAULT_LIMIT = 100;
/** Processes a snapshot names in each of its top lists (by CPU, by memory, by I/O). */
export const PROCESS_SNAPSHOT_TOP = 5;

const pid = z.number().check(z.int(), z.positive());

/** One row of the full table a `watch_processes` receives: a live process. */
export const processRow = z.object({
  pid,
  ppid: count,
  /** The owner's user name, or the uid as text when the passwd file does not name it. */
  user: text,
  /** `comm`, as the kernel keeps it (at most 15 characters). */
  name: text,
  /** The command line joined by spaces, capped at {@link PROCESS_COMMAND_MAX}; '' for none. */
  command: text.check(z.maxLength(PROCESS_COMMAND_MAX)),
  /** One character of `stat`'s state: R S D Z T t I X (and others older kernels print). */
  state: text.check(z.length(1)),
  threads: count,
  /**
   * CPU time over the time since the process was last read, 100 = one core, as `top` counts
   * it: one interval, except for an idle process (asleep, one thread), which is read every
   * `PROCESS_IDLE_EVERY_TICKS` intervals and shows 0 in between; what it used shows at its
   * next read as the average over those intervals. The I/O rates likewise.
   */
  cpuPercent: z.number().check(z.nonnegative()),
  rssBytes: count,
  /** Null when `/proc/<pid>/io` cannot be read here (see `ioUnavailableReason`). */
  readBytesPerSec: z.nullable(rate),
  writeBytesPerSec: z.nullable(rate),
  startedAt: isoTimestamp,
});
export type ProcessRow = z.infer<typeof processRow>;

/** The short form every snapshot carries: no command line, to keep snapshots small. */
export const processSummary = z.object({
  pid,
  user: text,
  name: text,
  cpuPercent: z.number().check(z.nonnegative()),
  rssBytes: count,
  /** Read + write bytes/s; null when I/O cannot be read here. */
  ioBytesPerSec: z.nullable(rate),
});
export type ProcessSummary = z.infer<typeof processSummary>;

const topPids = z.array(pid).check(z.maxLength(PROCESS_SNAPSHOT_TOP));

/**
 * The snapshot's `processes` section: counts of every process (kernel threads left out) and
 * the top {@link PROCESS_SNAPSHOT_TOP} by CPU, by memory and by I/O, each process listed once
 * in `top` and named by pid in the three orders. An idle process counts as last read (see
 * {@link processRow}'s `cpuPercent`): its exit or turning zombie counts within
 * `PROCESS_IDLE_EVERY_TICKS` intervals.
 */
export const processesMetrics = collectorResult({
  total: count,
  running: count,
  /** In uninterruptible sleep (`D`), usually waiting on I/O. */
  blocked: count,
  zombie: count,
  /** Threads of every counted process. */
  threads: count,
  /** Why I/O figures are null, said once for the section (e.g. not root); null when read. */
  ioUnavailableReason: z.nullable(text),
  top: z.array(processSummary).check(z.maxLength(PROCESS_SNAPSHOT_TOP * 3)),
  topByCpu: topPids,
  topByMemory: topPids,
  /** Empty when I/O cannot be read. */
  topByIo: topPids,
});
export type ProcessesMetrics = z.infer<typeof processesMetrics>;
